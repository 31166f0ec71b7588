//! Test harness: a real server on 127.0.0.1 (ephemeral port) over SQLite or PostgreSQL, with the
//! bundled sample master, driven through the blocking client in `santei_server::http_client`.
#![allow(dead_code)]

use santei_server::auth::OperatorToken;
use santei_server::http_client::{request, HttpResponse};
use santei_server::storage::{self, DynStorage};
use santei_server::{AppState, Engines, MasterSource};
use santei_security::{Role, Security, TestClock};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub const OPERATOR: &str = "test-operator-token-0123456789abcdef";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL when `SANTEI_TEST_POSTGRES_URL` is set. Under `CI=true` the
/// PostgreSQL URL is required (`.ci/postgres.sh` provides one): nothing is skipped in CI.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    match std::env::var("SANTEI_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => v.push(Backend::Postgres(u)),
        _ => {
            if std::env::var("CI").is_ok_and(|c| c == "true") {
                panic!("CI=true but SANTEI_TEST_POSTGRES_URL is not set: run `.ci/postgres.sh` and export its URL");
            }
            eprintln!("note: SANTEI_TEST_POSTGRES_URL not set; PostgreSQL tests not run here");
        }
    }
    v
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub rt: tokio::runtime::Runtime,
    pub backend: Backend,
    /// The security layer's clock (TOTP steps, lockout, token expiry are driven by it).
    pub clock: Arc<TestClock>,
    pub dir: tempfile::TempDir,
}

