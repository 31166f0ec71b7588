//! `santei serve` refuses plain HTTP on a non-loopback address (unless --insecure-dev).

#[test]
fn non_loopback_without_tls_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_santei"))
        .args(["serve", "--listen", "0.0.0.0:0", "--sample-master", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without TLS") && err.contains("--insecure-dev"), "{err}");
}
