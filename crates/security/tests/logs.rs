//! No secret ever reaches the logs: capture every tracing event during a full session (enrolment,
//! logins, failures, lockout, tokens, unlock) and grep for each secret.

mod common;
use common::*;
use santei_security::util::base32;
use santei_security::*;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct V<'a>(&'a mut String);
impl Visit for V<'_> {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", f.name(), v));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.push_str(&format!(" {}={}", f.name(), v));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, a: &Attributes<'_>) -> Id {
        let mut s = self.0.lock().unwrap();
        a.record(&mut V(&mut s));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, r: &Record<'_>) {
        r.record(&mut V(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut s = self.0.lock().unwrap();
        s.push_str(e.metadata().level().as_str());
        e.record(&mut V(&mut s));
        s.push('\n');
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn secrets_never_logged() {
    let cap = Capture::default();
    let (sec, clock) = sqlite();
    let mut secrets: Vec<String> = Vec::new();
    tracing::subscriber::with_default(cap.clone(), || {
        let (_, otp) = sec.init_tenant_admin("T", "admin", "test").unwrap();
        secrets.push(otp.expose().into());
        let LoginStep::NeedPasswordChange { ticket } =
            sec.login_password("T", "admin", &otp, "").unwrap()
        else {
            panic!()
        };
        secrets.push(ticket.expose().into());
        let _ = sec.change_password(&ticket, &Secret::from("P@ssw0rd"), "");
        let step = sec
            .change_password(&ticket, &Secret::from(GOOD_PW), "")
            .unwrap();
        let ticket = step.ticket().unwrap().clone();
        secrets.push(ticket.expose().into());
        let en = sec.begin_totp_enrolment(&ticket).unwrap();
        secrets.push(en.secret_base32.expose().into());
        let key = santei_security::util::unbase32(en.secret_base32.expose()).unwrap();
        let code = totp::code_at(&key, clock.now());
        let done = sec
            .confirm_totp_enrolment(&ticket, &Secret::new(code), "")
            .unwrap();
        secrets.extend(done.recovery_codes.iter().map(|c| c.expose().to_string()));
        let LoginStep::Complete { session, .. } = done.step else {
            panic!()
        };
        secrets.push(session.expose().into());
        let admin = sec.authenticate_bearer(session.expose()).unwrap();
        // Failures up to lockout, with the real password among the attempts.
        for pw in [
            "typo passphrase 1",
            "typo passphrase 2",
            "typo passphrase 3",
            "typo passphrase 4",
            "typo passphrase 5",
            GOOD_PW,
        ] {
            let _ = sec.login_password("T", "admin", &Secret::from(pw), "");
            secrets.push(pw.into());
        }
        sec.unlock(Some(&admin), "T", "admin", "").unwrap();
        let (_, tok) = sec
            .create_api_token(Some(&admin), "T", "emr", &[Action::Calculate], 3600, "")
            .unwrap();
        secrets.push(tok.expose().into());
        sec.authenticate_bearer(tok.expose()).unwrap();
        let s = login(&sec, &clock, "T", "admin", &key).unwrap();
        secrets.push(s.expose().into());
        secrets.push(base32(&key));
        let _ = weak::refuse_weak_accounts(sec.store().as_ref());
    });
    let logs = cap.0.lock().unwrap().clone();
    assert!(logs.contains("account locked"), "capture works: {logs}");
    for s in &secrets {
        assert!(
            !logs.contains(s.as_str()),
            "secret {s:?} appears in logs:\n{logs}"
        );
    }
    assert!(!logs.contains("argon2"), "no hashes in logs");
}
