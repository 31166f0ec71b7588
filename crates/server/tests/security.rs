//! The service with santei-security: login flow, lockout, TOTP replay, token expiry, the role ×
//! route matrix over every route, cross-tenant refusal on every route, audit chain, HTTPS.

mod common;
use common::*;
use santei_security::rbac::ROLES;
use santei_security::{allowed, Role};
use santei_server::auth::{access_for, Access};
use serde_json::{json, Value};

fn patient(number: &str, name: &str) -> Value {
    json!({"number": number, "name": name, "kana": "テスト", "birth_date": "1980-05-01", "sex": 1})
}

#[test]
fn login_requires_second_factor_and_refuses_replay() {
    let s = start(&Backend::Sqlite);
    let (_, _, code) = s.tenant_with_code("認証診療所");
    let u = s.user_session(&code, "clerk1", &[Role::Clerk]);
    assert_eq!(s.call("GET", "/v1/patients", Some(&u.session), None).status, 200);
    // Password alone: a ticket that authenticates nothing.
    let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": u.password})));
    assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("need_second_factor")), "{}", r.text());
    let ticket = r.json()["ticket"].as_str().unwrap().to_string();
    assert!(r.json().get("session").is_none_or(Value::is_null));
    assert_error(&s.call("GET", "/v1/patients", Some(&ticket), None), 401, "unauthorized");
    // A wrong code: the uniform failure.
    let r = s.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": ticket, "totp": "000000"})));
    assert_error(&r, 401, "authentication_failed");
    // Correct code → session; the same code again (same 30-s step) is a replay → refused.
    let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": u.password})));
    let code_now = s.totp(&u.totp_key);
    let r = s.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": r.json()["ticket"], "totp": code_now})));
    assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("complete")), "{}", r.text());
    let session2 = r.json()["session"].as_str().unwrap().to_string();
    let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": u.password})));
    let r = s.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": r.json()["ticket"], "totp": code_now})));
    assert_error(&r, 401, "authentication_failed");
    // A recovery code works once.
    s.clock.advance(30);
    let rc = u.recovery_codes[0].clone();
    let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": u.password})));
    let r = s.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": r.json()["ticket"], "recovery_code": rc})));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": u.password})));
    let r = s.call("POST", "/v1/auth/second-factor", None, Some(&json!({"ticket": r.json()["ticket"], "recovery_code": rc})));
    assert_error(&r, 401, "authentication_failed");
    // Unknown user and wrong password: the same answer.
    let a = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "nobody", "password": u.password})));
    let b = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "clerk1", "password": "wrong-password-123"})));
    assert_error(&a, 401, "authentication_failed");
    assert_eq!(a.text(), b.text());
    // Logout ends the session.
    assert_eq!(s.call("POST", "/v1/auth/logout", Some(&session2), None).status, 204);
    assert_error(&s.call("GET", "/v1/patients", Some(&session2), None), 401, "unauthorized");
    assert_eq!(s.call("GET", "/v1/patients", Some(&u.session), None).status, 200);
}

