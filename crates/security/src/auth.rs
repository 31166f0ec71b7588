//! The security service: login state machine, lockout, sessions, API tokens, authorisation and
//! auditing. This is what the service's single auth layer calls.
//!
//! ```text
//!  login_password ──► NeedSecondFactor ──login_second_factor──┐
//!        │                                                    ▼
//!        ├──(one-time password)──────────────────────► NeedPasswordChange ──change_password──┐
//!        │                                                                                    ▼
//!        └──(no TOTP yet)────────────────────────────► NeedTotpEnrolment ◄────────────────────┘
//!                                                        │ begin_totp_enrolment / confirm_totp_enrolment
//!                                                        ▼
//!                                                   Complete(session)
//! ```
//!
//! Each step returns a new opaque ticket (the old one is deleted), valid for `ticket_secs`,
//! that allows exactly the next step. Only a `Complete` session authenticates requests.
//! A second factor is a [`SecondFactor`] value; WebAuthn will be another variant.

use crate::audit::{self, actions, Anchor, ChainReport};
use crate::error::{Result, SecError};
use crate::model::{ApiToken, AuditEntry, AuditEvent, NewUser, Outcome, Session, Stage, User};
use crate::password::{self, HashParams, PasswordPolicy};
use crate::rbac::{Action, Principal, Role, Subject};
use crate::store::SecurityStore;
use crate::totp;
use crate::util::{base32, hex, random_bytes, sha256, Clock, Secret};
use std::path::PathBuf;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Settings (all have safe defaults).
#[derive(Debug, Clone)]
pub struct Config {
    /// Consecutive failures (password or second factor) that lock an account (default 5).
    pub max_failures: i64,
    /// Lock duration in seconds (default 15 minutes).
    pub lock_secs: i64,
    /// A session ends after this long without a request (default 15 minutes).
    pub session_idle_secs: i64,
    /// A session ends this long after login whatever happens (default 8 hours).
    pub session_absolute_secs: i64,
    /// Lifetime of a login ticket between two steps (default 5 minutes).
    pub ticket_secs: i64,
    /// Write `last_seen` at most this often per session (default 60 s), to keep requests cheap.
    pub touch_interval_secs: i64,
    pub hash: HashParams,
    pub policy: PasswordPolicy,
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    pub recovery_codes: usize,
    /// If set, the audit head is also written to this file after each append (see
    /// [`audit::Anchor`]).
    pub anchor_file: Option<PathBuf>,
    /// A valid API token is remembered in memory for this many seconds, so machine clients cost
    /// no database read per request (default 5; 0 turns the cache off). Revoking through this
    /// node takes effect at once; a revocation made on another node (shared PostgreSQL) within
    /// this many seconds. Expiry is always checked against the token's own `expires_at`.
    pub token_cache_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_failures: 5,
            lock_secs: 15 * 60,
            session_idle_secs: 15 * 60,
            session_absolute_secs: 8 * 3600,
            ticket_secs: 5 * 60,
            touch_interval_secs: 60,
            hash: HashParams::default(),
            policy: PasswordPolicy::default(),
            issuer: "santei".into(),
            recovery_codes: 10,
            anchor_file: None,
            token_cache_secs: 5,
        }
    }
}

/// A second factor presented at login. (WebAuthn: add a variant and a verifier.)
#[derive(Debug, Clone)]
pub enum SecondFactor {
    Totp(Secret),
    RecoveryCode(Secret),
}

/// Where a login stands. Tickets and session tokens are shown to their owner only.
#[derive(Debug, Clone)]
pub enum LoginStep {
    NeedSecondFactor { ticket: Secret },
    NeedPasswordChange { ticket: Secret },
    NeedTotpEnrolment { ticket: Secret },
    Complete { session: Secret, expires_at: i64 },
}

impl LoginStep {
    pub fn ticket(&self) -> Option<&Secret> {
        match self {
            LoginStep::NeedSecondFactor { ticket }
            | LoginStep::NeedPasswordChange { ticket }
            | LoginStep::NeedTotpEnrolment { ticket } => Some(ticket),
            LoginStep::Complete { .. } => None,
        }
    }
    pub fn stage(&self) -> Stage {
        match self {
            LoginStep::NeedSecondFactor { .. } => Stage::NeedSecondFactor,
            LoginStep::NeedPasswordChange { .. } => Stage::NeedPasswordChange,
            LoginStep::NeedTotpEnrolment { .. } => Stage::NeedTotpEnrolment,
            LoginStep::Complete { .. } => Stage::Full,
        }
    }
}

/// What the user needs to set up an authenticator app.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// Base32 key for manual entry.
    pub secret_base32: Secret,
    /// `otpauth://` URI (render as a QR code).
    pub uri: Secret,
}

/// Result of confirming TOTP enrolment: the session and the recovery codes (shown once).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub step: LoginStep,
    pub recovery_codes: Vec<Secret>,
}

