//! Login, MFA, lockout, sessions, tokens and roles — each property on both stores.

mod common;
use common::*;
use santei_security::rbac::{ACTIONS, ROLES};
use santei_security::*;

#[test]
fn first_login_forces_password_change_and_totp_enrolment() {
    for (store, sec, clock) in both() {
        let e = enrol(
            &sec,
            &clock,
            "1310000001",
            "admin",
            &[Role::Administrator],
            None,
        );
        let p = sec.authenticate_bearer(e.session.expose()).unwrap();
        assert_eq!(p.tenant, "1310000001", "{store}");
        assert_eq!(p.roles, vec![Role::Administrator]);
        // The one-time password no longer works; the new one does (with TOTP).
        login(&sec, &clock, "1310000001", "admin", &e.key).unwrap();
        // A second `admin init` for the same tenant is refused.
        assert_eq!(
            sec.init_tenant_admin("1310000001", "other", "test")
                .unwrap_err()
                .code,
            "S202"
        );
    }
}

#[test]
fn weak_new_password_refused_at_first_login() {
    let (sec, _clock) = memory();
    let (_, otp) = sec.init_tenant_admin("T", "admin", "test").unwrap();
    let LoginStep::NeedPasswordChange { ticket } =
        sec.login_password("T", "admin", &otp, "").unwrap()
    else {
        panic!()
    };
    for weak in ["P@ssw0rd", "P@ssw0rd1234", "administrator", "short"] {
        assert!(
            sec.change_password(&ticket, &Secret::from(weak), "")
                .is_err(),
            "{weak}"
        );
    }
}

#[test]
fn login_without_totp_refused() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        clock.advance(30);
        // Password alone gives only a ticket for the second factor …
        let step = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap();
        let LoginStep::NeedSecondFactor { ticket } = step else {
            panic!("{store}: {step:?}")
        };
        // … which authenticates nothing.
        assert_eq!(
            sec.authenticate_bearer(ticket.expose()).unwrap_err().code,
            "S002",
            "{store}"
        );
        // And cannot be used to skip steps.
        assert!(sec
            .change_password(&ticket, &Secret::from("another good passphrase 9"), "")
            .is_err());
        assert!(sec.begin_totp_enrolment(&ticket).is_err());
        // A wrong code is refused; the right one completes.
        let bad = if totp::code_at(&e.key, clock.now()) == "000000" {
            "111111"
        } else {
            "000000"
        };
        assert!(sec
            .login_second_factor(&ticket, &SecondFactor::Totp(Secret::from(bad)), "")
            .is_err());
        let code = totp::code_at(&e.key, clock.now());
        assert!(matches!(
            sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(code)), "")
                .unwrap(),
            LoginStep::Complete { .. }
        ));
        // A user who never enrolled cannot get a session with a password only either.
        let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
        let (_, otp) = sec
            .create_user(Some(&admin), "T", "clerk1", &[Role::Clerk], "")
            .unwrap();
        let LoginStep::NeedPasswordChange { ticket } =
            sec.login_password("T", "clerk1", &otp, "").unwrap()
        else {
            panic!()
        };
        let step = sec
            .change_password(&ticket, &Secret::from(GOOD_PW), "")
            .unwrap();
        assert!(
            matches!(step, LoginStep::NeedTotpEnrolment { .. }),
            "{store}"
        );
        assert!(sec
            .authenticate_bearer(step.ticket().unwrap().expose())
            .is_err());
    }
}

#[test]
fn five_failures_lock_sixth_correct_refused_unlock_works() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
        let u = enrol(&sec, &clock, "T", "clerk1", &[Role::Clerk], Some(&admin));
        for _ in 0..5 {
            let err = sec
                .login_password(
                    "T",
                    "clerk1",
                    &Secret::from("wrong password 123"),
                    "10.0.0.9",
                )
                .unwrap_err();
            assert_eq!(err.code, "S001");
        }
        // 6th attempt with the correct password: still refused, same error.
        let err = sec
            .login_password("T", "clerk1", &Secret::from(GOOD_PW), "10.0.0.9")
            .unwrap_err();
        assert_eq!(err, SecError::auth_failed(), "{store}");
        // The lock was audited.
        let locks: Vec<_> = sec
            .store()
            .audit_entries(0, 10_000)
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "auth.lock")
            .collect();
        assert_eq!(locks.len(), 1, "{store}");
        // Administrator unlock; then the correct login works.
        sec.unlock(Some(&admin), "T", "clerk1", "").unwrap();
        login(&sec, &clock, "T", "clerk1", &u.key).unwrap();
        // A clerk cannot unlock; another tenant's admin cannot either.
        let clerk = sec
            .authenticate_bearer(login(&sec, &clock, "T", "clerk1", &u.key).unwrap().expose())
            .unwrap();
        assert_eq!(
            sec.unlock(Some(&clerk), "T", "admin", "").unwrap_err().code,
            "S003"
        );
        let e2 = enrol(&sec, &clock, "U", "admin", &[Role::Administrator], None);
        let admin2 = sec.authenticate_bearer(e2.session.expose()).unwrap();
        assert_eq!(
            sec.unlock(Some(&admin2), "T", "clerk1", "")
                .unwrap_err()
                .code,
            "S004"
        );
    }
}

