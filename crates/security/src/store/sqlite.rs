//! SQLite [`SecurityStore`]: its own `security_*` tables in the service's database file
//! (`santei.db` in the data directory), versioned by `security_migrations`.

use super::{AuditBuilder, FailureOutcome, SecurityStore};
use crate::error::{Result, SecError};
use crate::model::{ApiToken, AuditEntry, NewUser, Session, Stage, User};
use crate::rbac::{
    actions_from_string, actions_to_string, roles_from_string, roles_to_string, Role,
};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// File name of the service database inside the data directory.
pub const DB_FILE: &str = "santei.db";

/// Migrations, applied in order; never edit a released one, append.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema
    "CREATE TABLE security_users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        password_policy INTEGER NOT NULL,
        must_change_password INTEGER NOT NULL,
        totp_secret BLOB,
        totp_pending BLOB,
        totp_last_step INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        UNIQUE (tenant, name)
    );
    CREATE TABLE security_recovery_codes (
        tenant TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        code_hash BLOB NOT NULL,
        used_at INTEGER,
        PRIMARY KEY (tenant, user_id, code_hash)
    );
    CREATE TABLE security_weak_checked (
        tenant TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        phc_sha256 BLOB NOT NULL,
        checked_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, user_id)
    );
    CREATE TABLE security_sessions (
        token_hash BLOB PRIMARY KEY,
        tenant TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        stage TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX security_sessions_user ON security_sessions (tenant, user_id);
    CREATE TABLE security_api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash BLOB NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE TABLE security_audit (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        tenant TEXT NOT NULL,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE INDEX security_audit_tenant ON security_audit (tenant, seq);
    -- Append-only: the application can neither change nor delete entries. (Someone with raw
    -- write access to the file can drop these triggers; the hash chain then detects the edit.)
    CREATE TRIGGER security_audit_no_update BEFORE UPDATE ON security_audit
        BEGIN SELECT RAISE(ABORT, 'security_audit is append-only'); END;
    CREATE TRIGGER security_audit_no_delete BEFORE DELETE ON security_audit
        BEGIN SELECT RAISE(ABORT, 'security_audit is append-only'); END;",
    // 2: mutual TLS binding of API tokens
    "ALTER TABLE security_api_tokens ADD COLUMN client_cert_sha256 BLOB;",
];

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Open (creating if needed) `santei.db` in `data_dir` and apply migrations.
    pub fn open_data_dir(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| SecError::io(data_dir, &e))?;
        Self::open(&data_dir.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::from_connection(conn)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    pub fn from_connection(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL: readers don't block the writer; the service and the CLI can share the file.
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
        let s = SqliteStore {
            conn: Mutex::new(conn),
        };
        s.migrate()?;
        Ok(s)
    }

    fn c(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.c();
        c.execute_batch("CREATE TABLE IF NOT EXISTS security_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let have: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM security_migrations",
            [],
            |r| r.get(0),
        )?;
        if have > MIGRATIONS.len() as i64 {
            return Err(SecError::internal(
                format!(
                    "データベースのセキュリティスキーマ(版 {have})がこの santei より新しいです"
                ),
                format!(
                    "the database's security schema (version {have}) is newer than this santei"
                ),
            ));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(have as usize) {
            tx.execute_batch(m)?;
            tx.execute("INSERT INTO security_migrations (version, applied_at) VALUES (?1, datetime('now'))", params![i as i64 + 1])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Run raw SQL (tests, tools). Not for the service's request path.
    pub fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&self.c())
    }
}

const USER_COLS: &str = "id, tenant, name, roles, password_hash, password_policy, must_change_password, totp_secret, totp_pending, totp_last_step, failures, locked_until, disabled, created_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        roles: roles_from_string(&r.get::<_, String>(3)?),
        password_hash: r.get(4)?,
        password_policy: r.get(5)?,
        must_change_password: r.get(6)?,
        totp_secret: r.get(7)?,
        totp_pending: r.get(8)?,
        totp_last_step: r.get(9)?,
        failures: r.get(10)?,
        locked_until: r.get(11)?,
        disabled: r.get(12)?,
        created_at: r.get(13)?,
    })
}

