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

/// 安全管理ガイドライン: the service refuses to start while an account has a known default
/// password (the seed's `administrator/P@ssw0rd`), and starts once it is reset.
#[test]
fn serve_refuses_to_start_with_a_default_password() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let cfg = t.path().join("cfg");
    let santei = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_santei"));
        c.env("XDG_CONFIG_HOME", &cfg).env_remove("SANTEI_DATA");
        c
    };
    let o = santei()
        .args(["admin", "init", "--tenant", "1310000001", "--user", "administrator", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // With only the generated one-time password, the service starts.
    let mut child = santei()
        .args(["serve", "--listen", "127.0.0.1:0", "--sample-master", "--data-dir"])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.starts_with("listening on"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
    // Someone writes the default password straight into the database (the attack the check is for):
    // a valid Argon2id hash of P@ssw0rd, marked as if it had passed the current policy.
    let hash = santei_security::password::hash_password(&santei_security::password::HashParams::default(), "P@ssw0rd").unwrap();
    let db = rusqlite::Connection::open(data.join("santei.db")).unwrap();
    let n = db.execute("UPDATE security_users SET password_hash = ?1 WHERE name = 'administrator'", [&hash]).unwrap();
    assert_eq!(n, 1);
    drop(db);
    let out = santei()
        .args(["serve", "--listen", "127.0.0.1:0", "--sample-master", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve must refuse to start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("weak or default passwords") && err.contains("administrator"), "{err}");
    assert!(!err.contains("P@ssw0rd"), "the password itself is never printed");
}
