//! Number checks (DOMAIN.md §4.1, §7): 保険者番号 (6/8 digits), 公費負担者番号, 受給者番号 — check digit.

use crate::params::Params;

/// Result of a number check: hard errors make the number unusable; warnings are for the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NumberCheck {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl NumberCheck {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// 検証番号: the Luhn rule of DOMAIN.md §4.1 ✔ — weights 2,1,2,1… from the rightmost body digit,
/// two-digit products summed digit-wise, check = (10 − sum mod 10) mod 10.
/// (保険者番号等の設定について, 昭和51年 保険発 / 公費負担者番号の検証番号の算出方法.)
pub fn check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in body.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as u32;
        let p = if i % 2 == 0 { d * 2 } else { d };
        sum += p / 10 + p % 10;
    }
    Some(((10 - sum % 10) % 10) as u8)
}

fn digits_ok(s: &str, c: &mut NumberCheck, what: &str, lens: &[usize]) -> bool {
    if !s.bytes().all(|b| b.is_ascii_digit()) || !lens.contains(&s.len()) {
        c.errors.push(format!("{what}「{s}」は {lens:?} 桁の数字ではありません / {what} {s:?} must be {lens:?} digits"));
        return false;
    }
    true
}

fn luhn_ok(s: &str, c: &mut NumberCheck, what: &str) {
    let (body, last) = s.split_at(s.len() - 1);
    let want = check_digit(body).expect("digits");
    if last.as_bytes()[0] - b'0' != want {
        c.errors.push(format!("{what}「{s}」の検証番号が一致しません（期待値 {want}）/ {what} {s:?}: check digit should be {want}"));
    }
}

/// 保険者番号: 8 digits (社保/後期: 法別2 + 都道府県2 + 保険者別3 + 検証1) or 6 digits (国保).
/// 法別 known as insurance (DOMAIN.md §7; `99`-style unknowns warned).
pub fn check_insurer(params: &Params, s: &str) -> NumberCheck {
    let mut c = NumberCheck::default();
    if !digits_ok(s, &mut c, "保険者番号", &[6, 8]) {
        return c;
    }
    luhn_ok(s, &mut c, "保険者番号");
    if s.len() == 8 {
        // 法別番号 (insurance), DOMAIN.md §7 ✔ [S59][S60]; the list is `numbers.insurance_houbetsu`.
        if !params.insurance_houbetsu.iter().any(|h| h == &s[..2]) {
            c.warnings.push(format!("法別番号 {} は医療保険の法別として未知です / unknown insurance houbetsu {}", &s[..2], &s[..2]));
        }
    }
    c
}

/// 公費負担者番号: 8 digits, check digit; 法別 known to the national registry, else warned
/// (地方単独 programs use local numbers; some carry no valid check digit → warning only, DOMAIN.md §4.1 ⚠).
pub fn check_kouhi_payer(params: &Params, s: &str) -> NumberCheck {
    let mut c = NumberCheck::default();
    if !digits_ok(s, &mut c, "公費負担者番号", &[8]) {
        return c;
    }
    let hb: u8 = s[..2].parse().expect("digits");
    let national = params.kouhi.get(hb).is_some();
    let mut tmp = NumberCheck::default();
    luhn_ok(s, &mut tmp, "公費負担者番号");
    if national {
        c.errors.extend(tmp.errors);
    } else {
        c.warnings.push(format!("法別 {:02} は国公費マスタにありません（地方単独?）/ houbetsu {:02} is not a national program (local?)", hb, hb));
        c.warnings.extend(tmp.errors);
    }
    c
}

/// 受給者番号: 7 digits (6 + 検証番号). A 6-digit input is not padded silently: it is an error.
pub fn check_recipient(s: &str) -> NumberCheck {
    let mut c = NumberCheck::default();
    if !digits_ok(s, &mut c, "受給者番号", &[7]) {
        return c;
    }
    luhn_ok(s, &mut c, "受給者番号");
    c
}
