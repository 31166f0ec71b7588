//! Records the security layer persists. Every record carries its tenant.

use crate::rbac::{Action, Role};
use serde::Serialize;

/// A user account (human). Secrets (hash, TOTP key) are redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub tenant: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Password policy version the hash was checked against when set (see `password::POLICY_VERSION`).
    pub password_policy: i64,
    /// Set for generated one-time passwords: the next login must change it.
    pub must_change_password: bool,
    /// Confirmed TOTP key (enrolled) or None.
    pub totp_secret: Option<Vec<u8>>,
    /// Key shown during enrolment, not yet confirmed.
    pub totp_pending: Option<Vec<u8>>,
    /// Last accepted TOTP time step (replay protection).
    pub totp_last_step: Option<i64>,
    /// Consecutive failed attempts (password or second factor).
    pub failures: i64,
    /// Locked until this Unix time, if locked.
    pub locked_until: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("password_hash", &"<redacted>")
            .field("must_change_password", &self.must_change_password)
            .field("totp_enrolled", &self.totp_secret.is_some())
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A user about to be created.
#[derive(Clone)]
pub struct NewUser {
    pub tenant: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub password_hash: String,
    pub password_policy: i64,
    pub must_change_password: bool,
    pub created_at: i64,
}

/// Stage of a session. Only `Full` sessions authenticate requests; the others are login
/// tickets that allow exactly the next login step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    NeedSecondFactor,
    NeedPasswordChange,
    NeedTotpEnrolment,
    Full,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::NeedSecondFactor => "need_second_factor",
            Stage::NeedPasswordChange => "need_password_change",
            Stage::NeedTotpEnrolment => "need_totp_enrolment",
            Stage::Full => "full",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        [
            Stage::NeedSecondFactor,
            Stage::NeedPasswordChange,
            Stage::NeedTotpEnrolment,
            Stage::Full,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A session or login ticket; only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: [u8; 32],
    pub tenant: String,
    pub user_id: i64,
    pub stage: Stage,
    pub created_at: i64,
    pub last_seen: i64,
    /// Absolute expiry.
    pub expires_at: i64,
}

/// A machine client's API token; only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub tenant: String,
    pub name: String,
    #[serde(skip)]
    pub token_hash: [u8; 32],
    pub scopes: Vec<Action>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Mutual TLS binding: SHA-256 of the DER client certificate the token must arrive with
    /// (None: any connection). See `Security::authenticate_bearer_from`.
    #[serde(serialize_with = "crate::model::ser_opt_hex32")]
    pub client_cert_sha256: Option<[u8; 32]>,
}

pub(crate) fn ser_opt_hex32<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(h) => s.serialize_some(&crate::util::hex(h)),
        None => s.serialize_none(),
    }
}

/// Outcome of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// What to record. `action` is a dotted name (see `audit::actions`); `resource_id` is an internal
/// identifier (never a patient's name or insurer number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub tenant: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl AuditEvent {
    pub fn new(tenant: &str, actor: &str, action: &str, outcome: Outcome) -> Self {
        AuditEvent {
            tenant: tenant.into(),
            actor: actor.into(),
            source: String::new(),
            action: action.into(),
            resource_type: String::new(),
            resource_id: String::new(),
            outcome,
            detail: String::new(),
        }
    }
    pub fn source(mut self, s: &str) -> Self {
        self.source = s.into();
        self
    }
    pub fn resource(mut self, ty: &str, id: &str) -> Self {
        self.resource_type = ty.into();
        self.resource_id = id.into();
        self
    }
    pub fn detail(mut self, d: &str) -> Self {
        self.detail = d.into();
        self
    }
}

/// A stored audit entry: the event plus its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub time: i64,
    pub tenant: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    /// "success" | "failure" | "denied" (kept as text so tampered values are still readable).
    pub outcome: String,
    pub detail: String,
    #[serde(serialize_with = "ser_hex")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "ser_hex")]
    pub hash: Vec<u8>,
}

fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::util::hex(v))
}
