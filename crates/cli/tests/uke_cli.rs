//! `santei uke check` with a master store: codes valid in the 診療年月 and fixed points priced as
//! the master says (the store adapter in crates/cli/src/catalog.rs).

use std::process::Command;

fn santei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_santei"))
}

const HANDMADE: &str = "IR,1,13,1,1234567,,テスト内科クリニック,202506,00,03-1234-5678\r\n\
RE,1,1112,202505,山田　太郎,1,19800115,,,,,,,00001,,,,,,,,,,,,,,,,,,,,,,,ヤマダタロウ,\r\n\
HO,01130012,12345678,123,1,291,,,,,,,,,\r\n\
SY,4659007,20250508,1,,,01,\r\n\
SI,11,1,111000110,,POINTS,1,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,,,,,,,,\r\n\
GO,1,POINTS,99\r\n\u{1A}";

#[test]
fn master_checks_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The sample master (same rows as the official files) as the store.
    let snap = santei_master::sample::snapshot().unwrap();
    snap.save(&data).unwrap();
    let write = |name: &str, points: &str| {
        let p = dir.path().join(name);
        let text = HANDMADE.replace("POINTS", points).replace("HO,01130012,12345678,123,1,291", &format!("HO,01130012,12345678,123,1,{points}"));
        std::fs::write(&p, santei_core::sjis::encode(&text).unwrap()).unwrap();
        p
    };
    let run = |p: &std::path::Path| {
        let out = santei().args(["uke", "check", "--json", "--data-dir"]).arg(&data).arg(p).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    // 初診料 in 2025-05 is 291 in the master: clean.
    let (code, v) = run(&write("ok.UKE", "291"));
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["files"][0]["total_points"], 291);
    // 288 was the 令和4年度 value: priced wrongly for 2025-05 → U402.
    let (code, v) = run(&write("old.UKE", "288"));
    assert_eq!(code, Some(1));
    let codes: Vec<&str> = v["files"][0]["errors"].as_array().unwrap().iter().filter_map(|e| e["code"].as_str()).collect();
    assert!(codes.contains(&"U402"), "{v}");
}
