//! Text folding for name search: full-width ASCII → half-width, half-width katakana → full-width
//! (with ﾞ/ﾟ combined), hiragana → katakana, ASCII lower-case, spaces removed.

const HALF_KANA: &str = "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ";
const FULL_KANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

fn half_to_full(c: char) -> Option<char> {
    HALF_KANA.chars().position(|h| h == c).and_then(|i| FULL_KANA.chars().nth(i))
}

fn voiced(c: char) -> Option<char> {
    // カ→ガ etc.: voiced forms are the next code point for カ..ト and ハ..ホ; ウ→ヴ.
    match c {
        'ウ' => Some('ヴ'),
        'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ' | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => {
            char::from_u32(c as u32 + 1)
        }
        _ => None,
    }
}

fn semi_voiced(c: char) -> Option<char> {
    match c {
        'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(c as u32 + 2),
        _ => None,
    }
}

pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            'ﾞ' | '゛' | '\u{3099}' => {
                if let Some(v) = out.chars().last().and_then(voiced) {
                    out.pop();
                    out.push(v);
                    continue;
                }
                c
            }
            'ﾟ' | '゜' | '\u{309A}' => {
                if let Some(v) = out.chars().last().and_then(semi_voiced) {
                    out.pop();
                    out.push(v);
                    continue;
                }
                c
            }
            '\u{FF61}'..='\u{FF9D}' => half_to_full(c).unwrap_or(c),
            ' ' | '\u{3000}' => continue,
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
    }
}
