//! The `santei master …` command contract, end to end through the binary.

use std::process::Command;

fn santei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_santei"))
}

#[test]
fn demo_runs_on_sample_data() {
    let out = santei().arg("demo").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2024-06-01  111000110 初診料") && text.contains("291点"), "{text}");
    assert!(text.contains("2024-05-31  111000110 初診料") && text.contains("288点"), "{text}");
    // The month: 554点, 1,080円 + 590円 at the window, a UKE file that checks clean.
    assert!(text.contains("合計 554点"), "{text}");
    assert!(text.contains("1080円") && text.contains("590円") && text.contains("月合計 1670円"), "{text}");
    assert!(text.contains("GO,1,554,99"), "{text}");
    assert!(text.contains("check: 1 receipts, 554 points, 0 errors, 0 warnings"), "{text}");
}

#[test]
fn import_then_show_json_after_shared() {
    let Some(shared) = santei_core::shared::dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let imp = santei()
        .args(["master", "import"])
        .arg(shared.join("data/ssk"))
        .arg(shared.join("data/tensuhyo"))
        .args(["--data-dir", d])
        .output()
        .unwrap();
    assert!(imp.status.success(), "{}", String::from_utf8_lossy(&imp.stderr));

    let out = santei().args(["master", "show", "111000110", "--date", "2024-06-01", "--json", "--data-dir", d]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["points"], 291);
    assert_eq!(v["kind"], "procedure");
    assert_eq!(v["name"], "初診料");
    assert_eq!(v["valid_from"], "2024-06-01");

    let out = santei().args(["master", "show", "620098801", "--date", "2024-06-01", "--json", "--data-dir", d]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["kind"].as_str(), v["price_yen"].as_str()), (Some("drug"), Some("10.10")));

    // A code that does not exist on the date: exit 1 and a clear message.
    let out = santei().args(["master", "show", "111000110", "--date", "1999-01-01", "--data-dir", d]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid on 1999-01-01"));

    let out = santei().args(["master", "history", "112007410", "--json", "--data-dir", d]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pts: Vec<i64> = v.as_array().unwrap().iter().map(|e| e["points"].as_i64().unwrap()).collect();
    assert_eq!(pts.last(), Some(&75));
    assert!(pts.contains(&73));

    let out = santei().args(["master", "stats", "--json", "--data-dir", d]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kinds"][0]["kind"], "procedure");

    let out = santei().args(["master", "search", "しょしんりょう", "--kind", "procedure", "--date", "2024-06-01", "--data-dir", d]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("111000110"));
}

#[test]
fn failed_import_keeps_store_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let bad = dir.path().join("s_bad.csv");
    std::fs::write(&bad, "\"0\",\"S\",\"111000110\"\r\n".as_bytes()).unwrap();
    let out = santei().args(["master", "import"]).arg(&bad).args(["--data-dir", d]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s_bad.csv:1") && err.contains("E_COLUMNS"), "{err}");
    assert!(!dir.path().join("master.snapshot").exists());
}
