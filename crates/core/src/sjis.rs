//! Strict Shift_JIS (CP932) decoding and encoding.
//!
//! SSK masters and UKE files are CP932. encoding_rs's `SHIFT_JIS` is the WHATWG decoder, which
//! is CP932 (it includes NEC/IBM extensions such as ①, ㈱). Decoding is strict: a malformed byte
//! sequence is an error naming the line, never a replacement character.

use crate::InputError;
use encoding_rs::SHIFT_JIS;

/// Decode a whole CP932 file. On failure, the error names the first bad line.
/// A file that is valid UTF-8 *and* contains non-ASCII text is rejected as "UTF-8, not
/// Shift_JIS" — Japanese UTF-8 text is almost never valid CP932 by accident, and the other
/// way round the check gives a clearer message than mojibake.
pub fn decode(bytes: &[u8], file: &str) -> Result<String, InputError> {
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        let line = bytes.iter().position(|b| !b.is_ascii()).map(|p| line_of(bytes, p));
        let mut e = InputError::new(
            "E_ENCODING_UTF8",
            file,
            "文字コードがUTF-8です。Shift_JIS(CP932)のファイルを指定してください",
            "file is UTF-8; expected Shift_JIS (CP932)",
        );
        e.line = line;
        return Err(e);
    }
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => Ok(s.into_owned()),
        None => {
            // Find the first line that does not decode.
            for (i, l) in bytes.split(|&b| b == b'\n').enumerate() {
                if SHIFT_JIS.decode_without_bom_handling_and_without_replacement(l).is_none() {
                    return Err(InputError::new(
                        "E_ENCODING",
                        file,
                        "Shift_JIS(CP932)として読めないバイト列があります",
                        "invalid Shift_JIS (CP932) byte sequence",
                    )
                    .at_line(i as u64 + 1));
                }
            }
            Err(InputError::new(
                "E_ENCODING",
                file,
                "Shift_JIS(CP932)として読めないバイト列があります",
                "invalid Shift_JIS (CP932) byte sequence",
            ))
        }
    }
}

fn line_of(bytes: &[u8], pos: usize) -> u64 {
    bytes[..pos].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Encode text to CP932. Returns the first character that has no CP932 form.
pub fn encode(s: &str) -> Result<Vec<u8>, char> {
    let (bytes, _, had_errors) = SHIFT_JIS.encode(s);
    if had_errors {
        // Locate the offending character for the message.
        for ch in s.chars() {
            let mut buf = [0u8; 4];
            let (_, _, bad) = SHIFT_JIS.encode(ch.encode_utf8(&mut buf));
            if bad {
                return Err(ch);
            }
        }
    }
    Ok(bytes.into_owned())
}

/// Byte length of `s` once encoded in CP932 (UKE field lengths are in bytes).
pub fn byte_len(s: &str) -> usize {
    s.chars()
        .map(|c| if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) { 1 } else { 2 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let b = encode("初診料①ｼｮｼﾝ").unwrap();
        assert_eq!(decode(&b, "x").unwrap(), "初診料①ｼｮｼﾝ");
        assert_eq!(byte_len("初診ｼｮ1"), 7);
    }

    #[test]
    fn utf8_rejected_with_line() {
        let e = decode("\"a\"\r\n\"初診料\"\r\n".as_bytes(), "f.csv").unwrap_err();
        assert_eq!(e.code, "E_ENCODING_UTF8");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn malformed_names_line() {
        let mut b = b"\"ok\"\r\n\"ok\"\r\n".to_vec();
        b.extend_from_slice(&[0x82, 0x20, b'\r', b'\n']);
        let e = decode(&b, "f.csv").unwrap_err();
        assert_eq!(e.code, "E_ENCODING");
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn unencodable_char() {
        assert_eq!(encode("a😀"), Err('😀'));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = decode(&bytes, "fuzz");
        }
    }
}