const SESSION_PREFIX: &str = "sst_";
const TICKET_PREFIX: &str = "stk_";
const API_PREFIX: &str = "sat_";

fn new_token(prefix: &str) -> Result<(Secret, [u8; 32])> {
    let r: [u8; 32] = random_bytes()?;
    let t = format!("{prefix}{}", hex(&r));
    let h = sha256(t.as_bytes());
    Ok((Secret::new(t), h))
}

fn recovery_hash(tenant: &str, user: i64, code: &str) -> [u8; 32] {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256(format!("santei-recovery-v1\n{tenant}\n{user}\n{norm}").as_bytes())
}

/// The security layer.
pub struct Security {
    store: Arc<dyn SecurityStore>,
    clock: Arc<dyn Clock>,
    cfg: Config,
    dummy: OnceLock<String>,
    /// Serialises anchor writes and keeps them monotonic (highest seq written so far).
    anchor_seq: Mutex<i64>,
    /// Valid API tokens seen lately: SHA-256 of the token → (principal, token expiry, cached at).
    token_cache: RwLock<TokenCache>,
}

/// `generation` counts revocations: a lookup that started before a revocation does not enter
/// its result afterwards (it may have read the token before the revocation committed).
#[derive(Default)]
struct TokenCache {
    generation: u64,
    map: HashMap<[u8; 32], CachedToken>,
}

#[derive(Clone)]
struct CachedToken {
    principal: Principal,
    expires_at: i64,
    cached_at: i64,
    client_cert_sha256: Option<[u8; 32]>,
}

/// A token bound to a client certificate passes only with that certificate (constant time).
fn cert_matches(bound: &Option<[u8; 32]>, presented: Option<&[u8; 32]>) -> bool {
    match (bound, presented) {
        (None, _) => true,
        (Some(b), Some(p)) => crate::util::ct_eq(b, p),
        (Some(_), None) => false,
    }
}

/// Upper bound of the API token cache (cleared when full; only valid tokens enter it).
const TOKEN_CACHE_MAX: usize = 4096;

impl Security {
    pub fn new(store: Arc<dyn SecurityStore>, clock: Arc<dyn Clock>, cfg: Config) -> Self {
        Security {
            store,
            clock,
            cfg,
            dummy: OnceLock::new(),
            anchor_seq: Mutex::new(0),
            token_cache: RwLock::new(TokenCache::default()),
        }
    }

    pub fn store(&self) -> &Arc<dyn SecurityStore> {
        &self.store
    }
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    // ------------------------------------------------------------------ audit

    /// Append an event to the hash-chained audit log (and refresh the anchor file if configured).
    pub fn audit(&self, ev: AuditEvent) -> Result<AuditEntry> {
        let mut v = self.audit_batch(std::slice::from_ref(&ev))?;
        v.pop().ok_or_else(|| SecError::internal("監査ログの追記結果がありません", "audit append returned no entry"))
    }

    /// Append several events in one transaction (group commit: what the service's audit writer
    /// uses under load) and refresh the anchor once, to the last of them. All or none are
    /// appended; they get consecutive sequence numbers in the given order and share one time.
    pub fn audit_batch(&self, evs: &[AuditEvent]) -> Result<Vec<AuditEntry>> {
        let entries = self.append_audit_entries(evs)?;
        if let Some(e) = entries.last() {
            self.refresh_anchor(e)?;
        }
        Ok(entries)
    }

    /// The first half of [`Self::audit_batch`]: append to the store, leave the anchor file alone
    /// (for a caller that must tell a failed append, to be retried, from a failed anchor write,
    /// not to be appended twice).
    pub fn append_audit_entries(&self, evs: &[AuditEvent]) -> Result<Vec<AuditEntry>> {
        if evs.is_empty() {
            return Ok(Vec::new());
        }
        let time = self.clock.now();
        let build = |i: usize, seq: i64, prev: &[u8]| {
            let ev = &evs[i];
            let mut e = AuditEntry {
                seq,
                time,
                tenant: ev.tenant.clone(),
                actor: ev.actor.clone(),
                source: ev.source.clone(),
                action: ev.action.clone(),
                resource_type: ev.resource_type.clone(),
                resource_id: ev.resource_id.clone(),
                outcome: ev.outcome.as_str().to_string(),
                detail: ev.detail.clone(),
                prev_hash: prev.to_vec(),
                hash: Vec::new(),
            };
            e.hash = audit::entry_hash(&e).to_vec();
            e
        };
        self.store.append_audit(evs.len(), &build)
    }

