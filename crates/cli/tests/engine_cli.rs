//! `santei calc --json` with insurance (the window copay) and `santei uke write` → `santei uke check`
//! through the binary (santei-engine).

use std::path::PathBuf;
use std::process::Command;

fn santei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_santei"))
}

fn engine_file(rel: &str) -> PathBuf {
    std::env::current_dir().expect("cwd").join("../engine/tests/").join(rel)
}

/// The `input` object of a golden case, written to a temp file.
fn golden_input(dir: &std::path::Path, name: &str) -> PathBuf {
    let case: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(engine_file(&format!("golden/{name}.json"))).unwrap()).unwrap();
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, serde_json::to_string(&case["input"]).unwrap()).unwrap();
    p
}

#[test]
fn calc_json_has_the_window_copay() {
    let out = santei().args(["calc", "--sample", "--json"]).arg(engine_file("data/handmade_202505.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_points"], 554);
    // DOMAIN §3.2: 359点 → 1,080円, 195点 → 590円
    assert_eq!(v["copay"], serde_json::json!({"visits": [{"date": "2025-05-08", "yen": 1080}, {"date": "2025-05-15", "yen": 590}], "month_total_yen": 1670}));

    // the ceiling case: 70–74 一般, 外来 limit 18,000円 reached on the third visit
    let dir = tempfile::tempdir().unwrap();
    let p = golden_input(dir.path(), "ceiling_70to74_ippan");
    let out = santei().args(["calc", "--sample", "--json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let yen: Vec<i64> = v["copay"]["visits"].as_array().unwrap().iter().map(|x| x["yen"].as_i64().unwrap()).collect();
    assert_eq!(yen, vec![7780, 7350, 2870, 0]);
    assert_eq!(v["copay"]["month_total_yen"], 18000);

    // human form shows the copay too
    let out = santei().args(["calc", "--sample"]).arg(engine_file("data/handmade_202505.json")).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1,080円") && text.contains("1,670円"), "{text}");
}

#[test]
fn calc_without_insurance_has_no_copay_and_bad_insurance_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(engine_file("data/handmade_202505.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("insurance");
    let p = dir.path().join("plain.json");
    std::fs::write(&p, v.to_string()).unwrap();
    let out = santei().args(["calc", "--sample", "--json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(j.get("copay").is_none());

    v["insurance"] = serde_json::json!({"insurer": "01130012", "relation": "spouse"});
    std::fs::write(&p, v.to_string()).unwrap();
    let out = santei().args(["calc", "--sample", "--json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("insurance.relation"), "{err}");
}

#[test]
fn uke_write_then_check() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let inputs = [
        engine_file("data/handmade_202505.json"),
        golden_input(dir.path(), "ceiling_70to74_ippan"),
        golden_input(dir.path(), "kouhi54_cap_mid_month"),
        golden_input(dir.path(), "preschool_child"),
    ];
    // a 後期 patient goes to the 国保連 file
    let mut kouki: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&inputs[0]).unwrap()).unwrap();
    kouki["patient"]["birth_date"] = serde_json::json!("1948-04-02");
    kouki["insurance"] = serde_json::json!({"insurer": "39131032", "number": "12345678", "income_class": "一般"});
    let kp = dir.path().join("kouki.json");
    std::fs::write(&kp, kouki.to_string()).unwrap();

    let out = santei().args(["uke", "write", "--sample", "--month", "2025-05", "-o"]).arg(&out_dir).args(&inputs).arg(&kp).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let shaho = out_dir.join("shaho/RECEIPTC.UKE");
    let kokuho = out_dir.join("kokuho/RECEIPTC.UKE");
    for p in [&shaho, &kokuho] {
        let out = santei().args(["uke", "check", "--json"]).arg(p).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["files"][0]["errors"].as_array().unwrap().len(), 0);
    }
    let v: serde_json::Value = serde_json::from_slice(&santei().args(["uke", "check", "--json"]).arg(&shaho).output().unwrap().stdout).unwrap();
    // 554 + 11,916 + 6,441 + 531 (golden cases)
    assert_eq!(v["files"][0]["receipts"], 4);
    assert_eq!(v["files"][0]["total_points"], 554 + 11916 + 6441 + 531);
    // 支払基金 file: IR 審査支払機関 1; 国保連 file: 2 (別表1)
    assert!(std::fs::read(&shaho).unwrap().starts_with(b"IR,1,13,1,1234567"));
    assert!(std::fs::read(&kokuho).unwrap().starts_with(b"IR,2,13,1,1234567"));

    // the handmade example alone is reproduced byte for byte
    if let Some(shared) = santei_core::shared::dir() {
        let one = dir.path().join("one");
        let out = santei().args(["uke", "write", "--sample", "--month", "2025-05", "-o"]).arg(&one).arg(&inputs[0]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(std::fs::read(one.join("shaho/RECEIPTC.UKE")).unwrap(), std::fs::read(shared.join("testdata/uke/handmade/example_outpatient_202505.UKE")).unwrap());
    }

    // wrong month: exit 1, nothing written
    let bad = dir.path().join("bad");
    let out = santei().args(["uke", "write", "--sample", "--month", "2025-06", "-o"]).arg(&bad).arg(&inputs[0]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!bad.exists());
    // a malformed --month is a usage error
    let out = santei().args(["uke", "write", "--sample", "--month", "202505", "-o"]).arg(&bad).arg(&inputs[0]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
