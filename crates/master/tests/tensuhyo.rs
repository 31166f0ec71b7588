//! 電子点数表 against the real tables in ../shared/data/tensuhyo (read in place).
//! Expected numbers were counted independently with Python (csv module, encoding cp932).

use santei_core::date::{parse_ymd, Date, OPEN_END};
use santei_master::tensuhyo::{TableKind, Tensuhyo};
use std::path::PathBuf;
use std::sync::OnceLock;

/// ../shared/data/tensuhyo; santei_core::shared::dir() fails the test under CI when missing.
fn dir() -> Option<PathBuf> {
    santei_core::shared::dir().map(|p| p.join("data/tensuhyo"))
}

fn d(s: &str) -> Date {
    parse_ymd(s).unwrap()
}

fn loaded() -> Option<&'static Tensuhyo> {
    static T: OnceLock<Tensuhyo> = OnceLock::new();
    let dir = dir()?;
    Some(T.get_or_init(|| Tensuhyo::load_dir(&dir).unwrap().0))
}

#[test]
fn row_counts() {
    let Some(dir) = dir() else { return };
    let (t, files) = Tensuhyo::load_dir(&dir).unwrap();
    let kinds: Vec<_> = files.iter().map(|f| f.0).collect();
    assert_eq!(
        kinds,
        [
            TableKind::Hojo,
            TableKind::HaihanMonth,
            TableKind::HaihanSame,
            TableKind::HaihanWeek,
            TableKind::NyuinKihon,
            TableKind::SanteiKaisu
        ],
        "02 包括 and 03-1 背反(1日) are absent from this distribution"
    );
    assert_eq!(
        t.counts(),
        vec![
            (TableKind::Hojo, 10178),
            (TableKind::Houkatsu, 0),
            (TableKind::HaihanDay, 0),
            (TableKind::HaihanMonth, 21918),
            (TableKind::HaihanSame, 17136),
            (TableKind::HaihanWeek, 350),
            (TableKind::NyuinKihon, 6084),
            (TableKind::SanteiKaisu, 5343),
        ]
    );
    // 変更区分 distribution in 補助: 10171 × 0, 6 × 3 (新規), 1 × 5 (変更).
    let by = |c| t.hojo.iter().filter(|r| r.change == c).count();
    assert_eq!((by(0), by(3), by(5)), (10171, 6, 1));
    // Every 廃止年月日 in this release is 99999999.
    assert!(t.hojo.iter().all(|r| r.valid_to == OPEN_END));
    assert!(t.haihan.iter().all(|r| r.valid_to == OPEN_END));
    // 背反区分 distribution in 03-2 (同一月): 5648 × 1, 5648 × 2, 10622 × 3.
    let k = |n| t.haihan.iter().filter(|r| r.kind == TableKind::HaihanMonth && r.kubun == n).count();
    assert_eq!((k(1), k(2), k(3)), (5648, 5648, 10622));
}

#[test]
fn known_rows() {
    let Some(t) = loaded() else { return };
    let on = d("20240601");

    // 初診料: 補助 row, 包括単位1 = 2 (同一月内) group A000001, all four 背反 flags, 算定回数関連 1.
    let h = t.hojo("111000110", on).unwrap();
    assert_eq!(h.name, "初診料");
    assert_eq!(h.houkatsu_refs().collect::<Vec<_>>(), vec![(2, "A000001")]);
    assert_eq!((h.haihan_day, h.haihan_month, h.haihan_same, h.haihan_week), (1, 1, 1, 1));
    assert_eq!((h.nyuin_kihon_group.as_str(), h.santei_kaisu), ("000", 1));
    assert_eq!(h.valid_from, d("20100401"));

    // 初診料 算定回数: unit 159 初診時, count 1.
    let s: Vec<_> = t.santei_kaisu("111000110", on).collect();
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].unit_code, s[0].unit_name.as_str(), s[0].max_count, s[0].tokurei), (159, "初診時", 1, 0));

    // 手引き p.24 example: リンパ浮腫複合的治療料(重症) 121 日 1回 特例0, 131 月 1回 特例1.
    let s: Vec<_> =
        t.santei_kaisu("180046410", on).map(|r| (r.unit_code, r.unit_name.as_str(), r.max_count, r.tokurei)).collect();
    assert_eq!(s, [(121, "日", 1, 0), (131, "月", 1, 1)]);

    // 初診料 背反 (同一月): 113010370 血糖自己測定指導加算 with 背反区分 1 (初診料を算定).
    let m: Vec<_> = t.haihan_kind("111000110", TableKind::HaihanMonth, on).collect();
    let r = m.iter().find(|r| r.code2 == "113010370").expect("113010370 in 同一月");
    assert_eq!((r.kubun, r.tokurei, r.valid_from), (1, 0, d("20120401")));
    assert_eq!(r.name2, "血糖自己測定指導加算（生活習慣病管理料１・２）");
    // The 同時 table pairs 初診料 with 114061210 外来在宅共同指導料２, 背反区分 2.
    let r = t.haihan_pair("111000110", "114061210", on).next().unwrap();
    assert_eq!((r.kind, r.kubun), (TableKind::HaihanSame, 2));

    // 手引き p.16 example (1週間): 体外ペースメーキング術 → ペースメーカー移植術 ×3, 背反区分 2; and back, 1.
    let w: Vec<_> =
        t.haihan_kind("150267310", TableKind::HaihanWeek, on).map(|r| (r.code2.as_str(), r.kubun)).collect();
    assert_eq!(w, [("150140110", 2), ("150140210", 2), ("150395350", 2)]);
    let back = t.haihan_pair("150140110", "150267310", on).next().unwrap();
    assert_eq!((back.kind, back.kubun), (TableKind::HaihanWeek, 1));

    // 入院基本料: group 001 contains 超重症児（者）入院診療加算（６歳以上） with 加算識別 15.
    let n = t.nyuin_kihon_group("001", on).find(|r| r.code == "190076570").unwrap();
    assert_eq!(n.kasan_id, 15);
    // 190833110 特定感染症患者療養環境特別加算（個室）（疑似症）: 53 groups from 2024-06-01,
    // 19 more from 2025-05-01 (72 in all, one row per group).
    assert_eq!(t.nyuin_kihon_of_code("190833110", d("20240531")).count(), 0);
    assert_eq!(t.nyuin_kihon_of_code("190833110", d("20240601")).count(), 53);
    assert_eq!(t.nyuin_kihon_of_code("190833110", d("20250501")).count(), 72);
    let g4 = t.nyuin_kihon_of_code("190833110", d("20250501")).find(|r| r.group == "004").unwrap();
    assert_eq!(g4.kasan_id, 8);

    // No 包括 table here: lookups are empty, not errors.
    assert_eq!(t.houkatsu_group("A000001", on).count(), 0);
    assert_eq!(t.haihan_kind("111000110", TableKind::HaihanDay, on).count(), 0);
}

