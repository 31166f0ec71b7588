//! The access log names method, route template, status, latency and tenant — and never patient
//! names, insurer numbers, tokens, raw paths with ids, or bodies.

mod common;
use common::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_carry_no_patient_data_or_secrets() {
    let buf = Buf::default();
    let w = buf.clone();
    tracing_subscriber::fmt().with_env_filter("debug").with_ansi(false).with_writer(move || w.clone()).init();
    let s = start(&Backend::Sqlite);
    let (tid, tok) = s.tenant("ログ診療所");
    let t = Some(tok.as_str());
    let r = s.call("POST", "/v1/patients", t, Some(&json!({"number": "LOG-77", "name": "秘密花子", "kana": "ヒミツハナコ", "birth_date": "1970-01-01", "sex": 2})));
    let pid = r.json()["id"].as_str().unwrap().to_string();
    let r = s.call(
        "POST",
        &format!("/v1/patients/{pid}/insurances"),
        t,
        Some(&json!({"kind": "insurance", "insurer_number": "39131234", "number": "SECRETNO", "valid_from": "2024-04-01"})),
    );
    assert_eq!(r.status, 201);
    s.call("GET", &format!("/v1/patients/{pid}"), t, None);
    s.call("GET", "/v1/patients", Some("santei_bad"), None);
    s.call("POST", "/v1/patients", t, Some(&json!({"number": "LOG-78", "name": "秘密次郎", "birth_date": "bad", "sex": 1})));
    // A whole login (one-time password, change, TOTP enrolment), failures up to a lock, an API
    // token: none of these secrets may reach the log.
    let (_, _, code) = s.tenant_with_code("秘密診療所");
    let (_, otp) = s.state.security.create_user(None, &code, "logadmin", &[santei_security::Role::Administrator], "test").unwrap();
    let u = s.user_session(&code, "logclerk", &[santei_security::Role::Clerk]);
    let admin = s.user_session(&code, "logadmin2", &[santei_security::Role::Administrator]);
    for _ in 0..5 {
        s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "logclerk", "password": "Wrong-Secret-Pass-42"})));
    }
    let r = s.call("POST", "/v1/api-tokens", Some(&admin.session), Some(&json!({"name": "emr", "scopes": ["read-master"], "ttl_secs": 600})));
    let api_tok = r.json()["token"].as_str().unwrap().to_string();
    s.call("GET", "/v1/master/111000110", Some(&api_tok), None);
    let totp_b32 = santei_security::util::base32(&u.totp_key);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    for secret in [otp.expose(), u.password.as_str(), u.session.as_str(), &u.session[4..], admin.session.as_str(), api_tok.as_str(), &api_tok[4..], totp_b32.as_str(), u.recovery_codes[0].as_str(), "Wrong-Secret-Pass-42"] {
        assert!(!log.contains(secret), "log leaks a secret:\n{log}");
    }
    assert!(log.contains("account locked"), "{log}");
    assert!(log.contains("route=/v1/patients/{patient_id}"), "{log}");
    assert!(log.contains("status=201") && log.contains("status=401") && log.contains("status=422"), "{log}");
    assert!(log.contains(&format!("tenant={tid}")), "{log}");
    assert!(log.contains("latency_ms="), "{log}");
    for secret in ["秘密花子", "秘密次郎", "ヒミツハナコ", "39131234", "SECRETNO", "LOG-77", tok.as_str(), &tok[4..], OPERATOR, pid.as_str()] {
        assert!(!log.contains(secret), "log leaks {secret}:\n{log}");
    }
}
