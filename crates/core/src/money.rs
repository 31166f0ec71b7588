//! Exact decimal money. Prices in the SSK masters carry up to 2 decimals (薬価 e.g. `10.10`);
//! they are kept as [`rust_decimal::Decimal`] and never as floating point.

pub use rust_decimal::Decimal;

/// Parse a master decimal field such as `"291.00"`, `"16.50"`, `"0"`. Empty → `None`.
pub fn parse_decimal(s: &str) -> Option<Result<Decimal, ()>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return Some(Err(()));
    }
    Some(s.parse::<Decimal>().map_err(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_master_decimals() {
        assert_eq!(parse_decimal("291.00"), Some(Ok(Decimal::new(29100, 2))));
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("1e5"), Some(Err(())));
        assert_eq!(parse_decimal("12.3.4"), Some(Err(())));
    }
}
