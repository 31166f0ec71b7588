//! Bad input: a clear bilingual error naming the field, never a panic, never a guess.

use santei_copay::checks::{check_digit, check_insurer, check_kouhi_payer, check_recipient};
use santei_copay::{parse_case, Engine, Params};
use serde_json::{json, Value};

fn base() -> Value {
    json!({"month": "2024-06", "age_class": "under70", "income_class": "ウ", "copay_rate_percent": 30, "care": "outpatient",
           "bills": [{"points": 1000, "payers": [{"kind": "insurance"}]}]})
}

fn err_of(v: Value) -> santei_core::InputError {
    let engine = Engine::embedded().unwrap();
    match parse_case(&v, "case.json") {
        Err(e) => e,
        Ok(c) => engine.split(&c, None).expect_err("expected an error"),
    }
}

fn with(path: &[&str], val: Value) -> Value {
    let mut v = base();
    let mut cur = &mut v;
    for p in &path[..path.len() - 1] {
        cur = if let Ok(i) = p.parse::<usize>() { &mut cur[i] } else { &mut cur[*p] };
    }
    let last = path[path.len() - 1];
    if val.is_null() {
        cur.as_object_mut().unwrap().remove(last);
    } else {
        cur[last] = val;
    }
    v
}

#[test]
fn each_bad_input_names_its_field() {
    let cases: Vec<(Value, &str)> = vec![
        (with(&["age_class"], json!("elderly")), "age_class"),
        (with(&["income_class"], json!("カ")), "income_class"),
        (with(&["income_class"], json!("一般")), "income_class"), // 一般 is not an under-70 class
        (with(&["care"], json!("home")), "care"),
        (with(&["month"], json!("2024-13")), "month"),
        (with(&["month"], json!("2010-01")), "month"), // no parameters
        (with(&["month"], json!("2026-09")), "month"), // limits not published yet
        (with(&["bills", "0", "points"], json!(-5)), "bills[0].points"),
        (with(&["bills", "0", "payers"], json!([{"kind": "kouhi", "rate_percent": 20}])), "bills[0].payers[0].houbetsu"),
        (with(&["bills", "0", "payers"], json!([{"kind": "kouhi", "houbetsu": 54}])), "bills[0].payers[0].houbetsu"),
        (with(&["bills", "0", "payers"], json!([{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "54", "rate_percent": 120}])), "bills[0].payers[1].rate_percent"),
        (with(&["bills", "0", "payers"], json!([{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "54", "monthly_cap_yen": -1}])), "bills[0].payers[1].monthly_cap_yen"),
        (with(&["bills", "0", "payers"], json!([{"kind": "nhs"}])), "bills[0].payers[0].kind"),
        (with(&["bills", "0", "payers"], json!([])), "bills[0].payers"),
        (with(&["bills"], json!([])), "bills"),
        (with(&["copay_rate_percent"], Value::Null), "copay_rate_percent"),
        (with(&["copay_rate_percent"], json!(130)), "copay_rate_percent"),
        (with(&["hairyo_sochi"], json!(true)), "hairyo_sochi"), // 2024-06 is outside the measure and under70
    ];
    for (v, field) in cases {
        let e = err_of(v.clone());
        assert_eq!(e.field.as_deref(), Some(field), "input {v}: {e}");
        assert!(!e.message_ja.is_empty() && !e.message_en.is_empty());
    }
}

#[test]
fn tokutei_kyufu_for_low_income_is_refused_not_guessed() {
    let v = json!({"month": "2024-06", "age_class": "70to74", "income_class": "低所得Ⅱ", "copay_rate_percent": 20, "care": "outpatient",
                   "bills": [{"points": 10000, "payers": [{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "15", "rate_percent": 10, "monthly_cap_yen": 5000}]}]});
    let e = err_of(v);
    assert_eq!(e.code, "C031");
}

#[test]
fn inconsistent_kouhi_terms_are_refused() {
    let v = json!({"month": "2024-06", "age_class": "under70", "income_class": "ウ", "copay_rate_percent": 30, "care": "outpatient",
                   "bills": [{"points": 100, "payers": [{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "54", "monthly_cap_yen": 5000}]},
                             {"points": 100, "payers": [{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "54", "monthly_cap_yen": 10000}]}]});
    assert_eq!(err_of(v).code, "C026");
}

