//! Bad input: a clear error naming file, line and field (Japanese and English), never a panic,
//! and the previous store untouched.

use santei_master::input::InputFile;
use santei_master::{import, sample, store::Snapshot, Store};

fn sjis(s: &str) -> Vec<u8> {
    santei_core::sjis::encode(s).unwrap()
}

/// One real 診療行為 row (初診料, from the sample master) to mutate.
fn shoshin_row() -> String {
    let bytes = sample::FILES.iter().find(|(n, _)| n.starts_with("s_SAMPLE20240531")).unwrap().1;
    let text = santei_core::sjis::decode(bytes, "sample").unwrap();
    text.lines().find(|l| l.contains("\"111000110\"")).unwrap().to_string()
}

fn build(name: &str, bytes: Vec<u8>) -> Result<Snapshot, santei_core::InputError> {
    import::build_files(vec![InputFile { name: name.into(), bytes }], None).map(|(s, _)| s)
}

#[test]
fn utf8_file_is_rejected_with_line() {
    let row = shoshin_row();
    let e = build("s_X.csv", format!("{row}\r\n").into_bytes()).unwrap_err();
    assert_eq!(e.code, "E_ENCODING_UTF8");
    assert_eq!(e.line, Some(1));
    assert!(e.message_ja.contains("UTF-8") && e.message_en.contains("Shift_JIS"));
}

#[test]
fn wrong_column_count_names_line() {
    let row = shoshin_row();
    let short: Vec<&str> = row.split(',').take(149).collect();
    let text = format!("{row}\r\n{}\r\n", short.join(","));
    let e = build("s_X.csv", sjis(&text)).unwrap_err();
    assert_eq!(e.code, "E_COLUMNS");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.field.as_deref(), Some("149 columns"));
}

#[test]
fn truncated_row_is_an_error() {
    let row = shoshin_row();
    // Cut in the middle of a quoted field: the last line is incomplete.
    let text = format!("{row}\r\n{}", &row[..row.len() / 2]);
    let e = build("s_X.csv", sjis(&text)).unwrap_err();
    assert!(e.code == "E_COLUMNS" || e.code == "E_CSV", "{e}");
    assert_eq!(e.line, Some(2));
}

#[test]
fn unknown_change_kind() {
    let row = shoshin_row().replacen("\"0\"", "\"7\"", 1);
    let e = build("s_X.csv", sjis(&format!("{row}\r\n"))).unwrap_err();
    assert_eq!(e.code, "E_CHANGE_KIND");
    assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("項番1 変更区分")));
}

#[test]
fn diff_for_a_code_that_does_not_exist() {
    let mut fields = vec!["\"\""; 150];
    fields[0] = "\"5\"";
    fields[1] = "\"S\"";
    fields[2] = "\"199999999\"";
    fields[11] = "\"10.00\"";
    let e = build("s_20240701.csv", sjis(&format!("{}\r\n", fields.join(",")))).unwrap_err();
    assert_eq!(e.code, "E_DIFF_UNKNOWN_CODE");
    assert_eq!(e.line, Some(1));
    assert!(e.message_ja.contains("199999999") && e.message_en.contains("199999999"));
}

#[test]
fn bad_date_and_bad_number_name_the_column() {
    let row = shoshin_row();
    let bad_date = row.replacen("\"20240601\"", "\"20241341\"", 1);
    let e = build("s_X.csv", sjis(&format!("{bad_date}\r\n"))).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("E_DATE", Some("項番87")));
    let bad_points = row.replacen("\"291.00\"", "\"29l.00\"", 1);
    let e = build("s_X.csv", sjis(&format!("{bad_points}\r\n"))).unwrap_err();
    assert_eq!((e.code, e.field.as_deref(), e.line), ("E_FIELD", Some("項番12"), Some(1)));
}

#[test]
fn zip_with_unexpected_member() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s_ALL.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
        z.start_file("s_ALL.csv", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut z, &sjis(&format!("{}\r\n", shoshin_row()))).unwrap();
        z.start_file("setup.exe", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut z, b"MZ").unwrap();
        z.finish().unwrap();
    }
    let e = import::build(&[p], None).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("E_ZIP", Some("setup.exe")));
    assert!(e.message_en.contains("unexpected zip member"));
}

#[test]
fn failed_import_leaves_previous_store_intact() {
    let dir = tempfile::tempdir().unwrap();
    sample::snapshot().unwrap().save(dir.path()).unwrap();
    let before = std::fs::read(dir.path().join("master.snapshot")).unwrap();
    // The same sequence the CLI runs: build, then save only on success.
    let bad = dir.path().join("s_BAD.csv");
    std::fs::write(&bad, b"\"0\",\"S\",\"1\x82\"\r\n").unwrap();
    assert!(import::build(&[bad], None).and_then(|(s, _)| s.save(dir.path())).is_err());
    assert_eq!(std::fs::read(dir.path().join("master.snapshot")).unwrap(), before);
    let st = Store::open(dir.path()).unwrap();
    assert!(st.procedure("111000110", santei_core::date::parse_iso("2024-06-01").unwrap()).is_some());
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn truncated_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    sample::snapshot().unwrap().save(dir.path()).unwrap();
    let p = dir.path().join("master.snapshot");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
    let e = Store::open(dir.path()).err().unwrap();
    assert_eq!(e.code, "E_STORE");
    assert!(e.message_en.contains("corrupt"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Arbitrary bytes never panic the reader.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = build("s_X.csv", bytes);
    }

    /// A real row with one field replaced by arbitrary text never panics (and errors are located).
    #[test]
    fn mutated_rows_never_panic(col in 0usize..150, text in "[0-9A-Za-z\\.\\-\"ｱ-ﾝ初診]{0,12}") {
        let row = shoshin_row();
        let mut fields: Vec<String> = row.split("\",\"").map(str::to_string).collect();
        if let Some(f) = fields.get_mut(col) { *f = text; }
        let mutated = fields.join("\",\"");
        if let Err(e) = build("s_X.csv", sjis(&format!("{mutated}\r\n"))) {
            proptest::prop_assert!(e.line.is_some() || e.code.starts_with("E_KIND"), "{e}");
        }
    }
}
