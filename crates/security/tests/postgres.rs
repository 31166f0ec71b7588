//! PostgreSQL store specifics (feature `postgres`, `SANTEI_TEST_POSTGRES_URL`; the shared login,
//! lockout, TOTP, recovery-code and token tests of `auth.rs` run against it through
//! `common::both()`): several store instances — standing in for several `santei serve` nodes —
//! on one database keep one audit chain, count failures and consume TOTP steps exactly once;
//! concurrent starts migrate once; the audit table refuses edits and the chain detects them when
//! the triggers are dropped.
#![cfg(feature = "postgres")]

mod common;
use common::*;
use santei_security::audit::{verify_chain, BreakReason};
use santei_security::model::NewUser;
use santei_security::*;
use std::sync::Arc;

/// A second "node": another store instance (its own connection) on the same schema.
fn node(url: &str, schema: &str) -> Arc<PostgresStore> {
    Arc::new(PostgresStore::open_in_schema(url, Some(schema)).expect("second node"))
}

fn sec_on(store: Arc<PostgresStore>) -> Security {
    Security::new(store, Arc::new(TestClock::new(T0)), cfg())
}

fn new_user(store: &PostgresStore, name: &str) -> i64 {
    store
        .create_user(&NewUser {
            tenant: "T".into(),
            name: name.into(),
            roles: vec![Role::Clerk],
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
            password_policy: 1,
            must_change_password: false,
            created_at: T0,
        })
        .expect("create user")
}

#[test]
fn concurrent_appends_from_two_nodes_make_one_valid_chain() {
    let Some((a, url, schema)) = postgres_store() else {
        return;
    };
    let b = node(&url, &schema);
    let nodes = [Arc::new(sec_on(a.clone())), Arc::new(sec_on(b))];
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let sec = nodes[t % 2].clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    sec.audit(
                        AuditEvent::new(
                            "T",
                            &format!("user:{t}"),
                            audit::actions::CALCULATE,
                            Outcome::Success,
                        )
                        .resource("visit", &i.to_string()),
                    )
                    .expect("append");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("thread");
    }
    let r = verify_chain(a.as_ref(), None).expect("verify");
    assert_eq!((r.entries, r.broken), (100, None));
    let all = a.audit_entries(0, 1000).expect("entries");
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    // Every entry chains onto its predecessor's hash: no fork.
    for w in all.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
    }
}

#[test]
fn failures_and_totp_steps_are_atomic_across_nodes() {
    let Some((a, url, schema)) = postgres_store() else {
        return;
    };
    let b = node(&url, &schema);
    let id = new_user(&a, "hanako");
    let stores: [Arc<dyn SecurityStore>; 2] = [a.clone(), b];
    let hs: Vec<_> = (0..6)
        .map(|t| {
            let s = stores[t % 2].clone();
            std::thread::spawn(move || {
                let mut locked = 0;
                let mut fresh = 0;
                for _ in 0..10 {
                    if s.record_failure("T", id, T0, 1000, 600)
                        .expect("failure")
                        .locked_now
                        .is_some()
                    {
                        locked += 1;
                    }
                }
                // Everyone tries the same TOTP step: exactly one may use it.
                if s.totp_use_step("T", id, 42).expect("step") {
                    fresh += 1;
                }
                (locked, fresh)
            })
        })
        .collect();
    let (mut locked, mut fresh) = (0, 0);
    for h in hs {
        let (l, f) = h.join().expect("thread");
        locked += l;
        fresh += f;
    }
    let u = a.user_by_id("T", id).expect("read").expect("user");
    assert_eq!(u.failures, 60);
    assert_eq!((locked, fresh), (0, 1));
    assert_eq!(u.totp_last_step, Some(42));
    // The threshold locks exactly once even when reached concurrently.
    a.reset_failures("T", id).expect("reset");
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let s = stores[t % 2].clone();
            std::thread::spawn(move || {
                (0..5)
                    .filter(|_| {
                        s.record_failure("T", id, T0, 5, 600)
                            .expect("failure")
                            .locked_now
                            .is_some()
                    })
                    .count()
            })
        })
        .collect();
    let locks: usize = hs.into_iter().map(|h| h.join().expect("thread")).sum();
    assert_eq!(locks, 1);
    let u = stores[1].user_by_id("T", id).expect("read").expect("user");
    assert_eq!(u.locked_until, Some(T0 + 600));
}

