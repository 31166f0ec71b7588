//! Bad input: every case gives located errors with stable codes and never panics.
mod common;
use common::{sjis, EXAMPLE};
use santei_uke::*;

fn check_text(s: &str) -> FileReport {
    check_bytes(&sjis(s), "t.UKE", &CheckOptions::default())
}

fn codes(r: &FileReport) -> Vec<&'static str> {
    r.errors.iter().map(|d| d.code).collect()
}

/// Replace the first occurrence of `from` (must exist) in the example.
fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "{from}");
    EXAMPLE.replacen(from, to, 1)
}

fn has(r: &FileReport, code: &str, line: u64) -> bool {
    r.errors.iter().chain(r.warnings.iter()).any(|d| d.code == code && d.line == Some(line))
}

#[test]
fn example_is_clean() {
    let r = check_text(EXAMPLE);
    assert!(r.ok() && r.warnings.is_empty(), "{r:#?}");
}

#[test]
fn truncated_file() {
    let b = sjis(EXAMPLE);
    // Cut in the middle of line 8 (an SI record).
    let cut = b.windows(3).position(|w| w == b"291").unwrap();
    let r = check_bytes(&b[..cut], "t", &CheckOptions::default());
    let c = codes(&r);
    assert!(c.contains(&"U009") && c.contains(&"U010") && c.contains(&"U007"), "{c:?}");
    // Every cut point: never panics, always reports an error.
    for n in 0..b.len() {
        let r = check_bytes(&b[..n], "t", &CheckOptions::default());
        assert!(!r.ok(), "cut at {n} gave no error");
    }
}

#[test]
fn missing_go() {
    let r = check_text(&example_with("GO,1,554,99\r\n", ""));
    assert!(codes(&r).contains(&"U010"));
}

#[test]
fn wrong_encoding_utf8() {
    let r = check_bytes(EXAMPLE.as_bytes(), "t", &CheckOptions::default());
    let e = r.errors.iter().find(|d| d.code == "U004").expect("U004");
    assert_eq!(e.line, Some(1));
    // Invalid Shift_JIS byte on line 2.
    let mut b = sjis(EXAMPLE);
    let p = b.windows(2).position(|w| w == b"RE").unwrap();
    b.insert(p + 3, 0x82);
    b.insert(p + 4, 0x20);
    let r = check_bytes(&b, "t", &CheckOptions::default());
    assert!(r.errors.iter().any(|d| d.code == "U003" && d.line == Some(2)), "{r:#?}");
}

#[test]
fn wrong_field_count() {
    let r = check_text(&example_with("SY,4659007,20250508,1,,,01,", "SY,4659007,20250508,1,,,01"));
    let e = r.errors.iter().find(|d| d.code == "U102").expect("U102");
    assert_eq!((e.line, e.record.as_str()), (Some(7), "SY"));
}

#[test]
fn stray_quote() {
    let r = check_text(&example_with("山田　太郎", "\"山田\""));
    assert!(has(&r, "U103", 2));
}

#[test]
fn oversize_and_fixed_length_fields() {
    let long = "あ".repeat(21); // 42 bytes > 40
    let r = check_text(&example_with("山田　太郎", &long));
    let e = r.errors.iter().find(|d| d.code == "U206").expect("U206");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("5:氏名")));
    let r = check_text(&example_with("HO,01130012", "HO,0113001"));
    assert!(has(&r, "U207", 3));
}

#[test]
fn modes() {
    // 数字 field with a letter (合計点数), 漢字 field with half-width (医療機関名称), mixed (氏名).
    assert!(has(&check_text(&example_with(",554,,", ",55A,,")), "U202", 3));
    assert!(has(&check_text(&example_with("テスト内科クリニック", "ﾃｽﾄ")), "U204", 1));
    assert!(has(&check_text(&example_with("山田　太郎", "山田 taro")), "U205", 2));
}

#[test]
fn arithmetic_errors() {
    // HO total wrong.
    let r = check_text(&example_with(",2,554,,", ",2,555,,"));
    assert!(has(&r, "U306", 3));
    // GO totals wrong.
    let r = check_text(&example_with("GO,1,554,99", "GO,2,553,99"));
    assert!(has(&r, "U308", 14) && has(&r, "U309", 14));
    // 回数 ≠ Σ days (and then the HO total no longer matches either).
    let r = check_text(&example_with("SI,11,1,111000110,,291,1,", "SI,11,1,111000110,,291,2,"));
    assert!(has(&r, "U301", 8) && has(&r, "U306", 3));
}

