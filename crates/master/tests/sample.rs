//! The bundled sample master: imports through the normal path and answers by date.

use santei_core::date::parse_iso;
use santei_master::{sample, Entry, Kind};

fn d(s: &str) -> santei_core::date::Date {
    parse_iso(s).unwrap()
}

#[test]
fn sample_versions_shoshin_and_saishin() {
    let st = sample::store().unwrap();
    // A000 初診料: 288 (令和4年度) until 2024-05-31, 291 from 2024-06-01 (令和6年度改定).
    assert_eq!(st.procedure("111000110", d("2024-05-31")).unwrap().points.to_string(), "288.00");
    assert_eq!(st.procedure("111000110", d("2024-06-01")).unwrap().points.to_string(), "291.00");
    // A001 再診料: 73 → 75.
    assert_eq!(st.procedure("112007410", d("2024-05-31")).unwrap().points.to_string(), "73.00");
    assert_eq!(st.procedure("112007410", d("2024-06-01")).unwrap().points.to_string(), "75.00");
    let h = st.history("111000110");
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].common().valid_to, d("2024-05-31"));
    assert_eq!(h[1].common().valid_from, d("2024-06-01"));
}

#[test]
fn sample_fields_used_by_the_calculator() {
    let st = sample::store().unwrap();
    let on = d("2024-06-03");
    let shoshin = st.procedure("111000110", on).unwrap();
    assert_eq!(shoshin.aggregate_out, 110);
    assert_eq!(shoshin.addition_code, "1101");
    assert_eq!(shoshin.time_kind, 1);
    assert_eq!(shoshin.real_days, 2);
    let infant = st.procedure("111000370", on).unwrap();
    assert_eq!((infant.age_lower.as_str(), infant.age_upper.as_str()), ("00", "06"));
    assert_eq!(infant.notice_kind1, 7);
    assert_eq!(st.procedure("112011010", on).unwrap().outpatient_mgmt, 2);
    assert_eq!(st.procedure("140000610", on).unwrap().outpatient_mgmt, 1);
    let ast = st.procedure("160022510", on).unwrap();
    assert_eq!((ast.bundled_test, ast.judgement_kind, ast.judgement_group), (1, 1, 3));
    let loxonin = st.drug("620098801", on).unwrap();
    assert_eq!(loxonin.price.to_string(), "10.10");
    assert_eq!(loxonin.form, 1);
    assert_eq!(st.drug("620007804", on).unwrap().form, 6);
    assert_eq!(st.material("700010000", on).unwrap().price.to_string(), "120.00");
    assert!(matches!(st.get("4659007", on), Some(Entry::Disease(x)) if x.common.name == "急性上気道炎"));
    assert!(matches!(st.get("8002", on), Some(Entry::Modifier(x)) if x.common.name == "の疑い"));
    assert!(matches!(st.get("820100001", on), Some(Entry::Comment(_))));
}

#[test]
fn sample_search_folds_kana() {
    let st = sample::store().unwrap();
    let hits = st.search("しょしん", Some(Kind::Procedure), Some(d("2024-06-01")), 50);
    assert!(hits.iter().any(|e| e.common().code == "111000110"), "初診料 found by hiragana");
    let hits = st.search("ﾛｷｿﾆﾝ", None, None, 50);
    assert!(hits.iter().any(|e| e.common().code == "620098801"));
    assert!(st.search("存在しない名前", None, None, 10).is_empty());
}

#[test]
fn snapshot_roundtrip_and_atomic_save() {
    let snap = sample::snapshot().unwrap();
    let dir = tempfile::tempdir().unwrap();
    santei_master::store::Snapshot::save(&snap, dir.path()).unwrap();
    let st = santei_master::Store::open(dir.path()).unwrap();
    assert_eq!(st.procedure("111000110", d("2024-06-01")).unwrap().points.to_string(), "291.00");
    // A corrupt store is a clear error, not a panic.
    std::fs::write(dir.path().join("master.snapshot"), b"SANTEI-MASTER\n\x01\0\0\0garbage").unwrap();
    let e = santei_master::Store::open(dir.path()).err().unwrap();
    assert_eq!(e.code, "E_STORE");
}
