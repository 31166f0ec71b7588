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

/// Serde adapter storing a [`Decimal`] as its 16-byte binary form (fast in binary snapshots).
pub mod serde_bin {
    use super::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            d.to_string().serialize(s)
        } else {
            d.serialize().serialize(s)
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            let b = <[u8; 16]>::deserialize(d)?;
            Ok(Decimal::deserialize(b))
        }
    }
}
