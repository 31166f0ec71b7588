//! Every master kind against the official files in ../shared (read in place).
//! Under CI=true a missing ../shared fails these tests (santei_core::shared::dir panics).

use santei_core::date::{parse_iso, Date};
use santei_master::{import, Entry, Kind, Store};
use std::path::PathBuf;
use std::sync::OnceLock;

fn d(s: &str) -> Date {
    parse_iso(s).unwrap()
}

fn ssk() -> Option<PathBuf> {
    santei_core::shared::dir().map(|p| p.join("data/ssk"))
}

/// Everything in ../shared/data/ssk + tensuhyo, imported once for all tests.
fn full() -> Option<&'static Store> {
    static S: OnceLock<Option<Store>> = OnceLock::new();
    S.get_or_init(|| {
        let shared = santei_core::shared::dir()?;
        let (snap, _) = import::build(&[shared.join("data/ssk"), shared.join("data/tensuhyo")], None).unwrap();
        Some(Store::from_snapshot(snap))
    })
    .as_ref()
}

#[test]
fn versioned_shoshin_and_saishin_from_two_complete_masters() {
    let Some(ssk) = ssk() else { return };
    // The example: only s_ALL20240201 and s_ALL20240531.
    let (snap, _) = import::build(&[ssk.join("s_ALL20240201.csv"), ssk.join("s_ALL20240531.csv")], None).unwrap();
    let st = Store::from_snapshot(snap);
    let pts = |c: &str, day: &str| st.procedure(c, d(day)).map(|p| p.points.to_string());
    assert_eq!(pts("111000110", "2024-05-31").as_deref(), Some("288.00"));
    assert_eq!(pts("111000110", "2024-06-01").as_deref(), Some("291.00"));
    assert_eq!(pts("112007410", "2024-05-31").as_deref(), Some("73.00"));
    assert_eq!(pts("112007410", "2024-06-01").as_deref(), Some("75.00"));
}

#[test]
fn row_counts_per_master_kind() {
    let Some(st) = full() else { return };
    let stats = st.stats();
    let codes = |k: Kind| stats.kinds.iter().find(|x| x.kind == k).map(|x| x.codes).unwrap_or(0);
    // Distinct codes over all loaded files, counted independently with Python's csv module over
    // the CP932 files (union of the codes of every row that is not 変更区分 1 抹消).
    assert_eq!(codes(Kind::Procedure), 11895);
    assert_eq!(codes(Kind::Drug), 21182);
    assert_eq!(codes(Kind::Material), 1369);
    assert_eq!(codes(Kind::Comment), 3909);
    assert_eq!(codes(Kind::Disease), 27437);
    assert_eq!(codes(Kind::Modifier), 2375);
    assert_eq!(stats.comment_relations, 14719);
}

#[test]
fn known_codes_and_values() {
    let Some(st) = full() else { return };
    let on = d("2024-06-01");
    let p = st.procedure("111000110", on).unwrap();
    assert_eq!(p.common.name, "初診料");
    assert_eq!(p.points.to_string(), "291.00");
    assert_eq!(p.aggregate_out, 110);
    assert_eq!(p.age_additions.len(), 1);
    assert_eq!(p.age_additions[0].code, "111000370");
    let gaikan = st.procedure("112011010", on).unwrap();
    assert_eq!((gaikan.points.to_string().as_str(), gaikan.outpatient_mgmt), ("52.00", 2));
    // 医薬品: ガスター散２％ 16.50円/g, 剤形 1 (内用)
    let y = st.drug("610406079", on).unwrap();
    assert_eq!((y.price.to_string().as_str(), y.form, y.unit_name.as_str()), ("16.50", 1, "ｇ"));
    // 特定器材: 700010000 半切 120円
    let t = st.material("700010000", on).unwrap();
    assert_eq!((t.common.name.as_str(), t.price.to_string().as_str()), ("半切", "120.00"));
    // コメント: 820100001 (区分8 パターン20 一連番号100001)
    assert!(matches!(st.get("820000001", on), Some(Entry::Comment(c)) if c.common.name == "別途コメントあり" && c.pattern == 20));
    // 傷病名, 修飾語
    assert!(matches!(st.get("4659007", on), Some(Entry::Disease(x)) if x.common.name == "急性上気道炎"));
    assert!(matches!(st.get("8002", on), Some(Entry::Modifier(x)) if x.common.name == "の疑い"));
    // コメント関連: 初診料 requires/permits comment 820100001 (項番 0001 区分 A000)
    assert!(st.comment_relations("111000110", on).any(|r| r.comment_code == "820100001" && r.section == "A000"));
    // 電子点数表 is loaded (算定回数: 初診料 1 per 初診時)
    assert!(st.tensuhyo().santei_kaisu("111000110", on).any(|r| r.unit_code == 159 && r.max_count == 1));
}

