//! Persistence the security layer needs, as a trait, with an in-memory, a SQLite and (cargo
//! feature `postgres`) a PostgreSQL implementation. Operations that race (failure counting, TOTP
//! step use, recovery-code use, audit append) are single atomic methods so that concurrent logins
//! cannot bypass lockout or replay protection.

use crate::error::Result;
use crate::model::{ApiToken, AuditEntry, NewUser, Session, User};
use crate::rbac::Role;

pub mod memory;
#[cfg(feature = "postgres")]
pub mod pgtls;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Result of recording a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureOutcome {
    pub failures: i64,
    /// Some(until) if this failure locked the account.
    pub locked_now: Option<i64>,
}

/// The fields of an audit entry before it gets its place in the chain:
/// `build(i, seq, prev_hash)` makes the `i`-th entry of a batch for sequence number `seq`.
pub type AuditBuilder<'a> = &'a dyn Fn(usize, i64, &[u8]) -> AuditEntry;

pub trait SecurityStore: Send + Sync {
    // ----- users -----
    /// Create a user; error `Conflict` if (tenant, name) exists.
    fn create_user(&self, u: &NewUser) -> Result<i64>;
    fn user_by_name(&self, tenant: &str, name: &str) -> Result<Option<User>>;
    fn user_by_id(&self, tenant: &str, id: i64) -> Result<Option<User>>;
    /// All users of one tenant, or of every tenant with `None`.
    fn list_users(&self, tenant: Option<&str>) -> Result<Vec<User>>;
    fn set_password(
        &self,
        tenant: &str,
        id: i64,
        phc: &str,
        policy: i64,
        must_change: bool,
    ) -> Result<()>;
    fn set_roles(&self, tenant: &str, id: i64, roles: &[Role]) -> Result<()>;
    fn set_disabled(&self, tenant: &str, id: i64, disabled: bool) -> Result<()>;
    /// Store a pending (unconfirmed) TOTP key.
    fn set_totp_pending(&self, tenant: &str, id: i64, key: Option<&[u8]>) -> Result<()>;
    /// Make the pending key the enrolled one and record `step` as used.
    fn confirm_totp(&self, tenant: &str, id: i64, step: i64) -> Result<()>;
    /// Atomically record `step` as used if it is greater than the last used step; false if the
    /// step was already used (replay).
    fn totp_use_step(&self, tenant: &str, id: i64, step: i64) -> Result<bool>;
    /// Count a failure. If the account's lock had expired the counter restarts at 1. When the
    /// count reaches `max`, lock until `now + lock_secs`.
    fn record_failure(
        &self,
        tenant: &str,
        id: i64,
        now: i64,
        max: i64,
        lock_secs: i64,
    ) -> Result<FailureOutcome>;
    /// Clear the failure counter and any lock (successful login or administrator unlock).
    fn reset_failures(&self, tenant: &str, id: i64) -> Result<()>;

    /// Has this exact password hash already passed the start-up weak-password sweep?
    fn weak_checked(&self, tenant: &str, user: i64, phc_sha256: &[u8; 32]) -> Result<bool>;
    /// Remember that this hash passed the sweep (so the next start does not repeat it).
    fn mark_weak_checked(
        &self,
        tenant: &str,
        user: i64,
        phc_sha256: &[u8; 32],
        now: i64,
    ) -> Result<()>;

    // ----- recovery codes -----
    fn replace_recovery_codes(&self, tenant: &str, user: i64, hashes: &[[u8; 32]]) -> Result<()>;
    /// Atomically mark an unused code as used; false if no such unused code.
    fn consume_recovery_code(
        &self,
        tenant: &str,
        user: i64,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<bool>;
    fn unused_recovery_codes(&self, tenant: &str, user: i64) -> Result<usize>;

    // ----- sessions -----
    fn insert_session(&self, s: &Session) -> Result<()>;
    fn session(&self, token_hash: &[u8; 32]) -> Result<Option<Session>>;
    fn touch_session(&self, token_hash: &[u8; 32], now: i64) -> Result<()>;
    fn delete_session(&self, token_hash: &[u8; 32]) -> Result<()>;
    fn delete_user_sessions(&self, tenant: &str, user: i64) -> Result<()>;

    // ----- API tokens -----
    fn insert_api_token(&self, t: &ApiToken) -> Result<i64>;
    fn api_token(&self, token_hash: &[u8; 32]) -> Result<Option<ApiToken>>;
    fn list_api_tokens(&self, tenant: &str) -> Result<Vec<ApiToken>>;
    fn revoke_api_token(&self, tenant: &str, id: i64, now: i64) -> Result<bool>;

    // ----- audit -----
    /// Append `n` entries atomically, in one transaction (group commit): `build(i, seq,
    /// prev_hash)` makes the `i`-th for the next sequence number given the previous entry's hash
    /// (all zeros for the first entry of the log). Either all `n` are appended or none.
    fn append_audit(&self, n: usize, build: AuditBuilder<'_>) -> Result<Vec<AuditEntry>>;
    /// Entries with `seq > after`, in stored order (by seq), at most `limit`.
    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Entries of one tenant (for auditors), newest last.
    fn audit_entries_for_tenant(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>>;
}
