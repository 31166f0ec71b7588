//! Writer: a claim built in memory (not read from a file) reproduces the DOMAIN.md §5.5 example.
mod common;
use santei_uke::model::*;
use santei_uke::*;

fn si(shikibetsu: &str, code: &str, points: u64, days: &[(u32, u64)]) -> Item {
    let count = days.iter().map(|d| d.1).sum();
    Item::Si(Si {
        shikibetsu: shikibetsu.into(),
        futan: "1".into(),
        code: code.into(),
        points: Num::new(points),
        count: Num::new(count),
        days: Days::from_counts(days),
        ..Default::default()
    })
}

fn example_model() -> ClaimFile {
    let ir = Ir {
        payer_org: "1".into(),
        prefecture: "13".into(),
        table: "1".into(),
        institution_code: "1234567".into(),
        name: "テスト内科クリニック".into(),
        claim_month: "202506".into(),
        volume: "00".into(),
        phone: "03-1234-5678".into(),
        ..Default::default()
    };
    let re = Re {
        receipt_no: Num::new(1),
        kind: "1112".into(),
        month: "202505".into(),
        name: "山田　太郎".into(),
        sex: "1".into(),
        birth_date: "19800115".into(),
        karte_no: "00001".into(),
        kana_name: "ヤマダタロウ".into(),
        ..Default::default()
    };
    let ho = Ho { insurer_no: "01130012".into(), symbol: "12345678".into(), number: "123".into(), days: Num::new(2), ..Default::default() };
    let sn = Sn { payer_kind: "1".into(), confirmation: "01".into(), branch: "00".into(), ..Default::default() };
    let jd = Jd { payer_kind: "1".into(), days: Days::from_counts(&[(8, 1), (15, 1)]), ..Default::default() };
    let mf = Mf { window_class: "00".into(), reserved: Days::from_counts(&[]), ..Default::default() };
    let sy = Sy { code: "4659007".into(), start_date: "20250508".into(), outcome: "1".into(), main: "01".into(), ..Default::default() };
    let iy = Item::Iy(Iy {
        shikibetsu: "21".into(),
        futan: "1".into(),
        code: "620098801".into(),
        quantity: Num::new(3),
        points: Num::new(3),
        count: Num::new(10),
        days: Days::from_counts(&[(8, 5), (15, 5)]),
        ..Default::default()
    });
    let items = vec![
        si("11", "111000110", 291, &[(8, 1)]),
        si("12", "112007410", 75, &[(15, 1)]),
        si("12", "112011010", 52, &[(15, 1)]),
        iy,
        si("24", "120000710", 11, &[(8, 1), (15, 1)]),
        si("25", "120001210", 42, &[(8, 1), (15, 1)]),
    ];
    let receipt = Receipt { re, ho: Some(ho), sn: vec![sn], jd: vec![jd], mf: vec![mf], sy: vec![sy], items, ..Default::default() };
    let mut f = ClaimFile { ir, receipts: vec![receipt], go: Go { volume: "99".into(), ..Default::default() } };
    f.recompute_totals();
    f
}

#[test]
fn model_built_in_memory_writes_the_example_byte_for_byte() {
    let f = example_model();
    // Totals come from the units: 291 + 75 + 52 + 3×10 + 11×2 + 42×2.
    assert_eq!(f.receipts[0].ho.as_ref().unwrap().points.value(), Some(554));
    assert_eq!((f.go.total_count.value(), f.go.total_points.value()), (Some(1), Some(554)));
    let bytes = write_file(&f).unwrap();
    assert_eq!(bytes, common::sjis(common::EXAMPLE));
    if let Some(dir) = common::uke_dir() {
        assert_eq!(bytes, std::fs::read(dir.join("handmade/example_outpatient_202505.UKE")).unwrap());
    }
    // write → read → check: zero errors, same totals, same model.
    let rep = check_bytes(&bytes, "w", &CheckOptions::default());
    assert!(rep.ok() && rep.warnings.is_empty(), "{rep:#?}");
    assert_eq!(rep.total_points, 554);
    let (back, _) = read_bytes(&bytes).unwrap();
    assert_eq!(back.receipts[0].units().len(), 6);
    assert_eq!(write_file(&back).unwrap(), bytes);
}

#[test]
fn writer_refuses_unencodable_or_forbidden_text() {
    let mut f = example_model();
    f.receipts[0].re.name = "山田　😀".into();
    assert_eq!(write_file(&f).unwrap_err().code, "U502");
    let mut f = example_model();
    f.receipts[0].re.name = "山田,太郎".into();
    assert_eq!(write_file(&f).unwrap_err().code, "U501");
}

#[test]
fn atomic_write() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("RECEIPTC.UKE");
    let bytes = write_file(&example_model()).unwrap();
    write_atomic(&p, &bytes).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
    // Only the target file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A directory that does not exist: error, nothing written.
    assert!(write_atomic(&dir.path().join("no/such/RECEIPTC.UKE"), &bytes).is_err());
}
