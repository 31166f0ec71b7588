//! TOTP (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits, 30-second steps, ±1 step window.
//! Replay protection lives in the caller: a verified step is accepted only if it is greater than
//! the last step used by that user (stored atomically, see `SecurityStore::totp_use_step`).

use crate::util::{base32, ct_eq, random_bytes, Secret};
use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Accepted steps around the current one (±1: 30 s of clock drift either way).
pub const WINDOW: i64 = 1;

/// HOTP value (RFC 4226) for a counter, with `digits` digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(), // HMAC accepts any key length; unreachable in practice
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = ((h[off] as u32 & 0x7f) << 24)
        | ((h[off + 1] as u32) << 16)
        | ((h[off + 2] as u32) << 8)
        | h[off + 3] as u32;
    let v = bin % 10u32.pow(digits);
    format!("{v:0width$}", width = digits as usize)
}

/// The time step containing `t` (Unix seconds).
pub fn step_of(t: i64) -> i64 {
    t.div_euclid(STEP_SECS)
}

/// The 6-digit code for time `t`.
pub fn code_at(key: &[u8], t: i64) -> String {
    hotp(key, step_of(t).max(0) as u64, DIGITS)
}

/// Verify `code` at time `now`: returns the matching step if the code matches a step within the
/// window that is strictly after `last_used_step`. All window candidates are compared in
/// constant time; malformed input (wrong length, non-digits) simply fails.
pub fn verify(key: &[u8], code: &str, now: i64, last_used_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cur = step_of(now);
    let mut found = None;
    for s in (cur - WINDOW)..=(cur + WINDOW) {
        if s < 0 {
            continue;
        }
        let ok = ct_eq(hotp(key, s as u64, DIGITS).as_bytes(), code.as_bytes());
        let fresh = last_used_step.map_or(true, |l| s > l);
        if ok && fresh && found.is_none() {
            found = Some(s);
        }
    }
    found
}

/// A new 160-bit TOTP secret (RFC 4226 recommends 160 bits).
pub fn new_secret() -> crate::error::Result<[u8; 20]> {
    random_bytes()
}

/// The `otpauth://` URI authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, key: &[u8]) -> Secret {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    Secret::new(format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(key),
        enc(issuer)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rfc6238_sha1_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(hotp(key, step_of(t) as u64, 8), want, "t={t}");
        }
        assert_eq!(code_at(key, 59), "287082");
    }
    #[test]
    fn window_and_replay() {
        let key = b"12345678901234567890";
        let now = 1_700_000_000;
        let c = code_at(key, now);
        assert_eq!(verify(key, &c, now, None), Some(step_of(now)));
        assert_eq!(verify(key, &c, now + 30, None), Some(step_of(now)));
        assert_eq!(verify(key, &c, now - 30, None), Some(step_of(now)));
        assert_eq!(verify(key, &c, now + 60, None), None);
        assert_eq!(verify(key, &c, now, Some(step_of(now))), None, "replay");
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(verify(key, bad, now, None), None);
        }
    }
    #[test]
    fn uri() {
        let u = otpauth_uri("santei", "1310000001:tanaka", b"12345678901234567890");
        assert_eq!(
            u.expose(),
            "otpauth://totp/santei:1310000001%3Atanaka?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=santei&algorithm=SHA1&digits=6&period=30"
        );
    }
}
