//! DOMAIN.md §5.5: `../shared/testdata/uke/handmade/example_outpatient_202505.UKE` reproduced byte
//! for byte from `tests/data/handmade_202505.json` (sample master: 初診料 291, ロキソニン 10.10円).

use santei_core::date::YearMonth;
use santei_engine::{claims, compute, PatientMonthInput, PayerOffice};

fn input() -> PatientMonthInput {
    let text = std::fs::read_to_string("tests/data/handmade_202505.json").unwrap();
    PatientMonthInput::from_json(&text, "handmade_202505.json").unwrap()
}

#[test]
fn handmade_copay_per_visit() {
    let store = santei_master::sample::store().unwrap();
    let c = compute(&store, &input()).unwrap();
    let copay = c.copay.expect("insurance present");
    // DOMAIN §3.2: 359点 → 3,590 × 30% = 1,077 → 1,080; 195点 → 585 → 590 (健康保険法75条 四捨五入).
    let yen: Vec<i64> = copay.visits.iter().map(|v| v.yen).collect();
    assert_eq!(yen, vec![1080, 590]);
    assert_eq!(copay.month_total_yen, 1670);
    assert!(!copay.ceiling_applied);
}

#[test]
fn handmade_uke_byte_for_byte() {
    let Some(shared) = santei_core::shared::dir() else {
        return;
    };
    let want = std::fs::read(shared.join("testdata/uke/handmade/example_outpatient_202505.UKE")).unwrap();
    let store = santei_master::sample::store().unwrap();
    let files = claims(&store, &[input()], YearMonth::new(2025, 5).unwrap()).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, PayerOffice::Shaho);
    let got = &files[0].1;
    if got != &want {
        let g = encoding_rs::SHIFT_JIS.decode(got).0.into_owned();
        let w = encoding_rs::SHIFT_JIS.decode(&want).0.into_owned();
        for (a, b) in g.lines().zip(w.lines()) {
            if a != b {
                eprintln!("got:  {a}\nwant: {b}");
            }
        }
        panic!("bytes differ ({} vs {} bytes)", got.len(), want.len());
    }
}
