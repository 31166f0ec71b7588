//! DOMAIN.md §5.5: the hand-made UKE example (../shared/testdata/uke/handmade/…202505.UKE),
//! expressed as input JSON (tests/data/handmade_202505.json, real ロキソニン price from the
//! master), must give the same units as the file's SI/IY lines.

use santei_calc::{calculate, PatientMonth};
use std::collections::BTreeMap;

type UnitKey = (String, Vec<String>, i64, i64, BTreeMap<u32, i64>);

/// Parse the SI/IY/TO lines of a UKE file into units: a unit runs until a line carrying 点数;
/// the 診療識別 is the last non-empty one seen. Day d's count is field 12 + d (1-based days).
fn uke_units(text: &str) -> Vec<UnitKey> {
    let mut out = Vec::new();
    let mut shikibetsu = String::new();
    let mut codes = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        if !matches!(f.first(), Some(&"SI") | Some(&"IY") | Some(&"TO")) {
            continue;
        }
        if !f[1].is_empty() {
            shikibetsu = f[1].to_string();
        }
        codes.push(f[3].to_string());
        if f[5].is_empty() {
            continue;
        }
        let mut days = BTreeMap::new();
        for d in 1..=31u32 {
            if let Some(n) = f.get(12 + d as usize).filter(|s| !s.is_empty()) {
                days.insert(d, n.parse::<i64>().unwrap());
            }
        }
        out.push((
            shikibetsu.clone(),
            std::mem::take(&mut codes),
            f[5].parse().unwrap(),
            f[6].parse().unwrap(),
            days,
        ));
    }
    out.sort();
    out
}

#[test]
fn handmade_example_matches_uke() {
    let Some(shared) = santei_core::shared::dir() else {
        return;
    };
    let bytes = std::fs::read(shared.join("testdata/uke/handmade/example_outpatient_202505.UKE")).unwrap();
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let want = uke_units(&text);
    assert_eq!(want.len(), 6, "{want:?}");

    let store = santei_master::sample::store().unwrap();
    let json = std::fs::read_to_string("tests/data/handmade_202505.json").unwrap();
    let input = PatientMonth::from_json(&json).unwrap();
    let out = calculate(&store, &input).unwrap();
    let mut got: Vec<UnitKey> = out
        .units
        .iter()
        .map(|u| {
            (
                u.shinryo_shikibetsu.clone(),
                u.lines.iter().map(|l| l.code.clone()).collect(),
                u.points,
                u.count,
                u.days.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    // GO 総合計点数 / HO 合計点数 = 554, and the per-visit points of DOMAIN.md §5.5.
    assert_eq!(out.total_points, 554);
    let visits: Vec<i64> = out.visits.iter().map(|v| v.points).collect();
    assert_eq!(visits, vec![359, 195]);
    // The IY line's 使用量 is 3 (錠/日).
    let iy = out.units.iter().find(|u| u.shinryo_shikibetsu == "21").unwrap();
    assert_eq!(iy.lines[0].quantity.map(|q| q.normalize().to_string()).as_deref(), Some("3"));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}
