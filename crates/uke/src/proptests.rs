//! "Never panics" properties for the reader and checker (CI-run counterpart of fuzz/).
use crate::check::{check_bytes, CheckOptions};
use crate::read::read_bytes;
use proptest::prelude::*;

const IDS: &[&str] = &["IR", "RE", "HO", "KO", "SN", "JD", "MF", "GR", "SY", "SI", "IY", "TO", "CO", "SJ", "TI", "TR", "TS", "GO", "UK", "", "\u{1A}"];
const VALS: &[&str] = &["", "1", "0", "01", "99", "202505", "43011", "20250531", "4301131", "5", "2", "Z", "01130012", "  133066", "山田", "ﾔﾏﾀﾞ", "\"", "999999999999", "1.5", "."];

fn line() -> impl Strategy<Value = String> {
    (prop::sample::select(IDS), prop::collection::vec(prop::sample::select(VALS), 0..50))
        .prop_map(|(id, v)| std::iter::once(id).chain(v).collect::<Vec<_>>().join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = read_bytes(&b);
        let _ = check_bytes(&b, "p", &CheckOptions::default());
    }

    #[test]
    fn arbitrary_records_never_panic(lines in prop::collection::vec(line(), 0..60), crlf in any::<bool>()) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let text = format!("IR,1,13,1,1234567,,テスト,202506,00,{sep}{}", lines.join(sep));
        let b = santei_core::sjis::encode(&text).unwrap_or_default();
        let r = check_bytes(&b, "p", &CheckOptions::default());
        if let Ok((f, _)) = read_bytes(&b) {
            // Whatever was read can be written back (or is refused with an error), never a panic.
            let _ = crate::write::write_file(&f);
            for rc in &f.receipts {
                let _ = crate::show::render_receipt(&f.ir, rc, None);
            }
        }
        prop_assert!(r.receipts <= 60);
    }
}