    /// The second half of [`Self::audit_batch`]: record `e` as the head in the anchor file (if
    /// one is configured), unless a later entry is recorded there already.
    pub fn refresh_anchor(&self, e: &AuditEntry) -> Result<()> {
        let Some(p) = &self.cfg.anchor_file else {
            return Ok(());
        };
        // Concurrent appends finish in any order: write under a lock, never move backwards.
        let mut last = self.anchor_seq.lock().unwrap_or_else(|p| p.into_inner());
        if e.seq > *last {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&e.hash);
            Anchor { seq: e.seq, hash }.write(p)?;
            *last = e.seq;
        }
        Ok(())
    }

    /// Verify the audit chain (and the anchor file, if configured and present).
    pub fn verify_audit(&self) -> Result<ChainReport> {
        let anchor = match &self.cfg.anchor_file {
            Some(p) => Anchor::read(p)?,
            None => None,
        };
        audit::verify_chain(self.store.as_ref(), anchor)
    }

    /// Read audit entries of the principal's tenant (requires `ReadAudit`).
    pub fn read_audit(&self, who: &Principal, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.authorize(who, &who.tenant, Action::ReadAudit, "")?;
        self.store
            .audit_entries_for_tenant(&who.tenant, after, limit.min(10_000))
    }

    // ------------------------------------------------------------------ accounts

    fn new_user(&self, tenant: &str, name: &str, roles: &[Role]) -> Result<(i64, Secret)> {
        validate_name(tenant, "医療機関コード", "tenant code")?;
        validate_name(name, "利用者名", "user name")?;
        if roles.is_empty() || roles.contains(&Role::ApiClient) {
            return Err(SecError::invalid(
                "S106",
                "利用者には人の役割(administrator/clerk/physician/auditor)を 1 つ以上与えてください。機械連携には API トークンを使います",
                "give a user at least one human role (administrator/clerk/physician/auditor); machine clients use API tokens",
            ));
        }
        let otp = password::generate_one_time_password()?;
        let phc = password::hash_password(&self.cfg.hash, otp.expose())?;
        let id = self.store.create_user(&NewUser {
            tenant: tenant.into(),
            name: name.into(),
            roles: roles.to_vec(),
            password_hash: phc,
            password_policy: password::POLICY_VERSION,
            must_change_password: true,
            created_at: self.clock.now(),
        })?;
        Ok((id, otp))
    }

    /// Create the first administrator of a tenant (`santei admin init`). Refused if the tenant
    /// already has an administrator. Returns the user id and a one-time password to show once.
    pub fn init_tenant_admin(
        &self,
        tenant: &str,
        name: &str,
        actor: &str,
    ) -> Result<(i64, Secret)> {
        if self
            .store
            .list_users(Some(tenant))?
            .iter()
            .any(|u| u.roles.contains(&Role::Administrator))
        {
            return Err(SecError::conflict(
                "S202",
                format!("医療機関 {tenant} には既に管理者がいます"),
                format!("tenant {tenant} already has an administrator"),
            ));
        }
        let (id, otp) = self.new_user(tenant, name, &[Role::Administrator])?;
        self.audit(
            AuditEvent::new(tenant, actor, actions::TENANT_INIT, Outcome::Success)
                .resource("user", &id.to_string()),
        )?;
        tracing::info!(tenant, user_id = id, "first administrator created");
        Ok((id, otp))
    }

    /// An administrator creates a user of the same tenant; returns a one-time password.
    /// `who` is an administrator of the same tenant, or `None` for the local operator.
    pub fn create_user(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        roles: &[Role],
        source: &str,
    ) -> Result<(i64, Secret)> {
        let actor = self.actor_for(who, tenant, source)?;
        let (id, otp) = self.new_user(tenant, name, roles)?;
        self.audit(
            AuditEvent::new(tenant, &actor, actions::USER_CREATE, Outcome::Success)
                .source(source)
                .resource("user", &id.to_string())
                .detail(&crate::rbac::roles_to_string(roles)),
        )?;
        Ok((id, otp))
    }

    /// An administrator of `tenant` (checked), or the local operator of the CLI (`None`), who has
    /// file-system access to the database anyway.
    fn actor_for(&self, who: Option<&Principal>, tenant: &str, source: &str) -> Result<String> {
        match who {
            Some(p) => {
                self.authorize(p, tenant, Action::ManageUsers, source)?;
                Ok(p.actor())
            }
            None => Ok("cli:operator".to_string()),
        }
    }

    /// Disable or re-enable a user (ends the user's sessions).
    pub fn set_disabled(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        disabled: bool,
        source: &str,
    ) -> Result<()> {
        let actor = self.actor_for(who, tenant, source)?;
        let u = self
            .store
            .user_by_name(tenant, name)?
            .ok_or_else(|| SecError::not_found("利用者", "user"))?;
        self.store.set_disabled(tenant, u.id, disabled)?;
        self.store.delete_user_sessions(tenant, u.id)?;
        self.audit(
            AuditEvent::new(tenant, &actor, actions::USER_DISABLE, Outcome::Success)
                .source(source)
                .resource("user", &u.id.to_string())
                .detail(if disabled { "disabled" } else { "enabled" }),
        )?;
        Ok(())
    }

    /// Unlock an account. `who` is an administrator of the same tenant, or `None` for the local
    /// operator (`santei admin unlock`, who has file-system access to the database anyway).
    pub fn unlock(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        source: &str,
    ) -> Result<()> {
        let actor = self.actor_for(who, tenant, source)?;
        let u = self
            .store
            .user_by_name(tenant, name)?
            .ok_or_else(|| SecError::not_found("利用者", "user"))?;
        self.store.reset_failures(tenant, u.id)?;
        self.audit(
            AuditEvent::new(tenant, &actor, actions::UNLOCK, Outcome::Success)
                .source(source)
                .resource("user", &u.id.to_string()),
        )?;
        tracing::info!(tenant, user_id = u.id, "account unlocked");
        Ok(())
    }

    /// Reset a user's password to a new one-time password (forces a change at next login).
    pub fn reset_password(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        source: &str,
    ) -> Result<Secret> {
        let actor = self.actor_for(who, tenant, source)?;
        let u = self
            .store
            .user_by_name(tenant, name)?
            .ok_or_else(|| SecError::not_found("利用者", "user"))?;
        let otp = password::generate_one_time_password()?;
        let phc = password::hash_password(&self.cfg.hash, otp.expose())?;
        self.store
            .set_password(tenant, u.id, &phc, password::POLICY_VERSION, true)?;
        self.store.delete_user_sessions(tenant, u.id)?;
        self.audit(
            AuditEvent::new(tenant, &actor, actions::PASSWORD_CHANGE, Outcome::Success)
                .source(source)
                .resource("user", &u.id.to_string())
                .detail("reset to one-time password"),
        )?;
        Ok(otp)
    }

    // ------------------------------------------------------------------ login

    fn dummy_hash(&self) -> &str {
        self.dummy
            .get_or_init(|| password::dummy_hash(&self.cfg.hash))
    }

    fn locked(&self, u: &User, now: i64) -> bool {
        u.locked_until.is_some_and(|t| t > now)
    }

    /// Count a failure for `u`; audit it and, if it locked the account, audit the lock.
    fn fail(&self, u: &User, factor: &str, source: &str) -> SecError {
        let now = self.clock.now();
        let r = self.store.record_failure(
            &u.tenant,
            u.id,
            now,
            self.cfg.max_failures,
            self.cfg.lock_secs,
        );
        let _ = self.audit(
            AuditEvent::new(
                &u.tenant,
                &format!("user:{}", u.id),
                factor,
                Outcome::Failure,
            )
            .source(source)
            .resource("user", &u.id.to_string()),
        );
        tracing::warn!(tenant = %u.tenant, user_id = u.id, factor, "authentication failure");
        if let Ok(o) = r {
            if let Some(until) = o.locked_now {
                let _ = self.audit(
                    AuditEvent::new(&u.tenant, "system", actions::LOCK, Outcome::Success)
                        .source(source)
                        .resource("user", &u.id.to_string())
                        .detail(&format!(
                            "{} consecutive failures; locked until {}",
                            o.failures,
                            crate::util::iso(until)
                        )),
                );
                tracing::warn!(tenant = %u.tenant, user_id = u.id, until, "account locked");
            }
        }
        SecError::auth_failed()
    }

    /// Step 1: user name and password.
    pub fn login_password(
        &self,
        tenant: &str,
        name: &str,
        pw: &Secret,
        source: &str,
    ) -> Result<LoginStep> {
        let now = self.clock.now();
        let user = self.store.user_by_name(tenant, name)?;
        // Absurdly long input: never a valid password; don't hash megabytes.
        let pw = if pw.expose().len() > self.cfg.policy.max_bytes {
            &Secret::new(String::new())
        } else {
            pw
        };
        let Some(u) = user.filter(|u| !u.disabled && u.roles.iter().any(|r| r.is_human())) else {
            // Same work as for a real user, same answer. The attempted name is not recorded
            // (people type passwords into the name field).
            let _ = password::verify_password(self.dummy_hash(), pw.expose());
            let _ = self.audit(
                AuditEvent::new(tenant, "unknown", actions::LOGIN_PASSWORD, Outcome::Failure)
                    .source(source),
            );
            tracing::warn!(tenant, "authentication failure (unknown or disabled user)");
            return Err(SecError::auth_failed());
        };
        let ok = password::verify_password(&u.password_hash, pw.expose());
        if self.locked(&u, now) {
            let _ = self.audit(
                AuditEvent::new(
                    tenant,
                    &format!("user:{}", u.id),
                    actions::LOGIN_PASSWORD,
                    Outcome::Denied,
                )
                .source(source)
                .resource("user", &u.id.to_string())
                .detail("account locked"),
            );
            return Err(SecError::auth_failed());
        }
        if !ok {
            return Err(self.fail(&u, actions::LOGIN_PASSWORD, source));
        }
        let stage = if u.totp_secret.is_some() {
            Stage::NeedSecondFactor
        } else {
            self.after_second_factor(&u)
        };
        self.audit(
            AuditEvent::new(
                tenant,
                &format!("user:{}", u.id),
                actions::LOGIN_PASSWORD,
                Outcome::Success,
            )
            .source(source)
            .resource("user", &u.id.to_string()),
        )?;
        self.issue(&u, stage, source)
    }

    /// The stage after the second factor was satisfied (or when none is enrolled yet).
    fn after_second_factor(&self, u: &User) -> Stage {
        if u.must_change_password {
            Stage::NeedPasswordChange
        } else if u.totp_secret.is_none() {
            Stage::NeedTotpEnrolment
        } else {
            Stage::Full
        }
    }

    fn issue(&self, u: &User, stage: Stage, source: &str) -> Result<LoginStep> {
        let now = self.clock.now();
        if stage == Stage::Full {
            // Never a full session without a confirmed second factor.
            if u.totp_secret.is_none() || u.must_change_password {
                return Err(SecError::auth_failed());
            }
            let (tok, h) = new_token(SESSION_PREFIX)?;
            let expires_at = now + self.cfg.session_absolute_secs;
            self.store.insert_session(&Session {
                token_hash: h,
                tenant: u.tenant.clone(),
                user_id: u.id,
                stage,
                created_at: now,
                last_seen: now,
                expires_at,
            })?;
            self.store.reset_failures(&u.tenant, u.id)?;
            self.audit(
                AuditEvent::new(
                    &u.tenant,
                    &format!("user:{}", u.id),
                    actions::LOGIN,
                    Outcome::Success,
                )
                .source(source)
                .resource("user", &u.id.to_string()),
            )?;
            tracing::info!(tenant = %u.tenant, user_id = u.id, "login");
            return Ok(LoginStep::Complete {
                session: tok,
                expires_at,
            });
        }
        let (tok, h) = new_token(TICKET_PREFIX)?;
        self.store.insert_session(&Session {
            token_hash: h,
            tenant: u.tenant.clone(),
            user_id: u.id,
            stage,
            created_at: now,
            last_seen: now,
            expires_at: now + self.cfg.ticket_secs,
        })?;
        Ok(match stage {
            Stage::NeedSecondFactor => LoginStep::NeedSecondFactor { ticket: tok },
            Stage::NeedPasswordChange => LoginStep::NeedPasswordChange { ticket: tok },
            _ => LoginStep::NeedTotpEnrolment { ticket: tok },
        })
    }

    /// Look up a ticket of the given stage; uniform failure otherwise. Does not consume it.
    fn ticket(&self, ticket: &Secret, stage: Stage) -> Result<(Session, User)> {
        let now = self.clock.now();
        let h = sha256(ticket.expose().as_bytes());
        let s = self.store.session(&h)?.ok_or_else(SecError::auth_failed)?;
        if s.stage != stage || s.expires_at <= now {
            return Err(SecError::auth_failed());
        }
        let u = self
            .store
            .user_by_id(&s.tenant, s.user_id)?
            .ok_or_else(SecError::auth_failed)?;
        if u.disabled {
            return Err(SecError::auth_failed());
        }
        if self.locked(&u, now) {
            self.store.delete_session(&h)?;
            return Err(SecError::auth_failed());
        }
        Ok((s, u))
    }

    /// Step 2: a second factor (TOTP code or recovery code).
    pub fn login_second_factor(
        &self,
        ticket: &Secret,
        factor: &SecondFactor,
        source: &str,
    ) -> Result<LoginStep> {
        let (s, u) = self.ticket(ticket, Stage::NeedSecondFactor)?;
        let now = self.clock.now();
        let ok = match factor {
            SecondFactor::Totp(code) => match u.totp_secret.as_deref() {
                Some(key) => match totp::verify(key, code.expose(), now, u.totp_last_step) {
                    // Atomic: a concurrent request with the same code loses here.
                    Some(step) => self.store.totp_use_step(&u.tenant, u.id, step)?,
                    None => false,
                },
                None => false,
            },
            SecondFactor::RecoveryCode(code) => {
                let h = recovery_hash(&u.tenant, u.id, code.expose());
                let used = self.store.consume_recovery_code(&u.tenant, u.id, &h, now)?;
                if used {
                    let left = self
                        .store
                        .unused_recovery_codes(&u.tenant, u.id)
                        .unwrap_or(0);
                    self.audit(
                        AuditEvent::new(
                            &u.tenant,
                            &format!("user:{}", u.id),
                            actions::RECOVERY_CODE_USED,
                            Outcome::Success,
                        )
                        .source(source)
                        .resource("user", &u.id.to_string())
                        .detail(&format!("{left} recovery codes left")),
                    )?;
                }
                used
            }
        };
        if !ok {
            return Err(self.fail(&u, actions::LOGIN_SECOND_FACTOR, source));
        }
        self.store.delete_session(&s.token_hash)?;
        let next = self.after_second_factor(&u);
        self.issue(&u, next, source)
    }

    /// Step: set a new password (required after a one-time password).
    pub fn change_password(
        &self,
        ticket: &Secret,
        new_pw: &Secret,
        source: &str,
    ) -> Result<LoginStep> {
        let (s, u) = self.ticket(ticket, Stage::NeedPasswordChange)?;
        password::check_policy(&self.cfg.policy, new_pw.expose(), &[&u.name, &u.tenant])?;
        if password::verify_password(&u.password_hash, new_pw.expose()) {
            return Err(SecError::invalid(
                "S107",
                "以前と同じパスワードは使えません",
                "the new password must differ from the old one",
            ));
        }
        let phc = password::hash_password(&self.cfg.hash, new_pw.expose())?;
        self.store
            .set_password(&u.tenant, u.id, &phc, password::POLICY_VERSION, false)?;
        self.audit(
            AuditEvent::new(
                &u.tenant,
                &format!("user:{}", u.id),
                actions::PASSWORD_CHANGE,
                Outcome::Success,
            )
            .source(source)
            .resource("user", &u.id.to_string()),
        )?;
        self.store.delete_session(&s.token_hash)?;
        let u = self
            .store
            .user_by_id(&u.tenant, u.id)?
            .ok_or_else(SecError::auth_failed)?;
        let next = self.after_second_factor(&u);
        self.issue(&u, next, source)
    }

    /// Enrolment, part 1: a new TOTP key for the user's authenticator app.
    pub fn begin_totp_enrolment(&self, ticket: &Secret) -> Result<TotpEnrolment> {
        let (_, u) = self.ticket(ticket, Stage::NeedTotpEnrolment)?;
        let key = totp::new_secret()?;
        self.store.set_totp_pending(&u.tenant, u.id, Some(&key))?;
        Ok(TotpEnrolment {
            secret_base32: Secret::new(base32(&key)),
            uri: totp::otpauth_uri(&self.cfg.issuer, &format!("{}:{}", u.tenant, u.name), &key),
        })
    }

    /// Enrolment, part 2: the first code from the app confirms the key; returns the session and
    /// fresh recovery codes (stored hashed, shown once).
    pub fn confirm_totp_enrolment(
        &self,
        ticket: &Secret,
        code: &Secret,
        source: &str,
    ) -> Result<Enrolled> {
        let (s, u) = self.ticket(ticket, Stage::NeedTotpEnrolment)?;
        let now = self.clock.now();
        let step = u
            .totp_pending
            .as_deref()
            .and_then(|k| totp::verify(k, code.expose(), now, None));
        let Some(step) = step else {
            return Err(self.fail(&u, actions::TOTP_ENROL, source));
        };
        self.store.confirm_totp(&u.tenant, u.id, step)?;
        let mut codes = Vec::with_capacity(self.cfg.recovery_codes);
        let mut hashes = Vec::with_capacity(self.cfg.recovery_codes);
        for _ in 0..self.cfg.recovery_codes {
            let r: [u8; 10] = random_bytes()?; // 80 bits
            let b = base32(&r);
            let code = format!("{}-{}-{}-{}", &b[0..4], &b[4..8], &b[8..12], &b[12..16]);
            hashes.push(recovery_hash(&u.tenant, u.id, &code));
            codes.push(Secret::new(code));
        }
        self.store
            .replace_recovery_codes(&u.tenant, u.id, &hashes)?;
        self.audit(
            AuditEvent::new(
                &u.tenant,
                &format!("user:{}", u.id),
                actions::TOTP_ENROL,
                Outcome::Success,
            )
            .source(source)
            .resource("user", &u.id.to_string()),
        )?;
        self.store.delete_session(&s.token_hash)?;
        let u = self
            .store
            .user_by_id(&u.tenant, u.id)?
            .ok_or_else(SecError::auth_failed)?;
        let next = self.after_second_factor(&u);
        Ok(Enrolled {
            step: self.issue(&u, next, source)?,
            recovery_codes: codes,
        })
    }

    /// End a session.
    pub fn logout(&self, token: &Secret, source: &str) -> Result<()> {
        let h = sha256(token.expose().as_bytes());
        if let Some(s) = self.store.session(&h)? {
            self.store.delete_session(&h)?;
            self.audit(
                AuditEvent::new(
                    &s.tenant,
                    &format!("user:{}", s.user_id),
                    actions::LOGOUT,
                    Outcome::Success,
                )
                .source(source),
            )?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ per request

    /// Authenticate a bearer token (session or API token). Cheap: one SHA-256 and one indexed
    /// lookup; no Argon2. Any problem gives the same `S002` error.
    pub fn authenticate_bearer(&self, token: &str) -> Result<Principal> {
        self.authenticate_bearer_from(token, None)
    }

    /// [`Self::authenticate_bearer`] on a connection that presented a verified client
    /// certificate (mutual TLS) with this SHA-256 of its DER bytes, or none. A token bound to a
    /// certificate ([`Self::create_api_token_bound`]) passes only with that certificate.
    pub fn authenticate_bearer_from(
        &self,
        token: &str,
        client_cert_sha256: Option<&[u8; 32]>,
    ) -> Result<Principal> {
        let now = self.clock.now();
        let token = token.trim();
        if token.len() > 200 {
            return Err(SecError::unauthenticated());
        }
        let h = sha256(token.as_bytes());
        if token.starts_with(API_PREFIX) {
            if let Some(p) = self.cached_token(&h, now, client_cert_sha256) {
                return Ok(p);
            }
            let generation = self.token_cache.read().unwrap_or_else(|p| p.into_inner()).generation;
            let t = self
                .store
                .api_token(&h)?
                .ok_or_else(SecError::unauthenticated)?;
            if t.revoked_at.is_some()
                || t.expires_at <= now
                || !cert_matches(&t.client_cert_sha256, client_cert_sha256)
            {
                return Err(SecError::unauthenticated());
            }
            let p = Principal {
                tenant: t.tenant,
                subject: Subject::ApiClient {
                    id: t.id,
                    name: t.name,
                },
                roles: vec![Role::ApiClient],
                scopes: Some(t.scopes),
            };
            if self.cfg.token_cache_secs > 0 {
                let mut c = self.token_cache.write().unwrap_or_else(|p| p.into_inner());
                if c.generation != generation {
                    return Ok(p);
                }
                if c.map.len() >= TOKEN_CACHE_MAX {
                    c.map.clear();
                }
                c.map.insert(
                    h,
                    CachedToken {
                        principal: p.clone(),
                        expires_at: t.expires_at,
                        cached_at: now,
                        client_cert_sha256: t.client_cert_sha256,
                    },
                );
            }
            return Ok(p);
        }
        if !token.starts_with(SESSION_PREFIX) {
            return Err(SecError::unauthenticated());
        }
        let s = self
            .store
            .session(&h)?
            .ok_or_else(SecError::unauthenticated)?;
        if s.stage != Stage::Full
            || s.expires_at <= now
            || now - s.last_seen > self.cfg.session_idle_secs
        {
            if s.stage == Stage::Full {
                self.store.delete_session(&h)?;
            }
            return Err(SecError::unauthenticated());
        }
        let u = self
            .store
            .user_by_id(&s.tenant, s.user_id)?
            .ok_or_else(SecError::unauthenticated)?;
        if u.disabled || self.locked(&u, now) {
            return Err(SecError::unauthenticated());
        }
        if now - s.last_seen >= self.cfg.touch_interval_secs {
            self.store.touch_session(&h, now)?;
        }
        Ok(Principal {
            tenant: u.tenant,
            subject: Subject::User {
                id: u.id,
                name: u.name,
            },
            roles: u.roles.into_iter().filter(|r| r.is_human()).collect(),
            scopes: None,
        })
    }

    /// The in-memory half of [`Self::authenticate_bearer`]: the principal of an API token
    /// validated within the last `token_cache_secs` and not expired, without touching the store
    /// (so an async caller can skip the blocking pool). `None`: ask `authenticate_bearer`.
    pub fn authenticate_cached(
        &self,
        token: &str,
        client_cert_sha256: Option<&[u8; 32]>,
    ) -> Option<Principal> {
        let token = token.trim();
        if token.len() > 200 || !token.starts_with(API_PREFIX) {
            return None;
        }
        self.cached_token(
            &sha256(token.as_bytes()),
            self.clock.now(),
            client_cert_sha256,
        )
    }

    fn cached_token(
        &self,
        h: &[u8; 32],
        now: i64,
        client_cert_sha256: Option<&[u8; 32]>,
    ) -> Option<Principal> {
        let c = self.token_cache.read().unwrap_or_else(|p| p.into_inner());
        let t = c.map.get(h)?;
        // (0..ttl): a clock stepped backwards does not stretch the window.
        (t.expires_at > now
            && (0..self.cfg.token_cache_secs).contains(&(now - t.cached_at))
            && cert_matches(&t.client_cert_sha256, client_cert_sha256))
        .then(|| t.principal.clone())
    }

    /// Check `who` may do `action` on `tenant`'s data. Another tenant's data answers "not
    /// found" (so its existence is not revealed); a missing permission answers "forbidden".
    /// Refusals are audited.
    pub fn authorize(
        &self,
        who: &Principal,
        tenant: &str,
        action: Action,
        source: &str,
    ) -> Result<()> {
        if who.can(tenant, action) {
            return Ok(());
        }
        let _ = self.audit(
            AuditEvent::new(
                &who.tenant,
                &who.actor(),
                actions::ACCESS_DENIED,
                Outcome::Denied,
            )
            .source(source)
            .detail(&format!(
                "{} on tenant {}",
                action.as_str(),
                if who.tenant == tenant { "own" } else { "other" }
            )),
        );
        if who.tenant != tenant {
            Err(SecError::not_found("資源", "resource"))
        } else {
            Err(SecError::forbidden())
        }
    }

    /// Before deleting a patient record or claim: refuse (and audit the refusal) while the
    /// retention period runs (療担規則 第9条, see [`crate::retention`]).
    pub fn check_retention(
        &self,
        who: &Principal,
        resource_type: &str,
        resource_id: &str,
        completed: Option<chrono::NaiveDate>,
        today: chrono::NaiveDate,
        source: &str,
    ) -> Result<()> {
        crate::retention::check_deletion(completed, today).inspect_err(|e| {
            let _ = self.audit(
                AuditEvent::new(
                    &who.tenant,
                    &who.actor(),
                    actions::RETENTION_REFUSED,
                    Outcome::Denied,
                )
                .source(source)
                .resource(resource_type, resource_id)
                .detail(e.code),
            );
        })
    }

    // ------------------------------------------------------------------ API tokens

    /// Create an API token for a machine client (administrators only). `scopes` must be allowed
    /// for the api-client role. The token is returned once; only its SHA-256 is stored.
    pub fn create_api_token(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        scopes: &[Action],
        ttl_secs: i64,
        source: &str,
    ) -> Result<(i64, Secret)> {
        self.create_api_token_bound(who, tenant, name, scopes, ttl_secs, None, source)
    }

    /// [`Self::create_api_token`] with an optional mutual TLS binding: with
    /// `client_cert_sha256`, the token authenticates only on a connection whose verified client
    /// certificate has that SHA-256 (of its DER bytes) — a stolen token alone is useless.
    #[allow(clippy::too_many_arguments)]
    pub fn create_api_token_bound(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        name: &str,
        scopes: &[Action],
        ttl_secs: i64,
        client_cert_sha256: Option<[u8; 32]>,
        source: &str,
    ) -> Result<(i64, Secret)> {
        let actor = self.actor_for(who, tenant, source)?;
        validate_name(tenant, "医療機関コード", "tenant code")?;
        validate_name(name, "トークン名", "token name")?;
        if scopes.is_empty()
            || scopes
                .iter()
                .any(|a| !crate::rbac::allowed(Role::ApiClient, *a))
        {
            return Err(SecError::invalid(
                "S108",
                "API トークンの権限範囲が不正です(api-client に許された操作のみ指定できます)",
                "invalid token scopes (only actions allowed for api-client)",
            ));
        }
        if !(60..=366 * 86400).contains(&ttl_secs) {
            return Err(SecError::invalid(
                "S109",
                "有効期間は 1 分以上 366 日以下にしてください",
                "lifetime must be between 1 minute and 366 days",
            ));
        }
        let now = self.clock.now();
        let (tok, h) = new_token(API_PREFIX)?;
        let id = self.store.insert_api_token(&ApiToken {
            id: 0,
            tenant: tenant.into(),
            name: name.into(),
            token_hash: h,
            scopes: scopes.to_vec(),
            created_by: actor.clone(),
            created_at: now,
            expires_at: now + ttl_secs,
            revoked_at: None,
            client_cert_sha256,
        })?;
        self.audit(
            AuditEvent::new(tenant, &actor, actions::TOKEN_CREATE, Outcome::Success)
                .source(source)
                .resource("api_token", &id.to_string())
                .detail(&match client_cert_sha256 {
                    Some(h) => format!("{} client_cert_sha256={}", crate::rbac::actions_to_string(scopes), hex(&h)),
                    None => crate::rbac::actions_to_string(scopes),
                }),
        )?;
        Ok((id, tok))
    }

    pub fn revoke_api_token(
        &self,
        who: Option<&Principal>,
        tenant: &str,
        id: i64,
        source: &str,
    ) -> Result<()> {
        let actor = self.actor_for(who, tenant, source)?;
        let revoked = self.store.revoke_api_token(tenant, id, self.clock.now());
        // Forget cached tokens (whatever the outcome): from here a revoked token does not pass
        // on this node, not even through a lookup that was under way during the revocation.
        {
            let mut c = self.token_cache.write().unwrap_or_else(|p| p.into_inner());
            c.generation += 1;
            c.map.clear();
        }
        if !revoked? {
            return Err(SecError::not_found("API トークン", "API token"));
        }
        self.audit(
            AuditEvent::new(tenant, &actor, actions::TOKEN_REVOKE, Outcome::Success)
                .source(source)
                .resource("api_token", &id.to_string()),
        )?;
        Ok(())
    }
}

/// Tenant codes, user and token names: 1–64 printable characters, no control characters.
fn validate_name(s: &str, ja: &str, en: &str) -> Result<()> {
    if s.is_empty()
        || s.chars().count() > 64
        || s.chars().any(|c| c.is_control() || c == ',')
        || s.trim() != s
    {
        return Err(SecError::invalid(
            "S110",
            format!("{ja}が不正です(1〜64 文字、制御文字・カンマ・前後の空白は不可)"),
            format!("invalid {en} (1–64 characters, no control characters, commas or surrounding spaces)"),
        ));
    }
    Ok(())
}