#[test]
fn date_limited_lookups() {
    let Some(t) = loaded() else { return };
    // 新設年月日 20251201 (変更区分 3 新規): absent the day before.
    assert!(t.hojo("160243450", d("20251130")).is_none());
    let h = t.hojo("160243450", d("20251201")).unwrap();
    assert_eq!((h.change, h.name.as_str()), (3, "抗ＮＦ１５５抗体"));
    assert_eq!(t.santei_kaisu("160243450", d("20251130")).count(), 0);
    let s = t.santei_kaisu("160243450", d("20251201")).next().unwrap();
    assert_eq!((s.unit_code, s.unit_name.as_str(), s.max_count), (53, "患者当り", 1));
    // 入院基本料 rows new on 2025-05-01.
    assert_eq!(t.nyuin_kihon_of_code("190833110", d("20250430")).count(), 53);
    // 初診料 has 6 同一月 背反 rows, 2 of them from 2024-06-01 (R6 revision).
    assert_eq!(t.haihan_kind("111000110", TableKind::HaihanMonth, d("20240531")).count(), 4);
    assert_eq!(t.haihan_kind("111000110", TableKind::HaihanMonth, d("20240601")).count(), 6);
    assert!(t.hojo("111000110", d("20100331")).is_none());
}

#[test]
fn abolished_row_absent_after_end_date() {
    // No row of this release has a 廃止年月日 other than 99999999, so give the first 同一月 row
    // (初診料 × 113010370) an end date and load the otherwise unchanged real file.
    let Some(dir) = dir() else { return };
    let bytes = std::fs::read(dir.join("03-2背反テーブル2.csv")).unwrap();
    let first_end = bytes.windows(10).position(|w| w == b"\"99999999\"").unwrap();
    let mut edited = bytes.clone();
    edited.splice(first_end..first_end + 10, b"\"20240531\"".iter().copied());
    let mut t = Tensuhyo::default();
    assert_eq!(t.load(TableKind::HaihanMonth, &edited, "03-2背反テーブル2.csv").unwrap(), 21918);
    t.index();
    let has = |date| t.haihan_pair("111000110", "113010370", d(date)).count();
    assert_eq!(has("20240531"), 1);
    assert_eq!(has("20240601"), 0);
    // 初診料's other 同一月 rows are untouched: 4 on 2024-05-31 (incl. the edited one), 5 after.
    assert_eq!(t.haihan("111000110", d("20240531")).count(), 4);
    assert_eq!(t.haihan("111000110", d("20240601")).count(), 5);
}

#[test]
fn single_table_file_names_and_reload() {
    let Some(dir) = dir() else { return };
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let kind = TableKind::from_file_name(&name);
        assert!(kind.is_some(), "{name} not recognised");
        assert!(!matches!(kind, Some(TableKind::Houkatsu | TableKind::HaihanDay)));
    }
    // Loading the same table twice appends.
    let b = std::fs::read(dir.join("03-4背反テーブル4.csv")).unwrap();
    let mut t = Tensuhyo::default();
    assert_eq!(t.load(TableKind::HaihanWeek, &b, "w").unwrap(), 350);
    assert_eq!(t.load(TableKind::HaihanWeek, &b, "w").unwrap(), 350);
    assert_eq!(t.haihan.len(), 700);
    // The wrong kind is caught by the column count on line 1.
    let e = Tensuhyo::default().load(TableKind::SanteiKaisu, &b, "w").unwrap_err();
    assert_eq!((e.code, e.line, e.field.as_deref()), ("E_COLUMNS", Some(1), Some("列数 10 (期待値 14)")));
}