#[test]
fn lock_expires_after_configured_time_and_totp_failures_count() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        clock.advance(30);
        // Correct password, then 5 wrong TOTP codes: locks.
        let LoginStep::NeedSecondFactor { ticket } = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap()
        else {
            panic!()
        };
        let good = totp::code_at(&e.key, clock.now());
        let bad = if good == "123456" { "654321" } else { "123456" };
        for _ in 0..5 {
            assert_eq!(
                sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::from(bad)), "")
                    .unwrap_err()
                    .code,
                "S001"
            );
        }
        assert!(
            sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(good)), "")
                .is_err(),
            "{store}: locked"
        );
        assert!(login(&sec, &clock, "T", "admin", &e.key).is_err());
        clock.advance(15 * 60);
        login(&sec, &clock, "T", "admin", &e.key).unwrap();
    }
}

#[test]
fn uniform_error_for_unknown_user_wrong_password_wrong_tenant() {
    for (_, sec, clock) in both() {
        enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let a = sec
            .login_password("T", "nobody", &Secret::from(GOOD_PW), "")
            .unwrap_err();
        let b = sec
            .login_password("T", "admin", &Secret::from("not the password"), "")
            .unwrap_err();
        let c = sec
            .login_password("X", "admin", &Secret::from(GOOD_PW), "")
            .unwrap_err();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(format!("{a}"), format!("{b}"));
        // Bogus tickets: same error.
        let d = sec
            .login_second_factor(
                &Secret::from("stk_nonsense"),
                &SecondFactor::Totp(Secret::from("123456")),
                "",
            )
            .unwrap_err();
        assert_eq!(a, d);
    }
}

#[test]
fn replayed_totp_refused() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        clock.advance(30);
        let code = totp::code_at(&e.key, clock.now());
        let LoginStep::NeedSecondFactor { ticket } = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap()
        else {
            panic!()
        };
        sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(code.clone())), "")
            .unwrap();
        // Same code again, same step (and still within the window 20 s later): refused.
        clock.advance(20);
        let LoginStep::NeedSecondFactor { ticket } = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            sec.login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(code)), "")
                .unwrap_err()
                .code,
            "S001",
            "{store}"
        );
        // An earlier step's code (within the window but older than the used one): refused too.
        let older = totp::code_at(&e.key, clock.now() - 30);
        assert!(sec
            .login_second_factor(&ticket, &SecondFactor::Totp(Secret::new(older)), "")
            .is_err());
    }
}

#[test]
fn recovery_codes_single_use() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let rc = e.recovery[3].clone();
        let LoginStep::NeedSecondFactor { ticket } = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap()
        else {
            panic!()
        };
        // Case and dashes don't matter.
        let typed = Secret::new(rc.expose().to_lowercase().replace('-', ""));
        assert!(matches!(
            sec.login_second_factor(&ticket, &SecondFactor::RecoveryCode(typed), "")
                .unwrap(),
            LoginStep::Complete { .. }
        ));
        let LoginStep::NeedSecondFactor { ticket } = sec
            .login_password("T", "admin", &Secret::from(GOOD_PW), "")
            .unwrap()
        else {
            panic!()
        };
        assert!(
            sec.login_second_factor(&ticket, &SecondFactor::RecoveryCode(rc), "")
                .is_err(),
            "{store}: reused"
        );
    }
}

