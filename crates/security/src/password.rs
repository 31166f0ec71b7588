//! Passwords: Argon2id (PHC strings, per-user random salt), policy, the bundled list of common
//! passwords, and generated one-time passwords.

use crate::error::{Result, SecError};
use crate::util::{random_bytes, Secret};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The 10,000 most common passwords (zxcvbn frequency list; see README for source and licence).
const COMMON: &str = include_str!("../data/common-passwords.txt");

/// Defaults that ship with products and are tried first by attackers. Checked on every password
/// set and against every stored hash at service start (see [`crate::weak`]).
pub const DEFAULT_PASSWORDS: &[&str] = &[
    "P@ssw0rd",
    "p@ssw0rd",
    "Passw0rd",
    "password",
    "Password",
    "Password1",
    "Password123",
    "administrator",
    "Administrator",
    "admin",
    "Admin",
    "admin123",
    "changeme",
    "ChangeMe",
    "welcome",
    "Welcome1",
    "root",
    "toor",
    "santei",
    "orca",
    "123456789012",
    "P@ssw0rd123",
    "P@ssw0rd1234",
    "Passw0rd!",
    "qwertyuiop12",
];

/// Version of the password policy; stored with each hash. Hashes set under an older (or
/// unknown) policy are treated as weak at service start.
pub const POLICY_VERSION: i64 = 1;

/// Argon2id cost. Default: OWASP's recommendation (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

impl HashParams {
    /// Cheap parameters for tests only.
    pub const fn insecure_for_tests() -> Self {
        HashParams {
            m_kib: 64,
            t: 1,
            p: 1,
        }
    }
    fn argon2(&self) -> Result<Argon2<'static>> {
        let p = Params::new(self.m_kib, self.t, self.p, None).map_err(|e| {
            SecError::internal(
                format!("Argon2 の設定が不正です: {e}"),
                format!("bad Argon2 parameters: {e}"),
            )
        })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }
}

/// Password policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters (default 12).
    pub min_chars: usize,
    /// Maximum length in bytes (bounds hashing work; default 1024).
    pub max_bytes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: 12,
            max_bytes: 1024,
        }
    }
}

fn common_set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// The bundled list in frequency order (most common first).
pub fn common_passwords() -> impl Iterator<Item = &'static str> {
    COMMON.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Undo the usual substitutions (P@ssw0rd → password) and lower-case.
fn deleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '$' | '5' => 's',
            '7' | '+' => 't',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// True if the password is, or is a trivial decoration of, a common or default password.
pub fn is_common(pw: &str) -> bool {
    let set = common_set();
    let lower = pw.to_lowercase();
    if set.contains(lower.as_str()) || DEFAULT_PASSWORDS.iter().any(|d| d.eq_ignore_ascii_case(pw))
    {
        return true;
    }
    // Strip leading/trailing digits and punctuation ("Password2024!", "!!dragon123456").
    let core =
        lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    if core.chars().count() < 4 {
        // Nothing but digits/punctuation around a tiny core: "123456789012", "!!!!!!!!!!!!".
        return core.is_empty() || set.contains(core);
    }
    if set.contains(core) {
        return true;
    }
    let d = deleet(pw);
    if set.contains(d.as_str()) {
        return true;
    }
    let dcore =
        d.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    dcore.chars().count() >= 4 && set.contains(dcore)
}

/// Check a new password against the policy. `context` holds words the password must not be
/// (user name, tenant code).
pub fn check_policy(policy: &PasswordPolicy, pw: &str, context: &[&str]) -> Result<()> {
    let n = pw.chars().count();
    if n < policy.min_chars {
        return Err(SecError::invalid(
            "S101",
            format!(
                "パスワードが短すぎます({} 文字以上にしてください)",
                policy.min_chars
            ),
            format!(
                "password too short (at least {} characters)",
                policy.min_chars
            ),
        ));
    }
    if pw.len() > policy.max_bytes {
        return Err(SecError::invalid(
            "S102",
            format!(
                "パスワードが長すぎます({} バイト以下にしてください)",
                policy.max_bytes
            ),
            format!("password too long (at most {} bytes)", policy.max_bytes),
        ));
    }
    let distinct: HashSet<char> = pw.chars().collect();
    if distinct.len() < 4 {
        return Err(SecError::invalid(
            "S103",
            "パスワードの文字の種類が少なすぎます",
            "password uses too few distinct characters",
        ));
    }
    let lower = pw.to_lowercase();
    if context
        .iter()
        .any(|c| c.chars().count() >= 3 && lower.contains(&c.to_lowercase()))
    {
        return Err(SecError::invalid(
            "S104",
            "パスワードに利用者名や医療機関コードを含めないでください",
            "password must not contain the user name or tenant code",
        ));
    }
    if is_common(pw) {
        return Err(SecError::invalid(
            "S105",
            "よく使われる(漏えい済みの)パスワードです。別のパスワードにしてください",
            "this is a common (breached) password; choose another",
        ));
    }
    Ok(())
}

