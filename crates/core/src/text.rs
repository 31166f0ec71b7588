//! Full-width (全角) conversion for 漢字-mode UKE fields (記録条件仕様: 漢字項目 are recorded in
//! JIS X 0208 full-width characters; half-width and full-width must not be mixed in one field).

const HALF_KANA: &str = "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ";
const FULL_KANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜";

/// ASCII → full-width forms (space → U+3000), half-width katakana → full-width katakana with
/// ﾞ/ﾟ combined into the voiced letter. Other characters are kept.
pub fn zenkaku(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for c in s.chars() {
        let full = match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            'ﾞ' | 'ﾟ' => {
                let last = out.chars().last();
                let combined = last.and_then(|l| match (c, l) {
                    ('ﾞ', 'ウ') => Some('ヴ'),
                    ('ﾞ', _) => voiced(l),
                    _ => semi_voiced(l),
                });
                if let Some(v) = combined {
                    out.pop();
                    out.push(v);
                    continue;
                }
                if c == 'ﾞ' { '゛' } else { '゜' }
            }
            '\u{FF61}'..='\u{FF9D}' => HALF_KANA.chars().position(|h| h == c).and_then(|i| FULL_KANA.chars().nth(i)).unwrap_or(c),
            _ => c,
        };
        out.push(full);
    }
    out
}

fn voiced(c: char) -> Option<char> {
    // カ..ト: voiced = next code point for the letters that have one; ハ..ホ: +1 (バ…).
    const HAS: &str = "カキクケコサシスセソタチツテトハヒフヘホ";
    HAS.contains(c).then(|| char::from_u32(c as u32 + 1)).flatten()
}

fn semi_voiced(c: char) -> Option<char> {
    "ハヒフヘホ".contains(c).then(|| char::from_u32(c as u32 + 2)).flatten()
}

#[cfg(test)]
mod tests {
    use super::zenkaku;
    #[test]
    fn converts() {
        assert_eq!(zenkaku("請求B 1"), "請求Ｂ　１");
        assert_eq!(zenkaku("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ　タロウ");
        assert_eq!(zenkaku("ﾊﾟﾋﾟﾌﾟ"), "パピプ");
        assert_eq!(zenkaku("ｳﾞ"), "ヴ");
        assert_eq!(zenkaku("山田　太郎"), "山田　太郎");
    }
}