#[test]
fn expired_sessions_and_tokens_refused() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
        // Idle timeout (15 min).
        clock.advance(15 * 60 + 1);
        assert_eq!(
            sec.authenticate_bearer(e.session.expose())
                .unwrap_err()
                .code,
            "S002",
            "{store}: idle"
        );
        // Absolute timeout (8 h) even when active.
        let s = login(&sec, &clock, "T", "admin", &e.key).unwrap();
        for _ in 0..(8 * 60 / 10) {
            clock.advance(10 * 60);
            if sec.authenticate_bearer(s.expose()).is_err() {
                break;
            }
        }
        assert!(
            sec.authenticate_bearer(s.expose()).is_err(),
            "{store}: absolute"
        );
        // API token: works until it expires.
        let (_, tok) = sec
            .create_api_token(Some(&admin), "T", "emr-1", &[Action::Calculate], 3600, "")
            .unwrap();
        let p = sec.authenticate_bearer(tok.expose()).unwrap();
        assert!(p.can("T", Action::Calculate));
        assert!(!p.can("T", Action::ReadPatient), "scoped");
        clock.advance(3600);
        assert_eq!(
            sec.authenticate_bearer(tok.expose()).unwrap_err().code,
            "S002",
            "{store}: token expiry"
        );
        // Revoked token.
        let (id, tok) = sec
            .create_api_token(None, "T", "emr-2", &[Action::Calculate], 3600, "")
            .unwrap();
        sec.authenticate_bearer(tok.expose()).unwrap();
        sec.revoke_api_token(None, "T", id, "").unwrap();
        assert!(sec.authenticate_bearer(tok.expose()).is_err());
        // Logout.
        let s = login(&sec, &clock, "T", "admin", &e.key).unwrap();
        sec.logout(&s, "").unwrap();
        assert!(sec.authenticate_bearer(s.expose()).is_err());
        // Garbage.
        for g in [
            "",
            "Bearer",
            "sst_",
            "sat_00",
            &"x".repeat(10_000),
            "sst_zz\u{0}",
        ] {
            assert_eq!(sec.authenticate_bearer(g).unwrap_err().code, "S002");
        }
    }
}

#[test]
fn api_token_cache_is_bounded_by_revocation_and_ttl() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
        let (id, tok) = sec
            .create_api_token(Some(&admin), "T", "emr-1", &[Action::Calculate], 3600, "")
            .unwrap();
        // Not yet validated: the in-memory path does not know it.
        assert!(sec.authenticate_cached(tok.expose(), None).is_none(), "{store}");
        sec.authenticate_bearer(tok.expose()).unwrap();
        let p = sec.authenticate_cached(tok.expose(), None).expect("cached");
        assert!(p.can("T", Action::Calculate) && !p.can("T", Action::ReadPatient), "{store}: scopes kept");
        // Sessions never take the in-memory path.
        assert!(sec.authenticate_cached(e.session.expose(), None).is_none(), "{store}");
        // Revoked by another node (straight in the shared store): this node accepts the token
        // for at most token_cache_secs, then refuses it.
        assert!(sec.store().revoke_api_token("T", id, clock.now()).unwrap());
        assert!(sec.authenticate_bearer(tok.expose()).is_ok(), "{store}: within the cache window");
        clock.advance(sec.config().token_cache_secs);
        assert!(sec.authenticate_cached(tok.expose(), None).is_none(), "{store}");
        assert_eq!(sec.authenticate_bearer(tok.expose()).unwrap_err().code, "S002", "{store}: after the window");
        // Revoked through this node: refused at once, cache or not.
        let (id, tok) = sec
            .create_api_token(Some(&admin), "T", "emr-2", &[Action::Calculate], 3600, "")
            .unwrap();
        sec.authenticate_bearer(tok.expose()).unwrap();
        sec.revoke_api_token(Some(&admin), "T", id, "").unwrap();
        assert!(sec.authenticate_cached(tok.expose(), None).is_none(), "{store}");
        assert!(sec.authenticate_bearer(tok.expose()).is_err(), "{store}: revoked here");
    }
}

