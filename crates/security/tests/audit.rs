//! Hash-chained audit log: verify passes, then fails after raw-SQL edits, deletions and
//! reorderings, and after truncation of the tail when an anchor is kept.

mod common;
use common::*;
use santei_security::audit::{verify_chain, Anchor, BreakReason};
use santei_security::*;
use std::sync::Arc;

fn filled(dir: &std::path::Path) -> (Security, Arc<SqliteStore>) {
    let store = Arc::new(SqliteStore::open_data_dir(dir).unwrap());
    let mut c = cfg();
    c.anchor_file = Some(dir.join(audit::ANCHOR_FILE));
    let sec = Security::new(store.clone(), Arc::new(TestClock::new(T0)), c);
    for i in 0..10 {
        sec.audit(
            AuditEvent::new(
                "T",
                "user:1",
                audit::actions::PATIENT_READ,
                Outcome::Success,
            )
            .source("192.0.2.1")
            .resource("patient", &format!("p{i}")),
        )
        .unwrap();
    }
    (sec, store)
}

fn raw(store: &SqliteStore, sql: &str) {
    store.with_connection(|c| c.execute_batch(sql)).unwrap();
}

const UNLOCK: &str =
    "DROP TRIGGER security_audit_no_update; DROP TRIGGER security_audit_no_delete;";

#[test]
fn intact_chain_verifies() {
    let d = tempfile::tempdir().unwrap();
    let (sec, _) = filled(d.path());
    let r = sec.verify_audit().unwrap();
    assert_eq!((r.entries, r.head_seq, r.broken), (10, 10, None));
}

#[test]
fn application_cannot_update_or_delete() {
    let d = tempfile::tempdir().unwrap();
    let (_, store) = filled(d.path());
    assert!(store
        .with_connection(|c| c.execute(
            "UPDATE security_audit SET outcome = 'failure' WHERE seq = 3",
            []
        ))
        .is_err());
    assert!(store
        .with_connection(|c| c.execute("DELETE FROM security_audit WHERE seq = 3", []))
        .is_err());
}

#[test]
fn edited_row_detected() {
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    raw(
        &store,
        "UPDATE security_audit SET resource_id = 'p99' WHERE seq = 4",
    );
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!((b.seq, b.reason.clone()), (4, BreakReason::Edited));
    assert!(b.to_error().message_en.contains("seq 4"));
}

#[test]
fn edited_row_with_recomputed_hash_detected_by_the_link() {
    // A forger who recomputes the edited entry's own hash still breaks the next link.
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    let mut e = store.audit_entries(4, 1).unwrap().remove(0);
    e.outcome = "failure".into();
    let h = audit::entry_hash(&e);
    store
        .with_connection(|c| {
            c.execute(
                "UPDATE security_audit SET outcome = 'failure', hash = ?1 WHERE seq = 5",
                [h.to_vec()],
            )
        })
        .unwrap();
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!((b.seq, b.reason), (6, BreakReason::BrokenLink));
}

#[test]
fn deleted_row_detected() {
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    raw(&store, "DELETE FROM security_audit WHERE seq = 6");
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!(
        (b.seq, b.reason),
        (7, BreakReason::Missing { expected_seq: 6 })
    );
}

#[test]
fn deleted_and_renumbered_rows_detected() {
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    raw(&store, "DELETE FROM security_audit WHERE seq = 6; UPDATE security_audit SET seq = seq - 1 WHERE seq > 6;");
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!((b.seq, b.reason), (6, BreakReason::BrokenLink));
}

#[test]
fn reordered_rows_detected() {
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    raw(&store, "UPDATE security_audit SET seq = 100 WHERE seq = 3; UPDATE security_audit SET seq = 3 WHERE seq = 4; UPDATE security_audit SET seq = 4 WHERE seq = 100;");
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!(b.seq, 3);
    assert!(matches!(
        b.reason,
        BreakReason::BrokenLink | BreakReason::Edited
    ));
}

#[test]
fn truncated_tail_detected_by_anchor() {
    let d = tempfile::tempdir().unwrap();
    let (sec, store) = filled(d.path());
    raw(&store, UNLOCK);
    raw(&store, "DELETE FROM security_audit WHERE seq >= 9");
    // Without the anchor the shorter chain is internally consistent …
    assert!(verify_chain(store.as_ref(), None).unwrap().broken.is_none());
    // … with it, the truncation is found.
    let anchor = Anchor::read(&d.path().join(audit::ANCHOR_FILE))
        .unwrap()
        .unwrap();
    assert_eq!(anchor.seq, 10);
    let b = sec.verify_audit().unwrap().broken.unwrap();
    assert_eq!(b.reason, BreakReason::AnchorMismatch { anchor_seq: 10 });
}

#[test]
fn memory_store_chain_too() {
    let store = Arc::new(MemoryStore::new());
    let sec = Security::new(store.clone(), Arc::new(TestClock::new(T0)), cfg());
    for _ in 0..5 {
        sec.audit(AuditEvent::new(
            "T",
            "user:1",
            audit::actions::CALCULATE,
            Outcome::Success,
        ))
        .unwrap();
    }
    assert!(sec.verify_audit().unwrap().broken.is_none());
    store.with_audit_mut(|v| v.swap(1, 2));
    assert_eq!(sec.verify_audit().unwrap().broken.unwrap().seq, 3);
}

#[test]
fn every_login_event_is_audited() {
    let (sec, clock) = sqlite();
    let e = enrol(&sec, &clock, "T", "admin", &[Role::Administrator], None);
    let _ = sec.login_password(
        "T",
        "admin",
        &Secret::from("wrong wrong wrong"),
        "198.51.100.7",
    );
    login(&sec, &clock, "T", "admin", &e.key).unwrap();
    let acts: Vec<String> = sec
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .map(|a| format!("{}:{}", a.action, a.outcome))
        .collect();
    for want in [
        "admin.init:success",
        "auth.password:success",
        "auth.password_change:success",
        "auth.totp_enrol:success",
        "auth.login:success",
        "auth.password:failure",
    ] {
        assert!(acts.iter().any(|a| a == want), "{want} missing in {acts:?}");
    }
    let failed = sec
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .find(|a| a.outcome == "failure")
        .unwrap();
    assert_eq!(failed.source, "198.51.100.7");
    assert!(sec.verify_audit().unwrap().broken.is_none());
}

#[test]
fn concurrent_appends_keep_one_chain_and_a_current_anchor() {
    let d = tempfile::tempdir().unwrap();
    let (sec, _) = filled(d.path());
    let sec = Arc::new(sec);
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let sec = sec.clone();
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
                    .unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let r = sec.verify_audit().unwrap();
    assert_eq!((r.entries, r.broken), (110, None));
    assert_eq!(
        Anchor::read(&d.path().join(audit::ANCHOR_FILE))
            .unwrap()
            .unwrap()
            .seq,
        110
    );
}
