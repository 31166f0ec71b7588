//! Golden cases (tests/golden/*.json): per-visit points and window copay derived by hand from the
//! rules (each file's `rule` and `derivation`), and the claim fields that follow from them.

use santei_engine::{claims, compute, PatientMonthInput, PayerOffice};
use santei_uke::Item;

fn cases() -> Vec<(String, serde_json::Value)> {
    let dir = "tests/golden";
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 4);
    out
}

#[test]
fn golden_copay_and_claims() {
    let store = santei_master::sample::store().unwrap();
    for (name, case) in cases() {
        let input = PatientMonthInput::from_value(&case["input"], &name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let exp = &case["expect"];
        let c = compute(&store, &input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let points: Vec<i64> = c.outcome.visits.iter().map(|v| v.points).collect();
        assert_eq!(serde_json::json!(points), exp["visit_points"], "{name}: visit points");
        let copay = c.copay.as_ref().unwrap_or_else(|| panic!("{name}: no copay"));
        assert_eq!(copay.to_json(), exp["copay"], "{name}: copay");
        // the calc JSON carries the same object
        assert_eq!(c.to_json(false)["copay"], exp["copay"], "{name}: calc JSON");

        let cl = &exp["claim"];
        let files = claims(&store, std::slice::from_ref(&input), input.month).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(files.len(), 1, "{name}");
        let office = match files[0].0 {
            PayerOffice::Shaho => "shaho",
            PayerOffice::Kokuho => "kokuho",
        };
        assert_eq!(office, cl["office"], "{name}: office");
        let report = santei_uke::check_bytes(&files[0].1, &name, &santei_uke::CheckOptions { catalog: None });
        assert_eq!(report.error_count, 0, "{name}: {:?}", report.errors);
        let (cf, _) = santei_uke::read_bytes(&files[0].1).unwrap();
        let r = &cf.receipts[0];
        assert_eq!(r.re.kind, cl["re_kind"], "{name}: レセプト種別");
        assert_eq!(r.re.tokki, cl["tokki"], "{name}: 特記事項");
        assert_eq!(r.mf[0].window_class, cl["mf"], "{name}: MF");
        let ho = r.ho.as_ref().unwrap();
        assert_eq!(serde_json::json!(ho.copay.value()), cl["ho_copay"], "{name}: HO 負担金額");
        assert_eq!(serde_json::json!(ho.points.value()), cl["ho_points"], "{name}: HO 合計点数");
        assert_eq!(serde_json::json!(ho.days.value()), cl["days"], "{name}: 実日数");
        let ko: Vec<u64> = r.ko.iter().filter_map(|k| k.copay.value()).collect();
        assert_eq!(serde_json::json!(ko), cl["ko_copay"], "{name}: KO 負担金額");
        for k in &r.ko {
            assert_eq!(k.points, ho.points, "{name}: every unit is billed to every payer");
        }
        // 診療識別 on the first line of each unit only; every line carries the 負担区分.
        let futan = if r.ko.is_empty() { "1" } else { "2" };
        for it in &r.items {
            assert_eq!(it.view().futan, futan, "{name}");
            if let Item::Co(_) = it {
                panic!("{name}: unexpected CO");
            }
        }
        assert_eq!(cf.go.total_count.value(), Some(1 + r.ko.len() as u64), "{name}: GO 総件数");
    }
}