fn hash32(v: Vec<u8>) -> [u8; 32] {
    let mut h = [0u8; 32];
    if v.len() == 32 {
        h.copy_from_slice(&v);
    }
    h
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    let stage: String = r.get(3)?;
    Ok(Session {
        token_hash: hash32(r.get(0)?),
        tenant: r.get(1)?,
        user_id: r.get(2)?,
        // An unknown stage (tampered row) becomes a ticket that authenticates nothing.
        stage: Stage::parse(&stage).unwrap_or(Stage::NeedSecondFactor),
        created_at: r.get(4)?,
        last_seen: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

const TOKEN_COLS: &str =
    "id, tenant, name, token_hash, scopes, created_by, created_at, expires_at, revoked_at, client_cert_sha256";

fn token_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        token_hash: hash32(r.get(3)?),
        scopes: actions_from_string(&r.get::<_, String>(4)?),
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        revoked_at: r.get(8)?,
        client_cert_sha256: r.get::<_, Option<Vec<u8>>>(9)?.map(hash32),
    })
}

const AUDIT_COLS: &str = "seq, time, tenant, actor, source, action, resource_type, resource_id, outcome, detail, prev_hash, hash";

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        time: r.get(1)?,
        tenant: r.get(2)?,
        actor: r.get(3)?,
        source: r.get(4)?,
        action: r.get(5)?,
        resource_type: r.get(6)?,
        resource_id: r.get(7)?,
        outcome: r.get(8)?,
        detail: r.get(9)?,
        prev_hash: r.get(10)?,
        hash: r.get(11)?,
    })
}

fn one_row(n: usize) -> Result<()> {
    if n == 0 {
        Err(SecError::not_found("利用者", "user"))
    } else {
        Ok(())
    }
}

