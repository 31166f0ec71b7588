//! Check digits of 保険者番号, 公費負担者番号 and 受給者番号 (DOMAIN.md §4.1: the Luhn rule —
//! weights 2,1,2,… from the rightmost digit before the check digit, digit sums of products,
//! check = (10 − sum mod 10) mod 10).

/// `true` when `s` is all ASCII digits (at least 2) and its last digit is the check digit.
pub fn luhn_ok(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = b.split_at(b.len() - 1);
    let mut sum = 0u32;
    for (i, d) in body.iter().rev().enumerate() {
        let mut p = u32::from(d - b'0') * if i % 2 == 0 { 2 } else { 1 };
        if p >= 10 {
            p = p / 10 + p % 10;
        }
        sum += p;
    }
    check.first().map(|c| u32::from(c - b'0')) == Some((10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::luhn_ok;
    #[test]
    fn domain_examples() {
        // DOMAIN.md §4.1 worked examples.
        for ok in ["33120015", "54016027", "01130012", "39131032", "133066", "12131017", "21136015", "1234566"] {
            assert!(luhn_ok(ok), "{ok}");
        }
        for bad in ["33120016", "133067", "1234565", "", "1", "12a4"] {
            assert!(!luhn_ok(bad), "{bad}");
        }
    }
}
