#![allow(dead_code)]
use santei_security::password::HashParams;
use santei_security::util::unbase32;
use santei_security::*;
use std::sync::Arc;

pub const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub fn cfg() -> Config {
    Config {
        hash: HashParams::insecure_for_tests(),
        ..Config::default()
    }
}

pub fn memory() -> (Security, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(T0));
    (
        Security::new(Arc::new(MemoryStore::new()), clock.clone(), cfg()),
        clock,
    )
}

pub fn sqlite() -> (Security, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(T0));
    (
        Security::new(
            Arc::new(SqliteStore::open_in_memory().unwrap()),
            clock.clone(),
            cfg(),
        ),
        clock,
    )
}

/// Every store, for tests that must hold for each: memory, SQLite, and PostgreSQL when
/// `SANTEI_TEST_POSTGRES_URL` is set (required under `CI=true`).
pub fn both() -> Vec<(&'static str, Security, Arc<TestClock>)> {
    let (a, ca) = memory();
    let (b, cb) = sqlite();
    let mut v = vec![("memory", a, ca), ("sqlite", b, cb)];
    if let Some((c, cc)) = postgres() {
        v.push(("postgres", c, cc));
    }
    v
}

/// The test PostgreSQL URL, if set. Under `CI=true` it is required: fail loudly, skip nothing.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SANTEI_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => {
            if cfg!(not(feature = "postgres")) && std::env::var("CI").is_ok_and(|c| c == "true") {
                panic!("CI=true: santei-security's PostgreSQL tests need `--features postgres` (or `cargo test --workspace`)");
            }
            Some(u)
        }
        _ => {
            if std::env::var("CI").is_ok_and(|c| c == "true") {
                panic!("CI=true but SANTEI_TEST_POSTGRES_URL is not set: run `.ci/postgres.sh` and export its URL");
            }
            eprintln!("note: SANTEI_TEST_POSTGRES_URL not set; PostgreSQL security-store tests not run here");
            None
        }
    }
}

/// A schema name no other test (in this or another test process) uses.
pub fn fresh_schema() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sec_t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A PostgreSQL store in a fresh schema of the test database (None when no URL is set).
#[cfg(feature = "postgres")]
pub fn postgres_store() -> Option<(Arc<PostgresStore>, String, String)> {
    let url = postgres_url()?;
    let schema = fresh_schema();
    let s = PostgresStore::open_in_schema(&url, Some(&schema)).expect("open PostgreSQL store");
    Some((Arc::new(s), url, schema))
}

#[cfg(feature = "postgres")]
pub fn postgres() -> Option<(Security, Arc<TestClock>)> {
    let (store, _, _) = postgres_store()?;
    let clock = Arc::new(TestClock::new(T0));
    Some((Security::new(store, clock.clone(), cfg()), clock))
}

#[cfg(not(feature = "postgres"))]
pub fn postgres() -> Option<(Security, Arc<TestClock>)> {
    postgres_url()?;
    eprintln!("note: santei-security built without the `postgres` feature; PostgreSQL store tests not run");
    None
}

pub const GOOD_PW: &str = "kaki-no-tane 7 ringo";

pub struct Enrolled {
    pub session: Secret,
    pub key: Vec<u8>,
    pub recovery: Vec<Secret>,
}

/// Create a user (first admin if `roles` is admin-only and no admin exists) and walk the whole
/// first-login flow: one-time password → change → TOTP enrolment → session.
pub fn enrol(
    sec: &Security,
    clock: &TestClock,
    tenant: &str,
    name: &str,
    roles: &[Role],
    admin: Option<&Principal>,
) -> Enrolled {
    let (_, otp) = match admin {
        None => sec.init_tenant_admin(tenant, name, "test").unwrap(),
        Some(a) => sec
            .create_user(Some(a), tenant, name, roles, "127.0.0.1")
            .unwrap(),
    };
    let step = sec.login_password(tenant, name, &otp, "127.0.0.1").unwrap();
    let LoginStep::NeedPasswordChange { ticket } = step else {
        panic!("expected password change, got {step:?}")
    };
    let step = sec
        .change_password(&ticket, &Secret::from(GOOD_PW), "127.0.0.1")
        .unwrap();
    let LoginStep::NeedTotpEnrolment { ticket } = step else {
        panic!("expected enrolment, got {step:?}")
    };
    let en = sec.begin_totp_enrolment(&ticket).unwrap();
    let key = unbase32(en.secret_base32.expose()).unwrap();
    assert!(en.uri.expose().starts_with("otpauth://totp/"));
    let code = totp::code_at(&key, clock.now());
    let done = sec
        .confirm_totp_enrolment(&ticket, &Secret::new(code), "127.0.0.1")
        .unwrap();
    let LoginStep::Complete { session, .. } = done.step else {
        panic!("expected session")
    };
    assert_eq!(done.recovery_codes.len(), 10);
    Enrolled {
        session,
        key,
        recovery: done.recovery_codes,
    }
}

/// A normal login: password then TOTP (advances the clock one step first, so the code is fresh).
pub fn login(
    sec: &Security,
    clock: &TestClock,
    tenant: &str,
    name: &str,
    key: &[u8],
) -> Result<Secret> {
    clock.advance(30);
    let step = sec.login_password(tenant, name, &Secret::from(GOOD_PW), "127.0.0.1")?;
    let LoginStep::NeedSecondFactor { ticket } = step else {
        panic!("expected second factor, got {step:?}")
    };
    let code = totp::code_at(key, clock.now());
    match sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(code)), "127.0.0.1")? {
        LoginStep::Complete { session, .. } => Ok(session),
        other => panic!("expected session, got {other:?}"),
    }
}
