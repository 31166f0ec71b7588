//! Every worked example in ../shared/testdata/copay/cases.json through the CLI contract
//! `santei copay CASE.json --json`, exactly (whole case and bare `input` object).

use std::process::Command;

#[test]
fn all_shared_cases_through_the_cli() {
    let Some(shared) = santei_core::shared::dir() else { return };
    let cases: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(shared.join("testdata/copay/cases.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 92);
    let dir = tempfile::tempdir().unwrap();
    for (i, case) in cases.iter().enumerate() {
        // Alternate between the whole case and just its `input` object.
        let body = if i % 2 == 0 { case.clone() } else { case["input"].clone() };
        let path = dir.path().join(format!("case{i}.json"));
        std::fs::write(&path, serde_json::to_vec(&body).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_santei")).args(["copay", "--json"]).arg(&path).output().unwrap();
        let id = case["id"].as_str().unwrap_or("?");
        assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = &case["expect"];
        assert_eq!(got["patient_total_yen"], want["patient_total_yen"], "{id}");
        let got_payers = got["payers"].as_array().unwrap();
        assert!(!got_payers.is_empty(), "{id}: every payer listed");
        let want_payers = want["payers"].as_array().unwrap();
        // `expect.payers` lists only the payers the source gives amounts for; the CLI lists every
        // payer of the case, so each expected one must be there with the stated amounts.
        for w in want_payers {
            let g = got_payers.iter().find(|g| g["payer"] == w["payer"]).unwrap_or_else(|| panic!("{id}: payer {} missing", w["payer"]));
            for (k, v) in w.as_object().unwrap() {
                assert_eq!(&g[k], v, "{id}: payer {} field {k}", w["payer"]);
            }
        }
    }
}
