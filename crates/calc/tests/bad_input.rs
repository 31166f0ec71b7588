//! Bad input: clear errors naming the visit and order, never a panic.

use santei_calc::{calculate, PatientMonth};

fn store() -> santei_master::Store {
    santei_master::sample::store().unwrap()
}

fn run(json: &str) -> Result<santei_calc::Outcome, santei_calc::CalcError> {
    let pm = PatientMonth::from_json(json).expect("valid JSON");
    calculate(&store(), &pm)
}

const HEAD: &str = r#""institution":{"kind":"clinic"},"patient":{"birth_date":"1980-01-01"},"month":"2024-06""#;

#[test]
fn malformed_json_is_an_error_with_position() {
    let e = PatientMonth::from_json("{\"month\": \"2024-06\", \"visits\": [}").unwrap_err();
    assert!(e.line() >= 1);
}

#[test]
fn errors_name_visit_and_order_in_both_languages() {
    let e = run(&format!(r#"{{{HEAD},"visits":[{{"date":"2024-06-03","consultation":"none","orders":[{{"type":"procedure","code":"160008010"}},{{"type":"prescription","dispensing":"in_house","category":"internal","days":"abc","drugs":[{{"code":"620098801","quantity":-1}}]}}]}}]}}"#)).unwrap_err();
    let fields: Vec<_> = e.errors.iter().filter_map(|x| x.field.clone()).collect();
    assert!(fields.contains(&"visits[0].orders[1].days".to_string()), "{fields:?}");
    assert!(fields.contains(&"visits[0].orders[1].drugs[0].quantity".to_string()), "{fields:?}");
    for x in &e.errors {
        assert!(!x.message_ja.is_empty() && !x.message_en.is_empty());
    }
}

#[test]
fn bad_dates_month_time_consultation() {
    let e =
        run(r#"{"patient":{"birth_date":"1980-02-30"},"month":"2024-13","visits":[{"date":"2024-06-31","time":"25:00","consultation":"first"}]}"#).unwrap_err();
    let fields: Vec<_> = e.errors.iter().filter_map(|x| x.field.clone()).collect();
    for f in ["month", "patient.birth_date", "visits[0].date", "visits[0].time", "visits[0].consultation"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
}

#[test]
fn absurd_numbers_are_errors() {
    for (field, order) in [
        ("visits[0].orders[0].count", r#"{"type":"procedure","code":"160008010","count":1000000}"#),
        ("visits[0].orders[0].count", r#"{"type":"procedure","code":"160008010","count":1.5}"#),
        (
            "visits[0].orders[0].days",
            r#"{"type":"prescription","dispensing":"in_house","category":"internal","days":0,"drugs":[{"code":"620098801","quantity":1}]}"#,
        ),
        (
            "visits[0].orders[0].drugs",
            r#"{"type":"prescription","dispensing":"in_house","category":"internal","days":3,"drugs":[]}"#,
        ),
        (
            "visits[0].orders[0].dispensing",
            r#"{"type":"prescription","category":"internal","days":3,"drugs":[{"code":"620098801","quantity":1}]}"#,
        ),
        ("visits[0].orders[0].quantity", r#"{"type":"material","code":"700010000","quantity":"1e400"}"#),
        ("visits[0].orders[0].code", r#"{"type":"procedure"}"#),
    ] {
        let e = run(&format!(
            r#"{{{HEAD},"visits":[{{"date":"2024-06-03","consultation":"none","orders":[{order}]}}]}}"#
        ))
        .unwrap_err();
        assert!(e.errors.iter().any(|x| x.field.as_deref() == Some(field)), "{field}: {e}");
    }
}

#[test]
fn master_problems_are_warnings_naming_the_order() {
    let out = run(&format!(r#"{{{HEAD},"visits":[{{"date":"2024-06-03","consultation":"none","orders":[{{"type":"procedure","code":"160008010"}},{{"type":"procedure","code":"700010000"}},{{"type":"prescription","dispensing":"in_house","category":"internal","days":3,"drugs":[{{"code":"111000110","quantity":1}}]}}]}}]}}"#)).unwrap();
    let w: Vec<_> = out.warnings.iter().map(|w| (w.code, w.visit, w.order)).collect();
    assert!(w.contains(&("W_WRONG_KIND", Some(0), Some(1))), "{w:?}");
    assert!(w.contains(&("W_WRONG_KIND", Some(0), Some(2))), "{w:?}");
    assert_eq!(out.total_points, 21 + 125);
}

#[test]
fn extra_insurance_fields_are_accepted() {
    let out = run(&format!(
        r#"{{{HEAD},"insurance":{{"insurer":"01130012"}},"kouhi":[{{"number":"12345678"}}],"visits":[]}}"#
    ))
    .unwrap();
    assert_eq!(out.total_points, 0);
}