/// Hash a password with Argon2id and a fresh 16-byte random salt; returns a PHC string.
pub fn hash_password(params: &HashParams, pw: &str) -> Result<String> {
    let salt_bytes: [u8; 16] = random_bytes()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| {
        SecError::internal(
            format!("ソルトを作れません: {e}"),
            format!("cannot encode salt: {e}"),
        )
    })?;
    params
        .argon2()?
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            SecError::internal(
                format!("ハッシュ化に失敗しました: {e}"),
                format!("hashing failed: {e}"),
            )
        })
}

/// Verify a password against a stored PHC string (constant-time inside argon2). A malformed
/// hash verifies as false.
pub fn verify_password(phc: &str, pw: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// True if the stored hash is an Argon2id PHC string.
pub fn is_argon2id(phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| h.algorithm.as_str() == "argon2id")
        .unwrap_or(false)
}

/// A hash of a random value with the given cost, used to spend the same time on unknown users.
pub fn dummy_hash(params: &HashParams) -> String {
    let r: [u8; 24] = random_bytes().unwrap_or([7u8; 24]);
    hash_password(params, &crate::util::hex(&r)).unwrap_or_default()
}

/// A generated one-time password: 20 characters from an unambiguous alphabet (~110 bits).
pub fn generate_one_time_password() -> Result<Secret> {
    const A: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    let mut i = 0;
    while out.len() < 20 {
        let b: [u8; 32] = random_bytes()?;
        for x in b {
            // Rejection sampling: no modulo bias.
            if (x as usize) < 256 - 256 % A.len() && out.len() < 20 {
                out.push(A[x as usize % A.len()] as char);
            }
        }
        i += 1;
        if i > 100 {
            break;
        }
    }
    Ok(Secret::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hash_and_verify() {
        let p = HashParams::insecure_for_tests();
        let h = hash_password(&p, "correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterz"));
        assert!(!verify_password("not a hash", "x"));
        assert!(is_argon2id(&h));
        // Per-user salt: same password, different hash.
        assert_ne!(h, hash_password(&p, "correct horse battery").unwrap());
    }
    #[test]
    fn policy() {
        let pol = PasswordPolicy::default();
        assert_eq!(check_policy(&pol, "short", &[]).unwrap_err().code, "S101");
        assert_eq!(
            check_policy(&pol, "aaaaaaaaaaaaaaaa", &[])
                .unwrap_err()
                .code,
            "S103"
        );
        assert_eq!(
            check_policy(&pol, "tanaka-kenji-2024", &["tanaka"])
                .unwrap_err()
                .code,
            "S104"
        );
        for weak in [
            "P@ssw0rd1234",
            "1qaz2wsx3edc",
            "qwertyuiop12",
            "Password2024!",
            "Administrator",
            "123456789012",
            "sunshine123456",
        ] {
            assert_eq!(
                check_policy(&pol, weak, &[]).unwrap_err().code,
                "S105",
                "{weak}"
            );
        }
        check_policy(&pol, "kaki-no-tane 7 ringo", &["tanaka"]).unwrap();
        assert_eq!(common_passwords().count(), 10_000);
        assert_eq!(common_passwords().next(), Some("123456"));
    }
    #[test]
    fn otp_generated() {
        let a = generate_one_time_password().unwrap();
        let b = generate_one_time_password().unwrap();
        assert_eq!(a.expose().len(), 20);
        assert_ne!(a, b);
        check_policy(&PasswordPolicy::default(), a.expose(), &[]).unwrap();
    }
}