#[test]
fn unknown_houbetsu_is_warned_not_refused() {
    let v = json!({"month": "2024-06", "age_class": "under70", "income_class": "ウ", "copay_rate_percent": 30, "care": "outpatient",
                   "bills": [{"points": 1000, "payers": [{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "88", "rate_percent": 0}]}]});
    let c = parse_case(&v, "x").unwrap();
    let s = Engine::embedded().unwrap().split(&c, None).unwrap();
    assert_eq!(s.patient_total_yen, 0);
    assert!(s.warnings.iter().any(|w| w.contains("88")));
}

#[test]
fn params_file_errors_are_clear() {
    let e = Params::from_toml("[meta]\nvalid_through = \"2026-07-31\"\n", santei_copay::params::EMBEDDED_KOUHI).unwrap_err();
    assert!(e.field.is_some());
    let bad_date = santei_copay::params::EMBEDDED_COPAY.replace("\"2018-08-01\" = 18000", "\"2018-02-30\" = 18000");
    assert!(Params::from_toml(&bad_date, santei_copay::params::EMBEDDED_KOUHI).is_err());
}

/// DOMAIN.md §4.1 examples (verified there by script).
#[test]
fn number_check_digits() {
    let p = Params::embedded().unwrap();
    for (body, d) in [("3312001", 5), ("5401602", 7), ("0113001", 2), ("3913103", 2), ("13306", 6), ("1213101", 7), ("2113601", 5), ("123456", 6)] {
        assert_eq!(check_digit(body), Some(d), "{body}");
    }
    assert!(check_insurer(&p, "01130012").ok());
    assert!(check_insurer(&p, "39131032").ok());
    assert!(check_insurer(&p, "133066").ok());
    assert!(!check_insurer(&p, "01130013").ok());
    assert!(!check_insurer(&p, "0113001").ok()); // 7 digits
    assert!(!check_insurer(&p, "3913103X").ok());
    assert!(check_insurer(&p, "99999995").warnings.iter().any(|w| w.contains("99"))); // unknown insurance 法別
    assert!(check_kouhi_payer(&p, "54016027").ok());
    assert!(check_kouhi_payer(&p, "21136015").ok());
    assert!(check_kouhi_payer(&p, "12131017").ok());
    assert!(!check_kouhi_payer(&p, "54016028").ok());
    let local = check_kouhi_payer(&p, "80000000"); // 地方単独 dummy: warned, not rejected (DOMAIN.md §4.1 ⚠)
    assert!(local.ok() && !local.warnings.is_empty());
    assert!(check_recipient("1234566").ok());
    assert!(!check_recipient("1234567").ok());
    assert!(!check_recipient("123456").ok());
}

#[test]
fn window_rejects_changing_kouhi_terms_and_bad_visits() {
    let engine = Engine::embedded().unwrap();
    let k = |cap: i64| json!([{"kind": "insurance"}, {"kind": "kouhi", "houbetsu": "54", "rate_percent": 20, "monthly_cap_yen": cap}]);
    let base = |visits: Value| json!({"month": "2024-06", "age_class": "under70", "income_class": "ウ", "copay_rate_percent": 30, "care": "outpatient", "visits": visits});
    let req = santei_copay::case::parse_window(&base(json!([
        {"date": "2024-06-03", "bills": [{"points": 100, "payers": k(5000)}]},
        {"date": "2024-06-04", "bills": [{"points": 100, "payers": k(10000)}]}
    ])), "w").unwrap();
    let e = engine.window(&req).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("C026", Some("visits[1].bills[0].payers[1]")));
    // a visit outside the month, visits out of order, negative points
    for (visits, code) in [
        (json!([{"date": "2024-07-01", "bills": [{"points": 100, "payers": [{"kind": "insurance"}]}]}]), "W002"),
        (json!([{"date": "2024-06-05", "bills": [{"points": 1, "payers": [{"kind": "insurance"}]}]}, {"date": "2024-06-04", "bills": [{"points": 1, "payers": [{"kind": "insurance"}]}]}]), "W003"),
    ] {
        let req = santei_copay::case::parse_window(&base(visits), "w").unwrap();
        assert_eq!(engine.window(&req).unwrap_err().code, code);
    }
    let e = santei_copay::case::parse_window(&base(json!([{"date": "2024-06-05", "bills": [{"points": -1, "payers": [{"kind": "insurance"}]}]}])), "w").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("visits[0].bills[0].points"));
}
