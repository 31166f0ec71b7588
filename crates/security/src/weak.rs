//! Refuse to start while any account has a known weak or default password.
//!
//! Only hashes are stored, so the check works in two layers:
//! 1. **At set time** (the only moment the plain password exists) every password is checked
//!    against the policy and the full bundled list, and the hash is stored with
//!    `password_policy = POLICY_VERSION`. Generated one-time passwords are random.
//! 2. **At start** [`refuse_weak_accounts`] refuses any user whose hash is not Argon2id or was
//!    set under an older/unknown policy (e.g. a row written by hand or imported), and tries
//!    each user's hash against the default passwords, the user's own name and tenant code,
//!    and the top `top_n` entries of the bundled list. Each try costs one Argon2 verification
//!    (~20–50 ms with the default cost), so the default `top_n` is small (20): about
//!    50 verifications per user. A hash that passed is remembered (SHA-256 of the PHC string in
//!    `security_weak_checked`), so each hash is swept once, not at every start; a changed hash
//!    (new password, or a row edited by hand) is swept again.

use crate::error::{Result, SecError};
use crate::password::{self, common_passwords, DEFAULT_PASSWORDS, POLICY_VERSION};
use crate::store::SecurityStore;
use crate::util::Clock;
use serde::Serialize;

/// A user that must not be allowed to start the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeakAccount {
    pub tenant: String,
    pub user_id: i64,
    pub name: String,
    pub reason: &'static str,
}

/// Default number of entries of the bundled list tried against each stored hash at start.
pub const DEFAULT_TOP_N: usize = 20;

/// Find accounts with weak or default passwords (see module docs).
pub fn find_weak_accounts(store: &dyn SecurityStore, top_n: usize) -> Result<Vec<WeakAccount>> {
    let now = crate::util::SystemClock.now();
    let mut out = Vec::new();
    for u in store.list_users(None)? {
        let reason = if !password::is_argon2id(&u.password_hash) {
            Some("hash is not Argon2id")
        } else if u.password_policy != POLICY_VERSION {
            Some("password was not checked against the current policy")
        } else {
            let mut cands: Vec<String> = DEFAULT_PASSWORDS.iter().map(|s| s.to_string()).collect();
            cands.extend([
                u.name.clone(),
                u.tenant.clone(),
                format!("{}{}", u.name, u.tenant),
            ]);
            cands.extend(common_passwords().take(top_n).map(str::to_string));
            let h = crate::util::sha256(u.password_hash.as_bytes());
            if store.weak_checked(&u.tenant, u.id, &h)? {
                None
            } else if cands
                .iter()
                .any(|c| password::verify_password(&u.password_hash, c))
            {
                Some("known weak or default password")
            } else {
                store.mark_weak_checked(&u.tenant, u.id, &h, now)?;
                None
            }
        };
        if let Some(reason) = reason {
            out.push(WeakAccount {
                tenant: u.tenant,
                user_id: u.id,
                name: u.name,
                reason,
            });
        }
    }
    Ok(out)
}

/// The start-up check the service calls: `Err` (listing the accounts, never passwords) if any
/// account has a weak or default password.
pub fn refuse_weak_accounts(store: &dyn SecurityStore) -> Result<()> {
    let weak = find_weak_accounts(store, DEFAULT_TOP_N)?;
    if weak.is_empty() {
        return Ok(());
    }
    let list = weak
        .iter()
        .map(|w| format!("{}/{} ({})", w.tenant, w.name, w.reason))
        .collect::<Vec<_>>()
        .join(", ");
    tracing::error!(
        count = weak.len(),
        "refusing to start: accounts with weak or default passwords"
    );
    Err(SecError::new(
        crate::error::ErrorKind::Integrity,
        "S401",
        format!("弱い・既定のパスワードの利用者がいるため起動できません。`santei admin reset-password` で再設定してください: {list}"),
        format!("refusing to start: accounts with weak or default passwords; reset them with `santei admin reset-password`: {list}"),
    ))
}