#[test]
fn five_failures_lock_and_admin_unlocks() {
    let s = start(&Backend::Sqlite);
    let (_, _, code) = s.tenant_with_code("施錠診療所");
    let admin = s.user_session(&code, "admin1", &[Role::Administrator]);
    let u = s.user_session(&code, "doc1", &[Role::Physician]);
    for _ in 0..5 {
        let r = s.call("POST", "/v1/auth/login", None, Some(&json!({"tenant": code, "user": "doc1", "password": "not-the-password-1"})));
        assert_error(&r, 401, "authentication_failed");
    }
    // 6th attempt with the right password and a right code: still refused, same body.
    let r = s.login(&code, "doc1", &u);
    assert_error(&r, 401, "authentication_failed");
    // A clerk cannot unlock; the administrator can.
    assert_error(&s.call("POST", "/v1/users/doc1/unlock", Some(&u.session), None), 401, "unauthorized");
    assert_eq!(s.call("POST", "/v1/users/doc1/unlock", Some(&admin.session), None).status, 204);
    let r = s.login(&code, "doc1", &u);
    assert_eq!((r.status, r.json()["stage"].clone()), (200, json!("complete")), "{}", r.text());
    // The lock and the unlock are in the audit log.
    let auditor = s.user_session(&code, "aud1", &[Role::Auditor]);
    let r = s.call("GET", "/v1/audit?limit=1000", Some(&auditor.session), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let acts: Vec<String> = r.json()["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert!(acts.iter().any(|a| a == "auth.lock") && acts.iter().any(|a| a == "auth.unlock"), "{acts:?}");
}

#[test]
fn a_calculation_is_in_the_audit_log_as_soon_as_it_is_answered() {
    // Calculations are audited through the buffered group commit (audit_writer): an auditor
    // reading right after the answer still sees the entry, with who, from where and the outcome.
    let s = start(&Backend::Sqlite);
    let (_, _, code) = s.tenant_with_code("即時監査診療所");
    let u = s.user_session(&code, "clerk1", &[Role::Clerk]);
    let auditor = s.user_session(&code, "aud1", &[Role::Auditor]);
    let body = json!({"patient": {"birth_date": "1960-04-01", "sex": "1"}, "date": "2024-06-03", "consultation": "revisit", "orders": []});
    for _ in 0..3 {
        let r = s.call("POST", "/v1/calculate", Some(&u.session), Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = s.call("GET", "/v1/audit?limit=1000", Some(&auditor.session), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let items = r.json();
    let calcs: Vec<&Value> = items["items"].as_array().unwrap().iter().filter(|e| e["action"] == "calc.calculate").collect();
    assert_eq!(calcs.len(), 3, "{}", r.text());
    for e in calcs {
        assert_eq!((e["outcome"].as_str(), e["source"].as_str().map(|s| s.starts_with("127.0.0.1:"))), (Some("success"), Some(true)), "{e}");
        assert!(e["actor"].as_str().unwrap().starts_with("user:"), "{e}");
    }
}

#[test]
fn expired_tokens_and_sessions_are_refused() {
    let s = start(&Backend::Sqlite);
    let (_, _, code) = s.tenant_with_code("期限診療所");
    let admin = s.user_session(&code, "admin1", &[Role::Administrator]);
    let r = s.call("POST", "/v1/api-tokens", Some(&admin.session), Some(&json!({"name": "emr", "scopes": ["read-master"], "ttl_secs": 120})));
    assert_eq!(r.status, 201, "{}", r.text());
    let tok = r.json()["token"].as_str().unwrap().to_string();
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(s.call("GET", "/v1/master/111000110?date=2024-06-01", Some(&tok), None).status, 200);
    // Scoped: read-master only.
    assert_error(&s.call("GET", "/v1/patients", Some(&tok), None), 403, "forbidden");
    s.clock.advance(121);
    assert_error(&s.call("GET", "/v1/master/111000110?date=2024-06-01", Some(&tok), None), 401, "unauthorized");
    // Revocation.
    let r = s.call("POST", "/v1/api-tokens", Some(&admin.session), Some(&json!({"name": "emr2", "scopes": ["read-master"], "ttl_secs": 3600})));
    let tok2 = r.json()["token"].as_str().unwrap().to_string();
    let id2 = r.json()["id"].as_i64().unwrap();
    assert_ne!(id, id2);
    assert_eq!(s.call("DELETE", &format!("/v1/api-tokens/{id2}"), Some(&admin.session), None).status, 204);
    assert_error(&s.call("GET", "/v1/master/111000110", Some(&tok2), None), 401, "unauthorized");
    // The administrator's list shows both, the revocation and the expiry — never a token or hash.
    let r = s.call("GET", "/v1/api-tokens", Some(&admin.session), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    // (the tenant's initial token, made when the operator created the tenant, comes first)
    let names: Vec<(&str, bool)> = items.iter().map(|t| (t["name"].as_str().unwrap(), t["revoked_at"].is_null())).collect();
    assert_eq!(names, vec![("initial", true), ("emr", true), ("emr2", false)], "{}", r.text());
    assert!(items.iter().all(|t| t["expires_at"].is_i64() && t["client_cert_sha256"].is_null() && t.get("token_hash").is_none()), "{}", r.text());
    assert!(!r.text().contains(&tok) && !r.text().contains(&tok2));
    // Session idle timeout (15 minutes).
    let u = s.user_session(&code, "clerk1", &[Role::Clerk]);
    assert_eq!(s.call("GET", "/v1/patients", Some(&u.session), None).status, 200);
    s.clock.advance(16 * 60);
    assert_error(&s.call("GET", "/v1/patients", Some(&u.session), None), 401, "unauthorized");
}

/// Principals of every role of one tenant: four users and a full-scope API token.
struct Cast {
    code: String,
    tokens: Vec<(Role, String)>,
}

fn cast(s: &TestServer, name: &str) -> (String, Cast) {
    let (tid, api, code) = s.tenant_with_code(name);
    let mut tokens = vec![(Role::ApiClient, api)];
    for r in ROLES.into_iter().filter(|r| r.is_human()) {
        let u = s.user_session(&code, &format!("u-{}", r.as_str()), &[r]);
        tokens.push((r, u.session));
    }
    (tid, Cast { code, tokens })
}

fn concrete(path: &str, ids: &[(&str, &str)]) -> String {
    let mut p = path.to_string();
    for (k, v) in ids {
        p = p.replace(k, v);
    }
    p
}

#[test]
fn role_by_route_matrix() {
    for b in backends() {
        let s = start(&b);
        let (_, c) = cast(&s, "行列診療所");
        let ids = [("{patient_id}", "p"), ("{id}", "999999"), ("{code}", "111000110"), ("{month}", "2024-06"), ("{tenant_id}", "t"), ("{name}", "nobody")];
        let mut checked = 0;
        for (method, path) in santei_server::api::routes().list {
            let url = concrete(path, &ids);
            let body = (method == "POST" || method == "PUT").then(|| json!({}));
            match access_for(method, path) {
                Access::Tenant(action) => {
                    for (role, tok) in &c.tokens {
                        let r = s.call(method, &url, Some(tok), body.as_ref());
                        if allowed(*role, action) {
                            assert!(r.status != 401 && r.status != 403, "{} {method} {path}: {} {}", role.as_str(), r.status, r.text());
                        } else {
                            assert_eq!(r.status, 403, "{} {method} {path}: {}", role.as_str(), r.text());
                            assert_error(&r, 403, "forbidden");
                        }
                        checked += 1;
                    }
                    // The operator has no tenant rights.
                    assert_error(&s.call(method, &url, Some(OPERATOR), body.as_ref()), 403, "forbidden");
                }
                Access::Operator => {
                    for (_, tok) in &c.tokens {
                        assert_error(&s.call(method, &url, Some(tok), body.as_ref()), 403, "forbidden");
                    }
                }
                Access::Metrics => {
                    // Loopback peers read metrics without credentials (documented); nothing to check per role.
                }
                Access::Public | Access::Session => {}
                Access::Unmapped => panic!("{method} {path} unmapped"),
            }
        }
        assert!(checked >= 5 * 30, "{checked}");
    }
}

#[test]
fn cross_tenant_on_every_route() {
    for b in backends() {
        let s = start(&b);
        let (_, a) = cast(&s, "A診療所");
        let (_, bc) = cast(&s, "B診療所");
        let a_clerk = &a.tokens.iter().find(|(r, _)| *r == Role::Clerk).unwrap().1;
        let a_admin = &a.tokens.iter().find(|(r, _)| *r == Role::Administrator).unwrap().1;
        // A's data: a patient with an insurance and a visit, an API token, users.
        let r = s.call("POST", "/v1/patients", Some(a_clerk), Some(&patient("A-1", "越境太郎")));
        let pid = r.json()["id"].as_str().unwrap().to_string();
        let r = s.call("POST", &format!("/v1/patients/{pid}/insurances"), Some(a_clerk), Some(&json!({"kind": "insurance", "insurer_number": "06139999", "valid_from": "2024-04-01"})));
        assert_eq!(r.status, 201, "{}", r.text());
        let iid = r.json()["id"].as_str().unwrap().to_string();
        let r = s.call("POST", &format!("/v1/patients/{pid}/visits"), Some(a_clerk), Some(&json!({"month": "2024-06", "order": {"x": 1}})));
        assert_eq!(r.status, 201, "{}", r.text());
        let vid = r.json()["id"].as_str().unwrap().to_string();
        let r = s.call("POST", "/v1/api-tokens", Some(a_admin), Some(&json!({"name": "a-emr", "scopes": ["read-master"], "ttl_secs": 3600})));
        let atok_id = r.json()["id"].as_i64().unwrap().to_string();
        let a_tok = r.json()["token"].as_str().unwrap().to_string();
        s.state.security.create_user(None, &a.code, "a-only-user", &[Role::Clerk], "test").unwrap();
        for (method, path) in santei_server::api::routes().list {
            let Access::Tenant(_) = access_for(method, path) else { continue };
            let id = if path.contains("insurances") { iid.as_str() } else if path.contains("api-tokens") { atok_id.as_str() } else { vid.as_str() };
            let url = concrete(path, &[("{patient_id}", &pid), ("{id}", id), ("{code}", "111000110"), ("{month}", "2024-06"), ("{name}", "a-only-user")]);
            let body = match (method, path) {
                ("POST", "/v1/users/{name}/disable") => Some(json!({"disabled": true})),
                ("POST", p) if p.ends_with("/insurances") => Some(json!({"kind": "insurance", "insurer_number": "06130000", "valid_from": "2024-04-01"})),
                ("POST", p) if p.ends_with("/visits") => Some(json!({"month": "2024-07", "order": {"x": 1}})),
                ("PUT", p) if p.contains("visits") => Some(json!({"month": "2024-07", "order": {"x": 1}})),
                ("PUT", p) if p.contains("insurances") => Some(json!({"kind": "insurance", "insurer_number": "06130000", "valid_from": "2024-04-01"})),
                ("PUT", "/v1/patients/{patient_id}") => Some(patient("B-1", "上書き")),
                ("POST" | "PUT", _) => Some(json!({})),
                _ => None,
            };
            let has_a_ids = path.contains('{') && !path.contains("{code}") && !path.contains("{month}");
            for (role, tok) in &bc.tokens {
                let r = s.call(method, &url, Some(tok), body.as_ref());
                if has_a_ids {
                    assert!(r.status == 403 || r.status == 404, "{} {method} {url}: {} {}", role.as_str(), r.status, r.text());
                }
                // Whatever the route, nothing of A comes back.
                // (B's own audit log records B's attempts, which name the ids B itself sent.)
                let ids_ok = path == "/v1/audit";
                for leak in [pid.as_str(), "越境太郎", "06139999", a.code.as_str()].into_iter().filter(|l| !(ids_ok && *l == pid.as_str())) {
                    assert!(!r.text().contains(leak), "{} {method} {path} leaks A's data: {}", role.as_str(), r.text());
                }
            }
        }
        // A's data and credentials are intact.
        let r = s.call("GET", &format!("/v1/patients/{pid}/insurances/{iid}"), Some(a_clerk), None);
        assert_eq!((r.status, r.json()["insurer_number"].clone()), (200, json!("06139999")), "{}", r.text());
        assert_eq!(s.call("GET", &format!("/v1/patients/{pid}/visits/{vid}"), Some(a_clerk), None).json()["month"], "2024-06");
        assert_eq!(s.call("GET", "/v1/master/111000110", Some(&a_tok), None).status, 200);
        assert_eq!(s.call("GET", "/v1/patients", Some(a_clerk), None).status, 200);
    }
}

#[test]
fn audit_chain_of_a_session_verifies_and_detects_edits() {
    let s = start(&Backend::Sqlite);
    let (_, _, code) = s.tenant_with_code("監査診療所");
    let u = s.user_session(&code, "clerk1", &[Role::Clerk]);
    let t = Some(u.session.as_str());
    let r = s.call("POST", "/v1/patients", t, Some(&patient("AU-1", "監査花子")));
    let pid = r.json()["id"].as_str().unwrap().to_string();
    s.call("GET", &format!("/v1/patients/{pid}"), t, None);
    // Completed long ago, so the deletion below passes the retention check (療担規則 第9条).
    let mut done = patient("AU-1", "監査花子");
    done["completed_on"] = json!("2020-01-01");
    s.call("PUT", &format!("/v1/patients/{pid}"), t, Some(&done));
    s.call("POST", "/v1/calculate", t, Some(&json!({})));
    s.call("DELETE", &format!("/v1/patients/{pid}"), t, None);
    let sec = s.state.security.clone();
    let entries = sec.store().audit_entries(0, 10_000).unwrap();
    let mine: Vec<_> = entries.iter().filter(|e| e.resource_id == pid).map(|e| (e.action.as_str(), e.actor.as_str(), e.source.starts_with("127.0.0.1:"))).collect();
    let actor = entries.iter().find(|e| e.action == "patient.write").map(|e| e.actor.clone()).unwrap();
    assert_eq!(
        mine,
        vec![("patient.write", actor.as_str(), true), ("patient.read", actor.as_str(), true), ("patient.write", actor.as_str(), true), ("patient.delete", actor.as_str(), true)],
        "{entries:#?}"
    );
    assert!(entries.iter().any(|e| e.action == "calc.calculate"));
    assert!(entries.iter().any(|e| e.action == "auth.login"));
    // No patient name in the audit log either.
    assert!(!format!("{entries:?}").contains("監査花子"));
    let report = sec.verify_audit().expect("chain verifies");
    assert!(report.broken.is_none() && report.entries >= entries.len() as i64, "{report:?}");
    // Edit one row behind the service's back (an attacker drops the trigger first).
    let db = rusqlite::Connection::open(s.dir.path().join("santei.db")).unwrap();
    let triggers: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'security_audit'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        db.execute(&format!("DROP TRIGGER {t}"), []).unwrap();
    }
    let n = db.execute("UPDATE security_audit SET actor = 'user:999' WHERE action = 'patient.read'", []).unwrap();
    assert_eq!(n, 1);
    let read_seq = entries.iter().find(|e| e.action == "patient.read").unwrap().seq;
    let report = sec.verify_audit().expect("report");
    let broken = report.broken.expect("tampering detected");
    assert_eq!(broken.seq, read_seq, "{broken:?}");
}

#[test]
fn https_with_a_test_certificate() {
    use std::io::{Read, Write};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    // Test-only self-signed certificate, generated now.
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let acceptor = santei_server::tls::TlsFiles { cert: cert.clone(), key: key.clone(), ..Default::default() }.acceptor().unwrap();
    let bad = santei_server::tls::TlsFiles { cert: key.clone(), key: cert.clone(), ..Default::default() }.acceptor();
    assert!(bad.is_err());
    let s = start(&Backend::Sqlite);
    let listener = s.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    s.rt.spawn(santei_server::tls::serve_tls(listener, acceptor, s.state.clone(), std::future::pending()));
    // A blocking rustls client that trusts only the test certificate.
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cfg = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = tokio_rustls::rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = tokio_rustls::rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"ok\""), "{text}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

/// A blocking HTTPS GET (rustls client trusting `server_ca`, optionally presenting a client
/// certificate): the response text, or the I/O error of a refused handshake.
fn https_get(
    addr: std::net::SocketAddr,
    server_ca: &rustls_pki_types::CertificateDer<'static>,
    client: Option<(&rustls_pki_types::CertificateDer<'static>, &rcgen::KeyPair)>,
    path: &str,
    token: Option<&str>,
) -> std::io::Result<String> {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots);
    let cfg = match client {
        None => b.with_no_client_auth(),
        Some((cert, key)) => {
            let k = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
            b.with_client_auth_cert(vec![cert.clone()], k).unwrap()
        }
    };
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").as_bytes())?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A CA and a client certificate it signed (for machine clients under mutual TLS).
fn client_ca_and_cert(cn: &str) -> (rcgen::Certificate, rcgen::Certificate, rcgen::KeyPair) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, format!("{cn} CA"));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut c = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    c.distinguished_name.push(rcgen::DnType::CommonName, cn);
    c.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = c.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (ca_cert, cert, key)
}

#[test]
fn mutual_tls_binds_api_tokens_to_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let server = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key, ca_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"), dir.path().join("clients.pem"));
    std::fs::write(&cert, server.cert.pem()).unwrap();
    std::fs::write(&key, server.key_pair.serialize_pem()).unwrap();
    let (ca, client, client_key) = client_ca_and_cert("emr-1");
    let (_, stranger, stranger_key) = client_ca_and_cert("stranger");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let files = santei_server::tls::TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: Some(ca_file.clone()), require_client_cert: false };
    // --tls-require-client-cert without a CA is a configuration error.
    assert!(santei_server::tls::TlsFiles { client_ca: None, require_client_cert: true, ..files.clone() }.acceptor().is_err());
    let s = start(&Backend::Sqlite);
    let serve = |files: &santei_server::tls::TlsFiles| {
        let listener = s.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        s.rt.spawn(santei_server::tls::serve_tls(listener, files.acceptor().unwrap(), s.state.clone(), std::future::pending()));
        addr
    };
    let optional = serve(&files);
    // A token bound to the client certificate's SHA-256.
    let (_, _, code) = s.tenant_with_code("相互認証診療所");
    let admin = s.user_session(&code, "admin1", &[Role::Administrator]);
    let fp: String = santei_server::tls::cert_sha256(client.der()).iter().map(|b| format!("{b:02x}")).collect();
    let r = s.call("POST", "/v1/api-tokens", Some(&admin.session), Some(&json!({"name": "emr-1", "scopes": ["read-master"], "ttl_secs": 3600, "client_cert_sha256": fp})));
    assert_eq!((r.status, r.json()["client_cert_sha256"].clone()), (201, json!(fp)), "{}", r.text());
    let bound = r.json()["token"].as_str().unwrap().to_string();
    let bad = s.call("POST", "/v1/api-tokens", Some(&admin.session), Some(&json!({"name": "x", "scopes": ["read-master"], "ttl_secs": 3600, "client_cert_sha256": "abc"})));
    assert_eq!(bad.status, 422, "{}", bad.text());
    let path = "/v1/master/111000110?date=2024-06-01";
    let me = Some((client.der(), &client_key));
    // With its certificate: accepted (twice: the second time from the token cache).
    for _ in 0..2 {
        let t = https_get(optional, server.cert.der(), me, path, Some(&bound)).unwrap();
        assert!(t.starts_with("HTTP/1.1 200"), "{t}");
    }
    // Without a certificate (TLS or plain HTTP): the uniform 401.
    let t = https_get(optional, server.cert.der(), None, path, Some(&bound)).unwrap();
    assert!(t.starts_with("HTTP/1.1 401"), "{t}");
    assert_eq!(s.call("GET", path, Some(&bound), None).status, 401);
    // Humans and unbound tokens still connect without a certificate.
    let t = https_get(optional, server.cert.der(), None, "/v1/tenant", Some(&admin.session)).unwrap();
    assert!(t.starts_with("HTTP/1.1 200"), "{t}");
    // A certificate from another CA does not even complete the handshake.
    let t = https_get(optional, server.cert.der(), Some((stranger.der(), &stranger_key)), path, Some(&bound));
    assert!(t.as_ref().map_or(true, |t| !t.contains("200 OK")), "{t:?}");
    // --tls-require-client-cert: no certificate, no connection; with one, served.
    let required = serve(&santei_server::tls::TlsFiles { require_client_cert: true, ..files.clone() });
    let t = https_get(required, server.cert.der(), None, "/healthz", None);
    assert!(t.as_ref().map_or(true, |t| !t.contains("200 OK")), "{t:?}");
    let t = https_get(required, server.cert.der(), me, "/healthz", None).unwrap();
    assert!(t.starts_with("HTTP/1.1 200"), "{t}");
}

#[test]
fn https_shutdown_waits_for_connections_but_closes_idle_ones() {
    use std::io::Write;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let acceptor = santei_server::tls::TlsFiles { cert, key, ..Default::default() }.acceptor().unwrap();
    let s = start(&Backend::Sqlite);
    let listener = s.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = s.rt.spawn(santei_server::tls::serve_tls(listener, acceptor, s.state.clone(), async {
        let _ = stopped.await;
    }));
    // A keep-alive client that answered one request and now sits idle on its connection.
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cfg = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots).with_no_client_auth();
    let conn = tokio_rustls::rustls::ClientConnection::new(Arc::new(cfg), rustls_pki_types::ServerName::try_from("localhost").unwrap()).unwrap();
    let mut tls = tokio_rustls::rustls::StreamOwned::new(conn, std::net::TcpStream::connect(addr).unwrap());
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut buf = [0u8; 512];
    let n = std::io::Read::read(&mut tls, &mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Stop: the idle connection is closed gracefully and serve_tls returns (not after DRAIN).
    let t0 = std::time::Instant::now();
    stop.send(()).unwrap();
    s.rt.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), server).await }).expect("returned").expect("task").expect("ok");
    assert!(t0.elapsed() < std::time::Duration::from_secs(10));
}

