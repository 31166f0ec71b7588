//! Bad input never panics: every problem is a bilingual `InputError` naming its field.

use santei_core::date::YearMonth;
use santei_engine::{claims, compute, compute_json, PatientMonthInput};
use serde_json::{json, Value};

fn base() -> Value {
    let text = std::fs::read_to_string("tests/data/handmade_202505.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn parse_err(v: &Value) -> Vec<santei_core::InputError> {
    PatientMonthInput::from_value(v, "t").expect_err("must be rejected")
}

fn has_field(errs: &[santei_core::InputError], field: &str) {
    assert!(errs.iter().any(|e| e.field.as_deref() == Some(field)), "no error on {field}: {errs:?}");
    for e in errs {
        assert!(!e.message_ja.is_empty() && !e.message_en.is_empty(), "{e:?}");
    }
}

#[test]
fn bad_fields_are_named() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/insurance", json!("01130012"), "insurance"),
        ("/insurance/insurer", Value::Null, "insurance.insurer"),
        ("/insurance/relation", json!("spouse"), "insurance.relation"),
        ("/insurance/income_class", json!("カ"), "insurance.income_class"),
        ("/insurance/rate_percent", json!(130), "insurance.rate_percent"),
        ("/insurance/already_collected_yen", json!(-5), "insurance.already_collected_yen"),
        ("/insurance/branch", json!("123"), "insurance.branch"),
        ("/insurance/limit_certified", json!("yes"), "insurance.limit_certified"),
        ("/kouhi", json!({"futansha": "54136015"}), "kouhi"),
        ("/kouhi", json!([{"futansha": "5413601"}]), "kouhi[0].futansha"),
        ("/kouhi", json!([{"futansha": "54136015", "jukyusha": "12a"}]), "kouhi[0].jukyusha"),
        ("/kouhi", json!([{"futansha": "54136015", "monthly_cap_yen": -1}]), "kouhi[0].monthly_cap_yen"),
        ("/kouhi", json!([{"futansha": "54136015"}, {"futansha": "54136015"}, {"futansha": "54136015"}, {"futansha": "54136015"}, {"futansha": "54136015"}]), "kouhi"),
        ("/diagnoses", json!([{"code": "465", "start_date": "2025-05-08"}]), "diagnoses[0].code"),
        ("/diagnoses", json!([{"code": "4659007", "start_date": "2025/05/08"}]), "diagnoses[0].start_date"),
        ("/diagnoses", json!([{"code": "4659007", "start_date": "2025-05-08", "outcome": 9}]), "diagnoses[0].outcome"),
        ("/diagnoses", json!([{"code": "4659007", "start_date": "2025-05-08", "modifiers": [8002]}]), "diagnoses[0].modifiers[0]"),
        ("/month", json!("2025-13"), "month"),
        ("/patient/birth_date", json!("1980-02-30"), "patient.birth_date"),
    ];
    for (ptr, val, field) in cases {
        let mut v = base();
        let (parent, key) = ptr.rsplit_once('/').unwrap();
        let target = if parent.is_empty() { &mut v } else { v.pointer_mut(parent).unwrap() };
        target.as_object_mut().unwrap().insert(key.to_string(), val);
        has_field(&parse_err(&v), field);
    }
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    for text in ["", "{", "[1,2]", "{\"visits\": 5}", "null", "{\"month\": \"2025-05\", \"patient\": {\"birth_date\": 7}}"] {
        assert!(PatientMonthInput::from_json(text, "t").is_err(), "{text}");
    }
    let store = santei_master::sample::store().unwrap();
    assert!(compute_json(&store, "{").is_err());
}

#[test]
fn bad_check_digits_warn_but_compute() {
    let store = santei_master::sample::store().unwrap();
    let mut v = base();
    v["insurance"]["insurer"] = json!("01130013"); // check digit should be 2
    v["kouhi"] = json!([{"futansha": "54136016", "jukyusha": "1234567"}]);
    let input = PatientMonthInput::from_value(&v, "t").unwrap();
    let c = compute(&store, &input).unwrap();
    assert!(c.warnings.iter().any(|w| w.starts_with("insurance.insurer")), "{:?}", c.warnings);
    assert!(c.warnings.iter().any(|w| w.starts_with("kouhi[0].futansha")), "{:?}", c.warnings);
    assert!(c.warnings.iter().any(|w| w.starts_with("kouhi[0].jukyusha")), "{:?}", c.warnings);
    // a malformed insurer (not 6/8 digits) is an error
    v["insurance"]["insurer"] = json!("0113");
    let input = PatientMonthInput::from_value(&v, "t").unwrap();
    let e = compute(&store, &input).unwrap_err();
    assert!(e.errors.iter().any(|e| e.field.as_deref() == Some("insurance.insurer")), "{e}");
}