#[test]
fn api_token_bound_to_a_client_certificate_needs_that_certificate() {
    for (store, sec, clock) in both() {
        let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
        let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
        let (mine, other) = ([0xabu8; 32], [0xcdu8; 32]);
        let (_, tok) = sec
            .create_api_token_bound(Some(&admin), "T", "emr-mtls", &[Action::Calculate], 3600, Some(mine), "")
            .unwrap();
        // Without a certificate, or with another one: the uniform refusal, cached or not.
        for _ in 0..2 {
            assert_eq!(sec.authenticate_bearer(tok.expose()).unwrap_err().code, "S002", "{store}: no cert");
            assert_eq!(sec.authenticate_bearer_from(tok.expose(), Some(&other)).unwrap_err().code, "S002", "{store}: other cert");
            assert!(sec.authenticate_bearer_from(tok.expose(), Some(&mine)).is_ok(), "{store}: its cert");
            assert!(sec.authenticate_cached(tok.expose(), None).is_none(), "{store}");
            assert!(sec.authenticate_cached(tok.expose(), Some(&other)).is_none(), "{store}");
            assert!(sec.authenticate_cached(tok.expose(), Some(&mine)).is_some(), "{store}");
        }
        // The binding is stored (listed) and its creation audited with the fingerprint.
        let listed = sec.store().list_api_tokens("T").unwrap();
        assert_eq!(listed.iter().find(|t| t.name == "emr-mtls").unwrap().client_cert_sha256, Some(mine), "{store}");
        let entries = sec.store().audit_entries(0, 1000).unwrap();
        assert!(entries.iter().any(|a| a.action == "admin.token_create" && a.detail.contains(&"ab".repeat(32))), "{store}");
        // An unbound token works with or without a certificate.
        let (_, free) = sec.create_api_token(Some(&admin), "T", "emr-free", &[Action::Calculate], 3600, "").unwrap();
        assert!(sec.authenticate_bearer(free.expose()).is_ok() && sec.authenticate_bearer_from(free.expose(), Some(&other)).is_ok(), "{store}");
    }
}

#[test]
fn api_token_scopes_limited_to_api_client_role() {
    let (sec, _) = memory();
    assert_eq!(
        sec.create_api_token(None, "T", "x", &[Action::ManageUsers], 3600, "")
            .unwrap_err()
            .code,
        "S108"
    );
    assert_eq!(
        sec.create_api_token(None, "T", "x", &[], 3600, "")
            .unwrap_err()
            .code,
        "S108"
    );
    assert_eq!(
        sec.create_api_token(None, "T", "x", &[Action::Calculate], 10, "")
            .unwrap_err()
            .code,
        "S109"
    );
}

/// The full role × action matrix, cell by cell, written out independently of the code's table.
#[test]
fn role_action_matrix_every_cell() {
    use Action::*;
    use Role::*;
    let expected: &[(Role, &[Action])] = &[
        (
            Administrator,
            &[ReadMaster, ImportMaster, ManageUsers, Backup],
        ),
        (
            Clerk,
            &[
                ReadPatient,
                WritePatient,
                Calculate,
                GenerateClaims,
                ReadMaster,
            ],
        ),
        (
            Physician,
            &[ReadPatient, WritePatient, Calculate, ReadMaster],
        ),
        (Auditor, &[ReadAudit]),
        (
            ApiClient,
            &[
                ReadPatient,
                WritePatient,
                Calculate,
                GenerateClaims,
                ReadMaster,
            ],
        ),
    ];
    let mut cells = 0;
    for role in ROLES {
        let row = expected.iter().find(|(r, _)| *r == role).unwrap().1;
        for action in ACTIONS {
            assert_eq!(
                allowed(role, action),
                row.contains(&action),
                "{role:?} × {action:?}"
            );
            // Through a principal: own tenant as the matrix says, any other tenant never.
            let p = Principal {
                tenant: "T".into(),
                subject: Subject::User {
                    id: 1,
                    name: "u".into(),
                },
                roles: vec![role],
                scopes: None,
            };
            assert_eq!(p.can("T", action), row.contains(&action));
            assert!(!p.can("U", action), "cross-tenant {role:?} × {action:?}");
            cells += 1;
        }
    }
    assert_eq!(cells, 45);
}