/// 療担規則 第9条 (issue 7 item 10): a record still in its retention period cannot be deleted;
/// the refusal is audited, and the record stays.
#[test]
fn deletion_within_retention_is_refused_and_audited() {
    for b in common::backends() {
        let s = common::start(&b);
        let (_, _, code) = s.tenant_with_code("保存期間");
        let u = s.user_session(&code, "clerk1", &[Role::Clerk]);
        let t = Some(u.session.as_str());
        let pid = s.call("POST", "/v1/patients", t, Some(&patient("RT-1", "保存太郎"))).json()["id"].as_str().unwrap().to_string();
        let r = s.call("DELETE", &format!("/v1/patients/{pid}"), t, None);
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["error"]["details"]["security_code"], "S501", "not completed");
        let mut recent = patient("RT-1", "保存太郎");
        recent["completed_on"] = json!("2024-06-30");
        s.call("PUT", &format!("/v1/patients/{pid}"), t, Some(&recent));
        let r = s.call("DELETE", &format!("/v1/patients/{pid}"), t, None);
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["error"]["details"]["security_code"], "S502", "within 5 years");
        assert_eq!(s.call("GET", &format!("/v1/patients/{pid}"), t, None).status, 200, "the record stays");
        let entries = s.state.security.store().audit_entries(0, 10_000).unwrap();
        let refused = entries.iter().filter(|e| e.resource_id == pid && e.action.contains("retention")).count();
        assert_eq!(refused, 2, "{entries:#?}");
    }
}
