//! Every worked example of ../shared/testdata/copay/cases.json through the engine, exactly.

mod common;

use santei_copay::{parse_case, split_to_json, Engine};
use serde_json::Value;

#[test]
fn all_shared_cases_exact() {
    let Some(path) = common::shared_path("testdata/copay/cases.json") else { return };
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(cases.len(), 92, "the README promises 92 cases");
    let engine = Engine::embedded().unwrap();
    let mut failures = Vec::new();
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        let input = parse_case(c, id).unwrap_or_else(|e| panic!("{id}: {e}"));
        let got = match engine.split(&input, None) {
            Ok(s) => split_to_json(&s),
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let exp = &c["expect"];
        if got["patient_total_yen"] != exp["patient_total_yen"] {
            failures.push(format!("{id}: patient_total {} ≠ expected {}", got["patient_total_yen"], exp["patient_total_yen"]));
        }
        for ep in exp["payers"].as_array().unwrap() {
            let name = ep["payer"].as_str().unwrap();
            let Some(gp) = got["payers"].as_array().unwrap().iter().find(|g| g["payer"] == name) else {
                failures.push(format!("{id}: payer {name} missing"));
                continue;
            };
            for (k, v) in ep.as_object().unwrap() {
                if k != "payer" && &gp[k] != v {
                    failures.push(format!("{id}: {name}.{k} = {} ≠ expected {v}", gp[k]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