#[test]
fn drug_price_diff_starts_a_new_version() {
    let Some(st) = full() else { return };
    // diffs/y_20240717.csv: 621984301 ソリリス 650826.00 → 615752.00 from 2024-08-01 (sparse 変更区分 5 row).
    let before = st.drug("621984301", d("2024-07-31")).unwrap();
    let after = st.drug("621984301", d("2024-08-01")).unwrap();
    assert_eq!(before.price.to_string(), "650826.00");
    assert_eq!(after.price.to_string(), "615752.00");
    // Only the changed fields came from the diff; the rest is merged from the complete row.
    assert_eq!(after.common.name, before.common.name);
    assert_eq!(after.form, before.form);
    assert_eq!(after.common.change, 5);
}

#[test]
fn abolished_comment_ends_on_its_haishi_date() {
    let Some(st) = full() else { return };
    // diffs/c_20250715.csv: 変更区分 9 for 850190245 with 廃止年月日 2025-09-30.
    assert!(st.comment("850190245", d("2025-09-30")).is_some());
    assert!(st.comment("850190245", d("2025-10-01")).is_none());
    assert!(!st.history("850190245").is_empty());
}

#[test]
fn sparse_diff_corrects_in_place_without_dates() {
    let Some(st) = full() else { return };
    // diffs/s_20240628.csv row 1: 111013770 gets 項番71 病床数区分 = 3 with no 変更年月日 — a
    // correction of the version in force, not a new version.
    let h = st.history("111013770");
    assert!(!h.is_empty());
    let last = match h.last() {
        Some(Entry::Procedure(p)) => p,
        _ => panic!("procedure expected"),
    };
    assert_eq!(last.bed_kind, 3);
    assert_eq!(last.notice_kind1, 7, "告示等識別区分 kept from s_ALL20240531");
    assert!(!last.common.name.is_empty(), "unchanged fields kept from the complete row");
}

#[test]
fn y_40_and_42_column_forms() {
    let Some(st) = full() else { return };
    // y_20240906 switched to 42 columns (項番41 長期収載品関連, 項番42 選定療養区分).
    // 1095 sparse 変更区分 5 rows of y_20240906 set 選定療養区分 = 1 on drugs loaded from the
    // 40-column y_ALL20240531.
    let on = d("2024-10-01");
    let long_listed = st.drugs().iter().filter(|y| y.selective == 1 && y.common.valid_from <= on && on <= y.common.valid_to).count();
    assert!(long_listed >= 1095, "選定療養区分 merged from the 42-column diff: {long_listed}");
}

#[test]
fn official_zip_is_accepted() {
    let Some(ssk) = ssk() else { return };
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("s_ALL20240531.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        z.start_file("s_ALL20240531.csv", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut z, &std::fs::read(ssk.join("s_ALL20240531.csv")).unwrap()).unwrap();
        z.finish().unwrap();
    }
    let (snap, rep) = import::build(&[zip_path], None).unwrap();
    assert_eq!(rep.files.len(), 1);
    assert!(rep.files[0].name.ends_with("s_ALL20240531.zip!/s_ALL20240531.csv"));
    let st = Store::from_snapshot(snap);
    assert_eq!(st.procedure("111000110", d("2024-06-01")).unwrap().points.to_string(), "291.00");
}