#[test]
fn structure_errors() {
    // Record order: SY before HO.
    let s = example_with("HO,01130012,12345678,123,2,554,,,,,,,,,\r\n", "").replacen("SI,11", "HO,01130012,12345678,123,2,554,,,,,,,,,\r\nSI,11", 1);
    let r = check_text(&s);
    assert!(codes(&r).contains(&"U104"), "{r:#?}");
    // SN before 2021-09 and a one-digit 枝番 (warnings).
    let s = example_with(",202505,山田", ",202105,山田").replace("20250508", "20210508").replace("SN,1,01,,,,00,,", "SN,1,01,,,,0,,");
    let r = check_text(&s);
    assert!(has(&r, "U112", 4) && has(&r, "U217", 4), "{r:#?}");
    // Unknown record.
    assert!(has(&check_text(&example_with("MF,00", "XX,00")), "U101", 6));
    // Invalid date.
    assert!(has(&check_text(&example_with("19800115", "19800231")), "U208", 2));
    // Check digit.
    assert!(has(&check_text(&example_with("01130012", "01130013")), "U210", 3));
    // レセプト種別 says 1 公費 but there is no KO.
    assert!(has(&check_text(&example_with(",1112,", ",1122,")), "U107", 2));
    // 負担区分 for a 公費 the receipt does not have.
    assert!(has(&check_text(&example_with("SI,25,1,", "SI,25,2,")), "U305", 13));
    // Unknown 負担区分 / 診療識別.
    assert!(has(&check_text(&example_with("SI,25,1,", "SI,25,A,")), "U209", 13));
    assert!(has(&check_text(&example_with("SI,25,1,", "SI,29,1,")), "U209", 13));
    // Day 31 in a 31-day month is fine; day 31 in June is not.
    let jd31 = format!("JD,1{},1", ",".repeat(30));
    let s = example_with(",202505,山田", ",202506,山田").replace("202506,00", "202507,00").replace("JD,1,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,", &jd31);
    assert!(has(&check_text(&s), "U212", 5));
}

#[test]
fn non_canonical_numbers_warn() {
    let r = check_text(&example_with(",2,554,,", ",2,0554,,"));
    assert!(r.warnings.iter().any(|d| d.code == "U216" && d.line == Some(3)), "{r:#?}");
    // 主傷病 01 is a code, not a quantity: no warning on the clean example.
    assert!(check_text(EXAMPLE).warnings.is_empty());
}

#[test]
fn unit_without_points() {
    let r = check_text(&example_with("SI,25,1,120001210,,42,", "SI,25,1,120001210,,,"));
    assert!(has(&r, "U303", 13), "{r:#?}");
}

#[test]
fn eof_and_line_endings() {
    let r = check_text(EXAMPLE.trim_end_matches('\u{1A}'));
    assert_eq!(codes(&r), vec!["U007"]);
    let r = check_text(&EXAMPLE.replace("\r\n", "\n"));
    assert_eq!(codes(&r), vec!["U006"]);
    // EOF code right after the last record, without its CRLF: the GO record is still read.
    let r = check_text(&EXAMPLE.replace("99\r\n\u{1A}", "99\u{1A}"));
    assert_eq!(codes(&r), vec!["U009"]);
    let r = check_text(&format!("{EXAMPLE}GO,1,554,99\r\n"));
    assert!(codes(&r).contains(&"U008"));
}

#[test]
fn huge_line_is_bounded() {
    let mut b = b"IR,1,13,1,1234567,,".to_vec();
    b.extend(std::iter::repeat_n(b'A', 5_000_000));
    let r = check_bytes(&b, "t", &CheckOptions::default());
    assert!(r.errors.iter().any(|d| d.code == "U005" && d.line == Some(1)));
}

#[test]
fn many_lines_stream_and_errors_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.UKE");
    // ~200k lines in the debug test; the 10^6-line run is the benchmark (README).
    let (n, _) = santei_uke::bench::generate(&p, 200_000).unwrap();
    let r = check_path(&p, &CheckOptions::default());
    assert!(r.ok(), "{:?}", r.errors.first());
    assert_eq!(r.receipts, n);
    assert_eq!(r.total_points, n * 554);
    // 200k lines of garbage: errors are counted but the list stays bounded.
    let junk = "ZZ,1\r\n".repeat(200_000);
    let r = check_bytes(&sjis(&format!("{}{junk}", &EXAMPLE[..EXAMPLE.find("RE,").unwrap()])), "t", &CheckOptions::default());
    assert!(r.error_count >= 200_000);
    assert!(r.errors.len() <= santei_uke::read::MAX_DIAGNOSTICS + 1);
}

#[test]
fn catalog_checks() {
    let mut cat = MapCatalog::default();
    for (k, c, p) in [
        (CodeKind::Disease, "4659007", None),
        (CodeKind::Procedure, "111000110", Some(291)),
        (CodeKind::Procedure, "112007410", Some(75)),
        (CodeKind::Procedure, "112011010", Some(52)),
        (CodeKind::Drug, "620098801", None),
        (CodeKind::Procedure, "120000710", Some(11)),
        (CodeKind::Procedure, "120001210", Some(42)),
    ] {
        cat.insert(k, c, "x", p);
    }
    let opts = CheckOptions { catalog: Some(&cat) };
    let r = check_bytes(&sjis(EXAMPLE), "t", &opts);
    assert!(r.ok(), "{r:#?}");
    // 再診料 priced at 73 in the master: U402 on line 9; unknown drug code: U401 on line 11.
    cat.insert(CodeKind::Procedure, "112007410", "再診料", Some(73));
    cat.entries.remove(&(CodeKind::Drug, "620098801".to_string()));
    let r = check_bytes(&sjis(EXAMPLE), "t", &CheckOptions { catalog: Some(&cat) });
    assert!(has(&r, "U402", 9) && has(&r, "U401", 11), "{r:#?}");
}
