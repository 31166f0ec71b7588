//! Text folding for name search: half-width katakana → full-width (ﾞ/ﾟ combined, via
//! `santei_core::text::zenkaku`), full-width ASCII → half-width, hiragana → katakana, ASCII
//! lower-case, spaces removed.

pub fn fold(s: &str) -> String {
    let wide = santei_core::text::zenkaku(s);
    let mut out = String::with_capacity(wide.len());
    for c in wide.chars() {
        let c = match c {
            '\u{3000}' => continue,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        };
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;
    #[test]
    fn folds() {
        assert_eq!(fold("ｼｮｼﾝﾘｮｳ"), "ショシンリョウ");
        assert_eq!(fold("しょしんりょう"), "ショシンリョウ");
        assert_eq!(fold("ｶﾞｽﾀｰ"), "ガスター");
        assert_eq!(fold("ﾍﾟﾝ"), "ペン");
        assert_eq!(fold("ＡＢＣ１２"), "abc12");
        assert_eq!(fold("初診　料"), "初診料");
        assert_eq!(fold("がすたー"), "ガスター");
    }
}
