//! In-memory [`SecurityStore`] (tests, and services that keep nothing).

use super::{AuditBuilder, FailureOutcome, SecurityStore};
use crate::error::{Result, SecError};
use crate::model::{ApiToken, AuditEntry, NewUser, Session, User};
use crate::rbac::Role;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct Inner {
    users: Vec<User>,
    recovery: Vec<(String, i64, [u8; 32], Option<i64>)>,
    sessions: HashMap<[u8; 32], Session>,
    tokens: Vec<ApiToken>,
    audit: Vec<AuditEntry>,
    weak_checked: Vec<(String, i64, [u8; 32])>,
}

#[derive(Default)]
pub struct MemoryStore(Mutex<Inner>);

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    fn g(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Test hook: direct access to the audit vector (to simulate tampering).
    pub fn with_audit_mut<R>(&self, f: impl FnOnce(&mut Vec<AuditEntry>) -> R) -> R {
        f(&mut self.g().audit)
    }
}

fn user_mut<'a>(i: &'a mut Inner, tenant: &str, id: i64) -> Result<&'a mut User> {
    i.users
        .iter_mut()
        .find(|u| u.id == id && u.tenant == tenant)
        .ok_or_else(|| SecError::not_found("利用者", "user"))
}

impl SecurityStore for MemoryStore {
    fn create_user(&self, u: &NewUser) -> Result<i64> {
        let mut g = self.g();
        if g.users
            .iter()
            .any(|x| x.tenant == u.tenant && x.name == u.name)
        {
            return Err(SecError::conflict(
                "S201",
                "同じ名前の利用者が既にいます",
                "a user with that name already exists",
            ));
        }
        let id = g.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        g.users.push(User {
            id,
            tenant: u.tenant.clone(),
            name: u.name.clone(),
            roles: u.roles.clone(),
            password_hash: u.password_hash.clone(),
            password_policy: u.password_policy,
            must_change_password: u.must_change_password,
            totp_secret: None,
            totp_pending: None,
            totp_last_step: None,
            failures: 0,
            locked_until: None,
            disabled: false,
            created_at: u.created_at,
        });
        Ok(id)
    }
    fn user_by_name(&self, tenant: &str, name: &str) -> Result<Option<User>> {
        Ok(self
            .g()
            .users
            .iter()
            .find(|u| u.tenant == tenant && u.name == name)
            .cloned())
    }
    fn user_by_id(&self, tenant: &str, id: i64) -> Result<Option<User>> {
        Ok(self
            .g()
            .users
            .iter()
            .find(|u| u.tenant == tenant && u.id == id)
            .cloned())
    }
    fn list_users(&self, tenant: Option<&str>) -> Result<Vec<User>> {
        Ok(self
            .g()
            .users
            .iter()
            .filter(|u| tenant.map_or(true, |t| u.tenant == t))
            .cloned()
            .collect())
    }
    fn set_password(
        &self,
        tenant: &str,
        id: i64,
        phc: &str,
        policy: i64,
        must_change: bool,
    ) -> Result<()> {
        let mut g = self.g();
        let u = user_mut(&mut g, tenant, id)?;
        u.password_hash = phc.into();
        u.password_policy = policy;
        u.must_change_password = must_change;
        Ok(())
    }
    fn set_roles(&self, tenant: &str, id: i64, roles: &[Role]) -> Result<()> {
        user_mut(&mut self.g(), tenant, id)?.roles = roles.to_vec();
        Ok(())
    }
    fn set_disabled(&self, tenant: &str, id: i64, disabled: bool) -> Result<()> {
        user_mut(&mut self.g(), tenant, id)?.disabled = disabled;
        Ok(())
    }
    fn set_totp_pending(&self, tenant: &str, id: i64, key: Option<&[u8]>) -> Result<()> {
        user_mut(&mut self.g(), tenant, id)?.totp_pending = key.map(|k| k.to_vec());
        Ok(())
    }
    fn confirm_totp(&self, tenant: &str, id: i64, step: i64) -> Result<()> {
        let mut g = self.g();
        let u = user_mut(&mut g, tenant, id)?;
        let k = u.totp_pending.take().ok_or_else(SecError::auth_failed)?;
        u.totp_secret = Some(k);
        u.totp_last_step = Some(step);
        Ok(())
    }
    fn totp_use_step(&self, tenant: &str, id: i64, step: i64) -> Result<bool> {
        let mut g = self.g();
        let u = user_mut(&mut g, tenant, id)?;
        if u.totp_last_step.map_or(true, |l| step > l) {
            u.totp_last_step = Some(step);
            Ok(true)
        } else {
            Ok(false)
        }
    }
    fn record_failure(
        &self,
        tenant: &str,
        id: i64,
        now: i64,
        max: i64,
        lock_secs: i64,
    ) -> Result<FailureOutcome> {
        let mut g = self.g();
        let u = user_mut(&mut g, tenant, id)?;
        if u.locked_until.is_some_and(|t| t <= now) {
            u.locked_until = None;
            u.failures = 0;
        }
        u.failures += 1;
        let mut locked_now = None;
        if u.failures >= max && u.locked_until.is_none() {
            u.locked_until = Some(now + lock_secs);
            locked_now = u.locked_until;
        }
        Ok(FailureOutcome {
            failures: u.failures,
            locked_now,
        })
    }
    fn reset_failures(&self, tenant: &str, id: i64) -> Result<()> {
        let mut g = self.g();
        let u = user_mut(&mut g, tenant, id)?;
        u.failures = 0;
        u.locked_until = None;
        Ok(())
    }
    fn weak_checked(&self, tenant: &str, user: i64, h: &[u8; 32]) -> Result<bool> {
        Ok(self
            .g()
            .weak_checked
            .iter()
            .any(|(t, u, x)| t == tenant && *u == user && x == h))
    }
    fn mark_weak_checked(&self, tenant: &str, user: i64, h: &[u8; 32], _now: i64) -> Result<()> {
        let mut g = self.g();
        g.weak_checked
            .retain(|(t, u, _)| !(t == tenant && *u == user));
        g.weak_checked.push((tenant.into(), user, *h));
        Ok(())
    }
    fn replace_recovery_codes(&self, tenant: &str, user: i64, hashes: &[[u8; 32]]) -> Result<()> {
        let mut g = self.g();
        g.recovery
            .retain(|(t, u, _, _)| !(t == tenant && *u == user));
        for h in hashes {
            g.recovery.push((tenant.into(), user, *h, None));
        }
        Ok(())
    }
    fn consume_recovery_code(
        &self,
        tenant: &str,
        user: i64,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<bool> {
        let mut g = self.g();
        for r in g.recovery.iter_mut() {
            if r.0 == tenant && r.1 == user && crate::util::ct_eq(&r.2, hash) && r.3.is_none() {
                r.3 = Some(now);
                return Ok(true);
            }
        }
        Ok(false)
    }
    fn unused_recovery_codes(&self, tenant: &str, user: i64) -> Result<usize> {
        Ok(self
            .g()
            .recovery
            .iter()
            .filter(|r| r.0 == tenant && r.1 == user && r.3.is_none())
            .count())
    }
    fn insert_session(&self, s: &Session) -> Result<()> {
        self.g().sessions.insert(s.token_hash, s.clone());
        Ok(())
    }
    fn session(&self, h: &[u8; 32]) -> Result<Option<Session>> {
        Ok(self.g().sessions.get(h).cloned())
    }
    fn touch_session(&self, h: &[u8; 32], now: i64) -> Result<()> {
        if let Some(s) = self.g().sessions.get_mut(h) {
            s.last_seen = now;
        }
        Ok(())
    }
    fn delete_session(&self, h: &[u8; 32]) -> Result<()> {
        self.g().sessions.remove(h);
        Ok(())
    }
    fn delete_user_sessions(&self, tenant: &str, user: i64) -> Result<()> {
        self.g()
            .sessions
            .retain(|_, s| !(s.tenant == tenant && s.user_id == user));
        Ok(())
    }
    fn insert_api_token(&self, t: &ApiToken) -> Result<i64> {
        let mut g = self.g();
        let id = g.tokens.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        let mut t = t.clone();
        t.id = id;
        g.tokens.push(t);
        Ok(id)
    }
    fn api_token(&self, h: &[u8; 32]) -> Result<Option<ApiToken>> {
        Ok(self.g().tokens.iter().find(|t| &t.token_hash == h).cloned())
    }
    fn list_api_tokens(&self, tenant: &str) -> Result<Vec<ApiToken>> {
        Ok(self
            .g()
            .tokens
            .iter()
            .filter(|t| t.tenant == tenant)
            .cloned()
            .collect())
    }
    fn revoke_api_token(&self, tenant: &str, id: i64, now: i64) -> Result<bool> {
        let mut g = self.g();
        match g
            .tokens
            .iter_mut()
            .find(|t| t.tenant == tenant && t.id == id && t.revoked_at.is_none())
        {
            Some(t) => {
                t.revoked_at = Some(now);
                Ok(true)
            }
            None => Ok(false),
        }
    }
    fn append_audit(&self, n: usize, build: AuditBuilder<'_>) -> Result<Vec<AuditEntry>> {
        let mut g = self.g();
        let (mut seq, mut prev) = g
            .audit
            .last()
            .map(|e| (e.seq + 1, e.hash.clone()))
            .unwrap_or((1, vec![0u8; 32]));
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let e = build(i, seq, &prev);
            seq += 1;
            prev = e.hash.clone();
            out.push(e);
        }
        g.audit.extend(out.iter().cloned());
        Ok(out)
    }
    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        Ok(self
            .g()
            .audit
            .iter()
            .filter(|e| e.seq > after)
            .take(limit)
            .cloned()
            .collect())
    }
    fn audit_entries_for_tenant(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        Ok(self
            .g()
            .audit
            .iter()
            .filter(|e| e.seq > after && e.tenant == tenant)
            .take(limit)
            .cloned()
            .collect())
    }
}