/// Security over the backend's store as `santei serve` does it (SQLite in `dir`; PostgreSQL in
/// the test database, in a schema of its own so each server sees only its own users and audit
/// chain), cheap Argon2 for tests, a test clock.
pub fn test_security(b: &Backend, dir: &std::path::Path, clock: Arc<TestClock>) -> Arc<Security> {
    let store: Arc<dyn santei_security::SecurityStore> = match b {
        Backend::Sqlite => Arc::new(santei_security::SqliteStore::open_data_dir(dir).expect("security store")),
        Backend::Postgres(url) => {
            use std::sync::atomic::{AtomicU64, Ordering};
            static N: AtomicU64 = AtomicU64::new(0);
            let schema = format!("srv_sec_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), random_code());
            Arc::new(santei_security::PostgresStore::open_in_schema(url, Some(&schema)).expect("PostgreSQL security store"))
        }
    };
    let cfg = santei_security::Config {
        anchor_file: Some(dir.join(santei_security::audit::ANCHOR_FILE)),
        hash: santei_security::password::HashParams::insecure_for_tests(),
        ..santei_security::Config::default()
    };
    Arc::new(Security::new(store, clock, cfg))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

pub fn open_storage(rt: &tokio::runtime::Runtime, b: &Backend, dir: &std::path::Path) -> DynStorage {
    let url = match b {
        Backend::Sqlite => None,
        Backend::Postgres(u) => Some(u.as_str()),
    };
    rt.block_on(storage::open(url, dir)).expect("open storage")
}

pub fn start(b: &Backend) -> TestServer {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let st = open_storage(&rt, b, dir.path());
    let master = santei_master::sample::store().expect("sample master");
    let engines = Engines::new(Some(Arc::new(master)), Some(MasterSource::Sample));
    let clock = Arc::new(TestClock::new(1_780_000_000));
    let sec = test_security(b, dir.path(), clock.clone());
    let state = AppState::new(st, Some(OperatorToken::from_secret(OPERATOR).expect("op")), engines, sec);
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(santei_server::serve_on(listener, state.clone(), std::future::pending()));
    TestServer { addr, state, rt, backend: b.clone(), clock, dir }
}

impl TestServer {
    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> HttpResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        let bytes = body.map(|b| b.to_string().into_bytes());
        if bytes.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        request(self.addr, method, path, &h, bytes.as_deref()).expect("request")
    }
    pub fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> HttpResponse {
        request(self.addr, method, path, headers, body).expect("request")
    }
    /// Create a tenant through the admin route; returns (tenant id, token).
    pub fn tenant(&self, name: &str) -> (String, String) {
        let (id, tok, _) = self.tenant_with_code(name);
        (id, tok)
    }
    /// As `tenant`, also returning the 医療機関コード (the tenant name of santei-security).
    pub fn tenant_with_code(&self, name: &str) -> (String, String, String) {
        let code = random_code();
        let r = self.call(
            "POST",
            "/v1/admin/tenants",
            Some(OPERATOR),
            Some(&json!({"institution_code": code, "name": name, "kind": "clinic",
                "posted_hours": {"mon": [["09:00", "12:00"], ["14:00", "18:00"]]}, "settings": {"lang": "ja"}})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        (v["tenant"]["id"].as_str().expect("id").to_string(), v["token"].as_str().expect("token").to_string(), code)
    }

    /// The TOTP code of `key` at the test clock's current time.
    pub fn totp(&self, key: &[u8]) -> String {
        santei_security::totp::code_at(key, santei_security::Clock::now(self.clock.as_ref()))
    }

    /// Create a user with `roles` (as the local operator would) and take it through the whole
    /// first login over HTTP: one-time password → new password → TOTP enrolment → session.
    /// Returns the session token, the password and the TOTP key.
    pub fn user_session(&self, code: &str, name: &str, roles: &[Role]) -> UserLogin {
        let (_, otp) = self.state.security.create_user(None, code, name, roles, "test").expect("create user");
        let r = self.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": name, "password": otp.expose()})));
        assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("need_password_change")), "{}", r.text());
        let password = format!("Kx9-horse-{}-battery", &santei_server::storage::new_id().expect("id")[..12]);
        let r = self.call("POST", "/v1/auth/password", None, Some(&json!({"ticket": r.json()["ticket"], "new_password": password})));
        assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("need_totp_enrolment")), "{}", r.text());
        let ticket = r.json()["ticket"].clone();
        let r = self.call("POST", "/v1/auth/totp/enroll", None, Some(&json!({"ticket": ticket})));
        assert_eq!(r.status, 200, "{}", r.text());
        let secret = r.json()["secret"].as_str().expect("secret").to_string();
        assert!(r.json()["otpauth_uri"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/")));
        let key = santei_security::util::unbase32(&secret).expect("base32");
        let r = self.call("POST", "/v1/auth/totp/confirm", None, Some(&json!({"ticket": ticket, "code": self.totp(&key)})));
        assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("complete")), "{}", r.text());
        let v = r.json();
        // Next TOTP use must be a later step.
        self.clock.advance(30);
        UserLogin {
            session: v["session"].as_str().expect("session").to_string(),
            password,
            totp_key: key,
            recovery_codes: v["recovery_codes"].as_array().expect("codes").iter().map(|c| c.as_str().unwrap_or("").to_string()).collect(),
        }
    }

    /// Log in an enrolled user over HTTP (password, then TOTP); the session token.
    pub fn login(&self, code: &str, name: &str, u: &UserLogin) -> HttpResponse {
        let r = self.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": name, "password": u.password})));
        if r.status != 200 {
            return r;
        }
        let out = self.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": r.json()["ticket"], "totp": self.totp(&u.totp_key)})));
        self.clock.advance(30);
        out
    }
}

pub struct UserLogin {
    pub session: String,
    pub password: String,
    pub totp_key: Vec<u8>,
    pub recovery_codes: Vec<String>,
}

/// A random 医療機関コード in Tokyo (13), so PostgreSQL runs never collide.
pub fn random_code() -> String {
    let mut b = [0u8; 8];
    getrandom_fill(&mut b);
    let n = u64::from_le_bytes(b) % 100_000_000;
    format!("13{n:08}")
}

fn getrandom_fill(b: &mut [u8]) {
    // Uses the id generator of the crate under test (random 16 bytes as hex).
    let id = santei_server::storage::new_id().expect("id");
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&id[i * 2..i * 2 + 2], 16).expect("hex");
    }
}

/// The error body shape every failure must have.
pub fn assert_error(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "status for {}: {}", code, r.text());
    let v = r.json();
    let e = &v["error"];
    assert_eq!(e["code"], code, "{}", r.text());
    assert!(e["message_ja"].as_str().is_some_and(|s| !s.is_empty()), "{}", r.text());
    assert!(e["message_en"].as_str().is_some_and(|s| !s.is_empty()), "{}", r.text());
    assert!(e.get("details").is_some(), "{}", r.text());
}