#[test]
fn recovery_code_used_once_across_nodes() {
    let Some((a, url, schema)) = postgres_store() else {
        return;
    };
    let b = node(&url, &schema);
    let id = new_user(&a, "taro");
    a.replace_recovery_codes("T", id, &[[7u8; 32], [8u8; 32]])
        .expect("codes");
    let stores: [Arc<dyn SecurityStore>; 2] = [a.clone(), b];
    let hs: Vec<_> = (0..6)
        .map(|t| {
            let s = stores[t % 2].clone();
            std::thread::spawn(move || {
                s.consume_recovery_code("T", id, &[7u8; 32], T0)
                    .expect("consume")
            })
        })
        .collect();
    let used = hs
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|&x| x)
        .count();
    assert_eq!(used, 1);
    assert_eq!(a.unused_recovery_codes("T", id).expect("count"), 1);
}

#[test]
fn concurrent_starts_migrate_once_and_sessions_are_shared() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (u, s) = (url.clone(), schema.clone());
            std::thread::spawn(move || PostgresStore::open_in_schema(&u, Some(&s)).map(Arc::new))
        })
        .collect();
    let stores: Vec<Arc<PostgresStore>> = hs
        .into_iter()
        .map(|h| h.join().expect("thread").expect("open"))
        .collect();
    // Exactly one row per migration: a second application would have failed on CREATE TABLE.
    stores[0]
        .batch_execute(
            "DO $$ BEGIN IF (SELECT COUNT(*) FROM security_migrations) <> (SELECT MAX(version) FROM security_migrations) THEN RAISE EXCEPTION 'migrated twice'; END IF; END $$",
        )
        .expect("one migration row");
    // A session created on one node authenticates on another.
    let (sec_a, sec_b) = (sec_on(stores[0].clone()), sec_on(stores[3].clone()));
    let clock = TestClock::new(T0);
    let en = enrol(&sec_a, &clock, "T", "admin", &[Role::Administrator], None);
    let p = sec_b
        .authenticate_bearer(en.session.expose())
        .expect("session on node b");
    assert_eq!(p.tenant, "T");
    // Logout on b ends it on a.
    sec_b.logout(&en.session, "127.0.0.1").expect("logout");
    assert!(sec_a.authenticate_bearer(en.session.expose()).is_err());
}

#[test]
fn audit_table_refuses_edits_and_the_chain_detects_them_without_triggers() {
    let Some((store, _, _)) = postgres_store() else {
        return;
    };
    let sec = sec_on(store.clone());
    for i in 0..5 {
        sec.audit(
            AuditEvent::new(
                "T",
                "user:1",
                audit::actions::PATIENT_READ,
                Outcome::Success,
            )
            .resource("patient", &format!("p{i}")),
        )
        .expect("append");
    }
    for sql in [
        "UPDATE security_audit SET actor = 'x' WHERE seq = 2",
        "DELETE FROM security_audit WHERE seq = 5",
        "TRUNCATE security_audit",
    ] {
        let e = store.batch_execute(sql).expect_err(sql);
        assert!(e.message_en.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(
        verify_chain(store.as_ref(), None).expect("verify").entries,
        5
    );
    // Someone with owner rights drops the triggers and edits a row: the chain breaks there.
    store
        .batch_execute(
            "DROP TRIGGER security_audit_no_update_delete ON security_audit;
             UPDATE security_audit SET resource_id = 'p9' WHERE seq = 3",
        )
        .expect("raw edit");
    let r = verify_chain(store.as_ref(), None).expect("verify");
    let b = r.broken.expect("break detected");
    assert_eq!(b.seq, 3);
    assert!(matches!(b.reason, BreakReason::Edited), "{:?}", b.reason);
}

#[test]
fn a_broken_connection_is_reopened_on_the_next_call() {
    let Some((store, url, schema)) = postgres_store() else {
        return;
    };
    let id = new_user(&store, "jiro");
    // Kill the store's connection (its application name carries the schema).
    let mut admin = raw_client(&url);
    let n = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("santei-security:{schema}")],
        )
        .expect("terminate");
    assert_eq!(n, 1);
    // The first call may fail (it finds the connection dead); a later one succeeds.
    let mut ok = false;
    for _ in 0..3 {
        if let Ok(Some(u)) = store.user_by_id("T", id) {
            assert_eq!(u.name, "jiro");
            ok = true;
            break;
        }
    }
    assert!(ok, "store did not reconnect");
}