#[test]
fn claims_refuse_what_cannot_be_claimed() {
    let store = santei_master::sample::store().unwrap();
    let may = YearMonth::new(2025, 5).unwrap();
    // no payer at all
    let mut v = base();
    v.as_object_mut().unwrap().remove("insurance");
    let input = PatientMonthInput::from_value(&v, "t").unwrap();
    assert!(compute(&store, &input).unwrap().copay.is_none(), "no payer → no copay in calc");
    let e = claims(&store, &[input], may).unwrap_err();
    assert!(e.errors.iter().any(|e| e.field.as_deref() == Some("insurance")), "{e}");
    // wrong month, bad sex, no diagnoses, bad institution code
    let ok = PatientMonthInput::from_value(&base(), "t").unwrap();
    assert!(claims(&store, std::slice::from_ref(&ok), YearMonth::new(2025, 6).unwrap()).unwrap_err().errors[0].field.as_deref() == Some("month"));
    for (ptr, val, field) in [
        ("/patient/sex", json!("x"), "patient.sex"),
        ("/diagnoses", json!([]), "diagnoses"),
        ("/institution/code", json!("12"), "institution.code"),
        ("/institution/prefecture", json!("東京"), "institution.prefecture"),
    ] {
        let mut v = base();
        *v.pointer_mut(ptr).unwrap() = val;
        let input = PatientMonthInput::from_value(&v, "t").unwrap();
        let e = claims(&store, &[input], may).unwrap_err();
        assert!(e.errors.iter().any(|e| e.field.as_deref() == Some(field)), "{field}: {e}");
    }
    // a character without a Shift_JIS form is refused by the writer (U502), not mangled
    let mut v = base();
    v["patient"]["name"] = json!("山田 😀");
    let input = PatientMonthInput::from_value(&v, "t").unwrap();
    assert_eq!(claims(&store, &[input], may).unwrap_err().errors[0].code, "U502");
    // no inputs
    assert!(claims(&store, &[], may).is_err());
}

#[test]
fn rate_and_class_follow_the_input() {
    let store = santei_master::sample::store().unwrap();
    // an explicit rate overrides the derived one; an under-70 class without certification is not used
    let mut v = base();
    v["insurance"]["rate_percent"] = json!(20);
    v["insurance"]["income_class"] = json!("オ");
    let input = PatientMonthInput::from_value(&v, "t").unwrap();
    let c = compute(&store, &input).unwrap();
    let copay = c.copay.unwrap();
    // 359点 × 20% = 718 → 720; 195点 → 390
    assert_eq!(copay.visits.iter().map(|x| x.yen).collect::<Vec<_>>(), vec![720, 390]);
    assert_eq!(copay.patient.income_class, None);
    assert!(c.warnings.iter().any(|w| w.contains("limit_certified")));
}

/// Deterministic mutation run: random fields of a valid input replaced by hostile values; parsing,
/// computing and writing claims must return `Ok`/`Err`, never panic.
#[test]
fn mutated_inputs_never_panic() {
    let store = santei_master::sample::store().unwrap();
    let may = YearMonth::new(2025, 5).unwrap();
    let hostile = [
        json!(null),
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e308),
        json!(""),
        json!("x,\"y\r\n"),
        json!("😀"),
        json!([]),
        json!({}),
        json!([{"futansha": "99999999", "jukyusha": "0"}]),
        json!("9999-99-99"),
        json!("000000"),
    ];
    let paths = [
        "/insurance/insurer",
        "/insurance/symbol",
        "/insurance/number",
        "/insurance/branch",
        "/insurance/rate_percent",
        "/insurance/income_class",
        "/insurance/earlier_points",
        "/insurance/already_collected_yen",
        "/insurance/tokutei_shippei_cap_yen",
        "/kouhi",
        "/patient/birth_date",
        "/patient/name",
        "/patient/kana",
        "/patient/sex",
        "/patient/id",
        "/institution/phone",
        "/institution/name",
        "/diagnoses/0/code",
        "/diagnoses/0/modifiers",
        "/diagnoses/0/name",
        "/visits/0/date",
        "/visits/1/orders/0/days",
        "/month",
    ];
    let mut seed = 7u64;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    for _ in 0..600 {
        let mut v = base();
        for _ in 0..1 + next(3) {
            let p = paths[next(paths.len())];
            let (parent, key) = p.rsplit_once('/').unwrap();
            if let Some(Value::Object(o)) = v.pointer_mut(parent) {
                o.insert(key.to_string(), hostile[next(hostile.len())].clone());
            } else if let Some(Value::Array(a)) = v.pointer_mut(parent) {
                if let Ok(i) = key.parse::<usize>() {
                    if i < a.len() {
                        a[i] = hostile[next(hostile.len())].clone();
                    }
                }
            }
        }
        if let Ok(input) = PatientMonthInput::from_value(&v, "m") {
            let _ = compute(&store, &input);
            let _ = claims(&store, &[input], may);
        }
    }
}
