//! Golden month splits (tests/golden/split.json) for rules the shared worked examples do not reach.
//! The whole expected payer list is compared (no extra payers either).

use santei_copay::{parse_case, split_to_json, Engine};
use serde_json::Value;

#[test]
fn split_golden_cases() {
    let engine = Engine::embedded().unwrap();
    let cases: Vec<Value> = serde_json::from_str(include_str!("golden/split.json")).unwrap();
    assert!(cases.len() >= 9);
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        assert!(!c["rule"].as_str().unwrap_or("").is_empty(), "{id}: every golden case cites its rule");
        let input = parse_case(c, id).unwrap_or_else(|e| panic!("{id}: {e}"));
        let got = split_to_json(&engine.split(&input, None).unwrap_or_else(|e| panic!("{id}: {e}")));
        assert_eq!(got, c["expect"], "{id}");
    }
}