#[test]
fn authorize_answers_forbidden_or_not_found_and_audits() {
    let (sec, clock) = sqlite();
    let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let admin = sec.authenticate_bearer(e.session.expose()).unwrap();
    assert_eq!(
        sec.authorize(&admin, "T", Action::ReadPatient, "")
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    assert_eq!(
        sec.authorize(&admin, "U", Action::ManageUsers, "")
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    sec.authorize(&admin, "T", Action::ManageUsers, "").unwrap();
    let denied = sec
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "auth.denied")
        .count();
    assert_eq!(denied, 2);
    // Auditor reads the audit of its own tenant only.
    let aud = enrol(&sec, &clock, "T", "aud", &[Role::Auditor], Some(&admin));
    let auditor = sec.authenticate_bearer(aud.session.expose()).unwrap();
    let entries = sec.read_audit(&auditor, 0, 100).unwrap();
    assert!(!entries.is_empty() && entries.iter().all(|a| a.tenant == "T"));
    assert!(sec.read_audit(&admin, 0, 100).is_err());
}

#[test]
fn weak_accounts_refuse_start() {
    use santei_security::password::{hash_password, HashParams, POLICY_VERSION};
    use santei_security::weak::{find_weak_accounts, refuse_weak_accounts};
    let (sec, clock) = sqlite();
    enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    refuse_weak_accounts(sec.store().as_ref()).unwrap();
    // Someone writes the shared administrator/P@ssw0rd straight into the database.
    let h = hash_password(&HashParams::insecure_for_tests(), "P@ssw0rd").unwrap();
    let u = sec.store().user_by_name("T", "admin").unwrap().unwrap();
    sec.store()
        .set_password("T", u.id, &h, POLICY_VERSION, false)
        .unwrap();
    let w = find_weak_accounts(sec.store().as_ref(), 20).unwrap();
    assert_eq!(w.len(), 1);
    let e = refuse_weak_accounts(sec.store().as_ref()).unwrap_err();
    assert_eq!(e.code, "S401");
    assert!(
        !e.message_en.contains("P@ssw0rd"),
        "never print the password"
    );
    // A hash from an unknown policy version is refused too.
    let h = hash_password(
        &HashParams::insecure_for_tests(),
        "some long random passphrase x",
    )
    .unwrap();
    sec.store().set_password("T", u.id, &h, 0, false).unwrap();
    assert!(refuse_weak_accounts(sec.store().as_ref()).is_err());
}

#[test]
fn debug_output_redacts_secrets() {
    let (sec, clock) = memory();
    let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let u = sec.store().user_by_name("T", "admin").unwrap().unwrap();
    let dbg = format!("{u:?} {:?} {:?}", e.session, e.recovery);
    assert!(!dbg.contains("argon2"));
    assert!(!dbg.contains(e.session.expose()));
    assert!(!dbg.contains(e.recovery[0].expose()));
}

#[test]
fn security_is_shareable_across_threads_and_retention_refusal_is_audited() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Security>();
    let (sec, clock) = sqlite();
    let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let p = sec.authenticate_bearer(e.session.expose()).unwrap();
    let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    assert_eq!(
        sec.check_retention(&p, "patient", "42", Some(d(2024, 3, 31)), d(2026, 1, 1), "")
            .unwrap_err()
            .code,
        "S502"
    );
    sec.check_retention(&p, "patient", "42", Some(d(2019, 3, 31)), d(2026, 1, 1), "")
        .unwrap();
    let refused = sec
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "retention.refused")
        .count();
    assert_eq!(refused, 1);
}

#[test]
fn weak_sweep_runs_once_per_hash() {
    use santei_security::password::{hash_password, HashParams, POLICY_VERSION};
    let (sec, clock) = sqlite();
    enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let u = sec.store().user_by_name("T", "admin").unwrap().unwrap();
    let h = santei_security::util::sha256(u.password_hash.as_bytes());
    assert!(!sec.store().weak_checked("T", u.id, &h).unwrap());
    weak::refuse_weak_accounts(sec.store().as_ref()).unwrap();
    assert!(sec.store().weak_checked("T", u.id, &h).unwrap());
    // A changed hash is swept again (and caught).
    let bad = hash_password(&HashParams::insecure_for_tests(), "administrator").unwrap();
    sec.store()
        .set_password("T", u.id, &bad, POLICY_VERSION, false)
        .unwrap();
    assert!(weak::refuse_weak_accounts(sec.store().as_ref()).is_err());
}

#[test]
fn huge_password_input_is_just_a_failure() {
    let (sec, clock) = memory();
    enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let big = Secret::new("x".repeat(5_000_000));
    assert_eq!(
        sec.login_password("T", "admin", &big, "").unwrap_err().code,
        "S001"
    );
    assert_eq!(
        sec.login_password("T", "nobody", &big, "")
            .unwrap_err()
            .code,
        "S001"
    );
}
