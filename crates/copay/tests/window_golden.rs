//! Golden cases for the window computation (tests/golden/window.json), each citing its rule.

use santei_copay::age::{age_class_on, copay_rate, reached_75_in};
use santei_copay::case::parse_window;
use santei_copay::window::window;
use santei_copay::Params;
use serde_json::Value;

#[test]
fn window_golden_cases() {
    let params = Params::embedded().unwrap();
    let cases: Vec<Value> = serde_json::from_str(include_str!("golden/window.json")).unwrap();
    assert!(cases.len() >= 10);
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        assert!(!c["rule"].as_str().unwrap_or("").is_empty(), "{id}: every golden case cites its rule");
        let req = parse_window(&c["input"], id).unwrap_or_else(|e| panic!("{id}: {e}"));
        if let Some(b) = c["birth_date"].as_str() {
            // The age class, rate and 到達月 in the input must be what the dates give.
            let birth = santei_core::date::parse_iso(b).unwrap();
            for v in &req.visits {
                assert_eq!(age_class_on(&params, birth, v.date).unwrap().class, req.patient.age_class, "{id}: age class on {}", v.date);
                assert_eq!(copay_rate(&params, birth, v.date, req.patient.income_class).unwrap(), Some(req.patient.copay_rate_percent as i64), "{id}: rate on {}", v.date);
            }
            assert_eq!(reached_75_in(&params, birth, req.patient.month).unwrap(), req.patient.reached_75_this_month, "{id}: 75歳到達月");
        }
        let mp = params.month(req.patient.month).unwrap();
        let got = window(&mp, &params.kouhi, &req).unwrap_or_else(|e| panic!("{id}: {e}"));
        let want: Vec<i64> = c["expect"]["visits"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let got_v: Vec<i64> = got.visits.iter().map(|v| v.yen).collect();
        assert_eq!(got_v, want, "{id}: per-visit yen");
        assert_eq!(got.month_total_yen, c["expect"]["month_total_yen"].as_i64().unwrap(), "{id}: month total");
    }
}
