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

/// Both stores, for tests that must hold for each.
pub fn both() -> Vec<(&'static str, Security, Arc<TestClock>)> {
    let (a, ca) = memory();
    let (b, cb) = sqlite();
    vec![("memory", a, ca), ("sqlite", b, cb)]
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