impl SecurityStore for SqliteStore {
    fn create_user(&self, u: &NewUser) -> Result<i64> {
        let c = self.c();
        let r = c.execute(
            "INSERT INTO security_users (tenant, name, roles, password_hash, password_policy, must_change_password, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![u.tenant, u.name, roles_to_string(&u.roles), u.password_hash, u.password_policy, u.must_change_password, u.created_at],
        );
        match r {
            Ok(_) => Ok(c.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(SecError::conflict(
                    "S201",
                    "同じ名前の利用者が既にいます",
                    "a user with that name already exists",
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
    fn user_by_name(&self, tenant: &str, name: &str) -> Result<Option<User>> {
        Ok(self
            .c()
            .query_row(
                &format!("SELECT {USER_COLS} FROM security_users WHERE tenant = ?1 AND name = ?2"),
                params![tenant, name],
                user_row,
            )
            .optional()?)
    }
    fn user_by_id(&self, tenant: &str, id: i64) -> Result<Option<User>> {
        Ok(self
            .c()
            .query_row(
                &format!("SELECT {USER_COLS} FROM security_users WHERE tenant = ?1 AND id = ?2"),
                params![tenant, id],
                user_row,
            )
            .optional()?)
    }
    fn list_users(&self, tenant: Option<&str>) -> Result<Vec<User>> {
        let c = self.c();
        let mut st = c.prepare(&format!(
            "SELECT {USER_COLS} FROM security_users WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, id"
        ))?;
        let v = st
            .query_map(params![tenant], user_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }
    fn set_password(
        &self,
        tenant: &str,
        id: i64,
        phc: &str,
        policy: i64,
        must_change: bool,
    ) -> Result<()> {
        one_row(self.c().execute(
            "UPDATE security_users SET password_hash = ?3, password_policy = ?4, must_change_password = ?5 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, phc, policy, must_change],
        )?)
    }
    fn set_roles(&self, tenant: &str, id: i64, roles: &[Role]) -> Result<()> {
        one_row(self.c().execute(
            "UPDATE security_users SET roles = ?3 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, roles_to_string(roles)],
        )?)
    }
    fn set_disabled(&self, tenant: &str, id: i64, disabled: bool) -> Result<()> {
        one_row(self.c().execute(
            "UPDATE security_users SET disabled = ?3 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, disabled],
        )?)
    }
    fn set_totp_pending(&self, tenant: &str, id: i64, key: Option<&[u8]>) -> Result<()> {
        one_row(self.c().execute(
            "UPDATE security_users SET totp_pending = ?3 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, key],
        )?)
    }
    fn confirm_totp(&self, tenant: &str, id: i64, step: i64) -> Result<()> {
        let n = self.c().execute(
            "UPDATE security_users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?3
             WHERE tenant = ?1 AND id = ?2 AND totp_pending IS NOT NULL",
            params![tenant, id, step],
        )?;
        if n == 0 {
            return Err(SecError::auth_failed());
        }
        Ok(())
    }
    fn totp_use_step(&self, tenant: &str, id: i64, step: i64) -> Result<bool> {
        let n = self.c().execute(
            "UPDATE security_users SET totp_last_step = ?3
             WHERE tenant = ?1 AND id = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?3)",
            params![tenant, id, step],
        )?;
        Ok(n == 1)
    }
    fn record_failure(
        &self,
        tenant: &str,
        id: i64,
        now: i64,
        max: i64,
        lock_secs: i64,
    ) -> Result<FailureOutcome> {
        let mut c = self.c();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (mut failures, mut locked): (i64, Option<i64>) = tx
            .query_row(
                "SELECT failures, locked_until FROM security_users WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| SecError::not_found("利用者", "user"))?;
        if locked.is_some_and(|t| t <= now) {
            locked = None;
            failures = 0;
        }
        failures += 1;
        let mut locked_now = None;
        if failures >= max && locked.is_none() {
            locked = Some(now + lock_secs);
            locked_now = locked;
        }
        tx.execute(
            "UPDATE security_users SET failures = ?3, locked_until = ?4 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, failures, locked],
        )?;
        tx.commit()?;
        Ok(FailureOutcome {
            failures,
            locked_now,
        })
    }
    fn reset_failures(&self, tenant: &str, id: i64) -> Result<()> {
        one_row(self.c().execute(
            "UPDATE security_users SET failures = 0, locked_until = NULL WHERE tenant = ?1 AND id = ?2",
            params![tenant, id],
        )?)
    }
    fn weak_checked(&self, tenant: &str, user: i64, h: &[u8; 32]) -> Result<bool> {
        let n: i64 = self.c().query_row(
            "SELECT COUNT(*) FROM security_weak_checked WHERE tenant = ?1 AND user_id = ?2 AND phc_sha256 = ?3",
            params![tenant, user, &h[..]],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }
    fn mark_weak_checked(&self, tenant: &str, user: i64, h: &[u8; 32], now: i64) -> Result<()> {
        self.c().execute(
            "INSERT OR REPLACE INTO security_weak_checked (tenant, user_id, phc_sha256, checked_at) VALUES (?1, ?2, ?3, ?4)",
            params![tenant, user, &h[..], now],
        )?;
        Ok(())
    }
    fn replace_recovery_codes(&self, tenant: &str, user: i64, hashes: &[[u8; 32]]) -> Result<()> {
        let mut c = self.c();
        let tx = c.transaction()?;
        tx.execute(
            "DELETE FROM security_recovery_codes WHERE tenant = ?1 AND user_id = ?2",
            params![tenant, user],
        )?;
        for h in hashes {
            tx.execute(
                "INSERT INTO security_recovery_codes (tenant, user_id, code_hash) VALUES (?1, ?2, ?3)",
                params![tenant, user, &h[..]],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
    fn consume_recovery_code(
        &self,
        tenant: &str,
        user: i64,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<bool> {
        let n = self.c().execute(
            "UPDATE security_recovery_codes SET used_at = ?4 WHERE tenant = ?1 AND user_id = ?2 AND code_hash = ?3 AND used_at IS NULL",
            params![tenant, user, &hash[..], now],
        )?;
        Ok(n == 1)
    }
    fn unused_recovery_codes(&self, tenant: &str, user: i64) -> Result<usize> {
        let n: i64 = self.c().query_row(
            "SELECT COUNT(*) FROM security_recovery_codes WHERE tenant = ?1 AND user_id = ?2 AND used_at IS NULL",
            params![tenant, user],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }
    fn insert_session(&self, s: &Session) -> Result<()> {
        self.c().execute(
            "INSERT INTO security_sessions (token_hash, tenant, user_id, stage, created_at, last_seen, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![&s.token_hash[..], s.tenant, s.user_id, s.stage.as_str(), s.created_at, s.last_seen, s.expires_at],
        )?;
        Ok(())
    }
    fn session(&self, h: &[u8; 32]) -> Result<Option<Session>> {
        Ok(self
            .c()
            .query_row(
                "SELECT token_hash, tenant, user_id, stage, created_at, last_seen, expires_at FROM security_sessions WHERE token_hash = ?1",
                params![&h[..]],
                session_row,
            )
            .optional()?)
    }
    fn touch_session(&self, h: &[u8; 32], now: i64) -> Result<()> {
        self.c().execute(
            "UPDATE security_sessions SET last_seen = ?2 WHERE token_hash = ?1",
            params![&h[..], now],
        )?;
        Ok(())
    }
    fn delete_session(&self, h: &[u8; 32]) -> Result<()> {
        self.c().execute(
            "DELETE FROM security_sessions WHERE token_hash = ?1",
            params![&h[..]],
        )?;
        Ok(())
    }
    fn delete_user_sessions(&self, tenant: &str, user: i64) -> Result<()> {
        self.c().execute(
            "DELETE FROM security_sessions WHERE tenant = ?1 AND user_id = ?2",
            params![tenant, user],
        )?;
        Ok(())
    }
    fn insert_api_token(&self, t: &ApiToken) -> Result<i64> {
        let c = self.c();
        c.execute(
            "INSERT INTO security_api_tokens (tenant, name, token_hash, scopes, created_by, created_at, expires_at, client_cert_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![t.tenant, t.name, &t.token_hash[..], actions_to_string(&t.scopes), t.created_by, t.created_at, t.expires_at, t.client_cert_sha256.as_ref().map(|h| &h[..])],
        )?;
        Ok(c.last_insert_rowid())
    }
    fn api_token(&self, h: &[u8; 32]) -> Result<Option<ApiToken>> {
        Ok(self
            .c()
            .query_row(
                &format!("SELECT {TOKEN_COLS} FROM security_api_tokens WHERE token_hash = ?1"),
                params![&h[..]],
                token_row,
            )
            .optional()?)
    }
    fn list_api_tokens(&self, tenant: &str) -> Result<Vec<ApiToken>> {
        let c = self.c();
        let mut st = c.prepare(&format!(
            "SELECT {TOKEN_COLS} FROM security_api_tokens WHERE tenant = ?1 ORDER BY id"
        ))?;
        let v = st
            .query_map(params![tenant], token_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }
    fn revoke_api_token(&self, tenant: &str, id: i64, now: i64) -> Result<bool> {
        let n = self.c().execute(
            "UPDATE security_api_tokens SET revoked_at = ?3 WHERE tenant = ?1 AND id = ?2 AND revoked_at IS NULL",
            params![tenant, id, now],
        )?;
        Ok(n == 1)
    }
    fn append_audit(&self, n: usize, build: AuditBuilder<'_>) -> Result<Vec<AuditEntry>> {
        let mut c = self.c();
        // IMMEDIATE: take the write lock before reading the head, so two writers (even in two
        // processes) cannot both chain onto the same entry.
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM security_audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (mut seq, mut prev) = head.map(|(s, h)| (s + 1, h)).unwrap_or((1, vec![0u8; 32]));
        let mut out = Vec::with_capacity(n);
        {
            let mut st = tx.prepare_cached(&format!(
                "INSERT INTO security_audit ({AUDIT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ))?;
            for i in 0..n {
                let e = build(i, seq, &prev);
                st.execute(params![e.seq, e.time, e.tenant, e.actor, e.source, e.action, e.resource_type, e.resource_id, e.outcome, e.detail, e.prev_hash, e.hash])?;
                seq += 1;
                prev = e.hash.clone();
                out.push(e);
            }
        }
        tx.commit()?;
        Ok(out)
    }
    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let c = self.c();
        let mut st = c.prepare(&format!(
            "SELECT {AUDIT_COLS} FROM security_audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let v = st
            .query_map(params![after, limit as i64], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }
    fn audit_entries_for_tenant(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let c = self.c();
        let mut st =
            c.prepare(&format!("SELECT {AUDIT_COLS} FROM security_audit WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"))?;
        let v = st
            .query_map(params![tenant, after, limit as i64], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by an earlier santei (security schema version 1) is upgraded in place
    /// when opened: its API tokens keep working and are unbound.
    #[test]
    fn a_version_1_database_is_upgraded_and_keeps_its_tokens() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(DB_FILE);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE security_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.execute("INSERT INTO security_migrations VALUES (1, datetime('now'))", []).unwrap();
            c.execute(
                "INSERT INTO security_api_tokens (tenant, name, token_hash, scopes, created_by, created_at, expires_at) VALUES ('T', 'old', ?1, 'calculate', 'cli', 0, 9999999999)",
                params![&[5u8; 32][..]],
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let t = s.api_token(&[5u8; 32]).unwrap().expect("token kept");
        assert_eq!((t.name.as_str(), t.client_cert_sha256), ("old", None));
        let v: i64 = s.with_connection(|c| c.query_row("SELECT MAX(version) FROM security_migrations", [], |r| r.get(0)).unwrap());
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
