//! Tests on every file in ../shared/testdata/uke.
mod common;
use santei_uke::*;

fn arithmetic(r: &FileReport) -> Vec<&Diagnostic> {
    r.errors.iter().filter(|d| d.code.starts_with("U3")).collect()
}

#[test]
fn orca_files_are_arithmetically_clean_with_known_totals() {
    let Some(dir) = common::uke_dir() else { return };
    // (file, receipts, GO 総件数, GO 総合計点数) — values read from the files' GO records and RE counts.
    let expect = [
        ("01.UKE", 7, 7, 3834),
        ("03.UKE", 7, 7, 4188),
        ("05.UKE", 7, 7, 4188),
        ("kokuho_201811.UKE", 7, 13, 5656),
        ("kokuho_201901.UKE", 9, 12, 5322),
        ("shaho_201811.UKE", 27, 31, 12529),
    ];
    for (name, receipts, go_count, go_points) in expect {
        let path = dir.join("orca_2018").join(name);
        let rep = check_path(&path, &CheckOptions::default());
        assert!(arithmetic(&rep).is_empty(), "{name}: {:#?}", arithmetic(&rep));
        assert_eq!(rep.receipts, receipts, "{name}");
        assert_eq!(rep.total_points, go_points, "{name}");
        // No layout/encoding/order errors either; the only errors allowed are missing SY (U108),
        // which ORCA omits on some test receipts although the spec makes SY 必須.
        let other: Vec<_> = rep.errors.iter().filter(|d| d.code != "U108").collect();
        assert!(other.is_empty(), "{name}: {other:#?}");

        // Self-consistency from the model: HO (or first KO) = Σ units; GO = Σ; 総件数 = HO + KO.
        let bytes = std::fs::read(&path).unwrap();
        let (f, _) = read_bytes(&bytes).unwrap();
        assert_eq!(f.receipts.len() as u64, receipts);
        let mut sum = 0;
        let mut count = 0;
        for r in &f.receipts {
            let t = r.computed_points();
            match &r.ho {
                Some(h) => assert_eq!(h.points.value(), Some(t[0]), "{name} RE {}", r.re.receipt_no.as_str()),
                None => assert_eq!(r.ko[0].points.value(), Some(t[1])),
            }
            for (i, k) in r.ko.iter().enumerate() {
                assert_eq!(k.points.value(), Some(t[i + 1]));
            }
            for it in &r.items {
                let v = it.view();
                if let (Some(c), Some(d)) = (v.count, v.days) {
                    assert_eq!(c.value(), Some(d.sum()), "{name} line {}", v.line);
                }
            }
            sum += r.main_points();
            count += r.claim_count();
        }
        assert_eq!(sum, go_points, "{name}");
        assert_eq!(f.go.total_points.value(), Some(go_points));
        assert_eq!(count, go_count, "{name}");
        assert_eq!(f.go.total_count.value(), Some(go_count));
        // 和暦 dates are understood: all these files are 平成30/31 (2018-11 or 2019-01).
        let m = f.receipts[0].month().unwrap();
        assert!(m.year == 2018 && m.month == 11 || m.year == 2019 && m.month == 1, "{name}: {m}");
    }
}

#[test]
fn orca_files_round_trip_byte_for_byte() {
    let Some(dir) = common::uke_dir() else { return };
    for e in std::fs::read_dir(dir.join("orca_2018")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().contains("dental") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let (f, _) = read_bytes(&bytes).unwrap();
        assert_eq!(write_file(&f).unwrap(), bytes, "{}", p.display());
    }
}

#[test]
fn dental_file_is_rejected_clearly() {
    let Some(dir) = common::uke_dir() else { return };
    let p = dir.join("orca_2018/shika_shaho_dental.UKE");
    let bytes = std::fs::read(&p).unwrap();
    let e = read_bytes(&bytes).unwrap_err();
    assert_eq!(e.code, "U001");
    assert!(e.message_ja.contains("歯科") && e.message_en.contains("dental"));
    let rep = check_path(&p, &CheckOptions::default());
    assert!(!rep.ok());
    assert_eq!(rep.errors.len(), 1);
    assert_eq!(rep.errors[0].code, "U001");
}

#[test]
fn handmade_example_is_clean_and_round_trips() {
    let Some(dir) = common::uke_dir() else { return };
    let p = dir.join("handmade/example_outpatient_202505.UKE");
    let bytes = std::fs::read(&p).unwrap();
    // The test data file is exactly the DOMAIN.md §5.5 listing.
    assert_eq!(bytes, common::sjis(common::EXAMPLE));
    let rep = check_path(&p, &CheckOptions::default());
    assert!(rep.errors.is_empty() && rep.warnings.is_empty(), "{rep:#?}");
    assert_eq!((rep.receipts, rep.total_points), (1, 554));

    let (f, diags) = read_bytes(&bytes).unwrap();
    assert!(diags.is_empty());
    // read → model → write == original bytes.
    assert_eq!(write_file(&f).unwrap(), bytes);
    // write → read → check: zero errors, same totals.
    let again = write_file(&f).unwrap();
    let rep2 = check_bytes(&again, "again", &CheckOptions::default());
    assert!(rep2.errors.is_empty());
    assert_eq!(rep2.total_points, rep.total_points);
}