#[test]
fn bad_urls_and_schema_names_are_refused_bilingually() {
    let e = PostgresStore::open("not a url").expect_err("bad url");
    assert_eq!(e.code, "S910");
    assert!(!e.message_ja.is_empty() && !e.message_en.is_empty());
    let e = PostgresStore::open_in_schema("postgres://u:p@127.0.0.1:1/db", Some("x; DROP"))
        .expect_err("schema");
    assert_eq!(e.code, "S911");
    // A connection failure names neither the password nor the URL.
    let e = PostgresStore::open("postgres://u:sekrit-pw@127.0.0.1:1/db").expect_err("no server");
    assert!(!e.to_string().contains("sekrit-pw"), "{e}");
}

/// A plain driver connection to the test server, with TLS when the URL asks for it.
fn raw_client(url: &str) -> postgres::Client {
    let t = santei_security::store::pgtls::target(url).expect("url");
    match t.tls {
        Some(tls) => postgres::Client::connect(&t.url, tls),
        None => postgres::Client::connect(&t.url, postgres::NoTls),
    }
    .expect("connection")
}

/// TLS to PostgreSQL (`sslrootcert` in the URL): the connection is encrypted and the server
/// verified; a server the CA did not sign is refused; without `sslrootcert` it is plain TCP.
/// CI's PostgreSQL (.ci/postgres.sh) offers TLS and its URL names the CA.
#[test]
fn connections_use_verified_tls_when_the_url_names_a_ca() {
    let Some(url) = postgres_url() else { return };
    if !url.contains("sslrootcert=") {
        assert!(std::env::var("CI").map_or(true, |c| c != "true"), "CI=true: the test PostgreSQL must offer TLS (.ci/postgres.sh)");
        eprintln!("note: SANTEI_TEST_POSTGRES_URL has no sslrootcert; TLS test not run");
        return;
    }
    let ssl = |url: &str| -> bool {
        raw_client(url).query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).expect("pg_stat_ssl").get(0)
    };
    assert!(ssl(&url), "encrypted");
    // The store itself connects the same way.
    let store = PostgresStore::open_in_schema(&url, Some(&fresh_schema())).expect("store over TLS");
    store
        .batch_execute("DO $$ BEGIN IF NOT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) THEN RAISE EXCEPTION 'not tls'; END IF; END $$")
        .expect("the store's connection is TLS");
    // Without sslrootcert: plain TCP (a private network), still working.
    let (base, query) = url.split_once('?').unwrap();
    let rest: Vec<&str> = query.split('&').filter(|kv| !kv.starts_with("sslrootcert=")).collect();
    let plain = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    assert!(!ssl(&plain), "plain");
    // A CA that did not sign the server's certificate: refused, with the reason.
    let d = tempfile::tempdir().unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let ca = d.path().join("other-ca.pem");
    std::fs::write(&ca, other.cert.pem()).unwrap();
    let wrong = format!("{plain}{}sslrootcert={}", if plain.contains('?') { '&' } else { '?' }, ca.display());
    let e = PostgresStore::open_in_schema(&wrong, Some(&fresh_schema())).expect_err("unknown CA refused");
    assert!(e.message_en.contains("cannot connect") && e.message_en.to_lowercase().contains("certificate"), "{e:?}");
}
