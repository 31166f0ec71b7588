//! The writer of the per-request audit entries: one thread, group commit (issue 7, performance).
//!
//! Every calculation, claim and read or change of patient data gets an audit entry (SECURITY.md
//! Appending one entry is one SQLite/PostgreSQL transaction plus the anchor write; done per
//! request on the request's own path it cost more than the calculation itself (3.9k req/s vs
//! 12.6k at -c4, BENCHMARKS.md). Here the handlers queue their entry and one thread appends
//! everything queued with [`Security::audit_batch`]: one transaction and one anchor write per
//! batch. Two kinds of entry:
//!
//! * [`Durability::Commit`] — the request waits until its entry is committed; if it cannot be
//!   written the answer is 503 (fail closed). Used for everything that reads or changes stored
//!   patient data, claims, master reloads.
//! * [`Durability::Buffered`] — the entry is queued before the response is sent and committed
//!   within [`LINGER`] (with whatever else arrived meanwhile). Used for `POST /v1/calculate` and
//!   `POST /v1/uke/check`: computations on data the caller sends, which neither read nor change
//!   stored records. The cost: a crash of the process (kill -9, power loss) loses the entries of
//!   at most the last [`LINGER`] of such requests. `santei serve --audit-commit-all` makes them
//!   Commit too.
//!
//! Failure is fail-closed for both: once a commit fails, every audited request answers 503 until
//! a retry succeeds; queued entries are kept and retried (none is dropped while the process
//! lives); the queue is bounded ([`QUEUE_MAX`]). Graceful shutdown and `GET /v1/audit` flush the
//! queue first ([`AuditWriter::flush`]), so a reader never misses an answered request's entry.

use crate::error::ApiError;
use santei_security::{AuditEntry, AuditEvent, SecError, Security};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the writer collects buffered entries before committing them.
pub const LINGER: Duration = Duration::from_millis(1);
/// Entries queued at most (a writer that cannot commit stops the audited routes before this).
pub const QUEUE_MAX: usize = 100_000;
/// Pause between attempts while the audit store is failing.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// A commit still running after this long counts as a failure for new requests (a stalled disk,
/// a lock held elsewhere): audited routes answer 503 rather than pile up unwritten entries.
pub const STALL: Duration = Duration::from_secs(2);
/// Longest a request waits for its entry's commit before answering 503.
pub const COMMIT_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether the request waits for its entry to be committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Commit,
    Buffered,
}

type Reply = oneshot::Sender<Result<(), SecError>>;

#[derive(Default)]
struct Queue {
    events: Vec<AuditEvent>,
    /// Waiters for a commit: (number of events queued when they asked, reply). Commit entries
    /// and flushes are the same thing: "answer me once everything up to here is committed".
    waiters: Vec<Reply>,
    /// The writer is waiting for work (a buffered entry must wake it).
    idle: bool,
    /// Someone waits: commit without lingering.
    urgent: bool,
    /// Every handle is gone: commit what is left and stop.
    closed: bool,
    /// The writer thread ended abnormally (panic): nothing will be committed any more.
    dead: bool,
}

struct Shared {
    q: Mutex<Queue>,
    cv: Condvar,
    /// The last commit failed: audited requests answer 503 until one succeeds.
    failed: AtomicBool,
    /// When the commit in progress started (ms since `epoch`), 0 when none is running.
    busy_since_ms: AtomicU64,
    epoch: std::time::Instant,
    /// Entries committed, group commits, failed attempts (for /metrics).
    entries: AtomicU64,
    commits: AtomicU64,
    failures: AtomicU64,
}

/// What the writer has done, for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    pub entries: u64,
    pub commits: u64,
    pub failures: u64,
    pub queued: u64,
    /// The last attempt failed: audited routes answer 503.
    pub failing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.q.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn now_ms(&self) -> u64 {
        // +1: 0 means "no commit running".
        self.epoch.elapsed().as_millis() as u64 + 1
    }
    /// The last commit failed, or the one running has taken longer than [`STALL`].
    fn failing(&self) -> bool {
        if self.failed.load(Ordering::Acquire) {
            return true;
        }
        let since = self.busy_since_ms.load(Ordering::Acquire);
        since != 0 && self.now_ms().saturating_sub(since) > STALL.as_millis() as u64
    }
}

/// Handle to the writer thread (dropping the last one commits what is queued and ends it).
pub struct AuditWriter {
    security: Arc<Security>,
    /// None if the thread could not be started: then each entry is appended on the blocking pool.
    shared: Option<Arc<Shared>>,
    /// `--audit-commit-all`: treat buffered entries as Commit.
    commit_all: bool,
}

fn unavailable() -> ApiError {
    ApiError::unavailable("audit_unavailable", "監査ログに記録できないため処理を完了できません", "cannot write the audit log")
}

impl AuditWriter {
    /// Start the writer thread for `security`. `commit_all`: every entry is committed before
    /// its request is answered (no buffered entries).
    pub fn start(security: Arc<Security>, commit_all: bool) -> AuditWriter {
        let shared = Arc::new(Shared {
            q: Mutex::new(Queue::default()),
            cv: Condvar::new(),
            failed: AtomicBool::new(false),
            busy_since_ms: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            entries: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        });
        let (sec, sh) = (security.clone(), shared.clone());
        let shared = match std::thread::Builder::new().name("santei-audit".into()).spawn(move || run(&sec, &sh)) {
            Ok(_) => Some(shared),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the audit writer thread; appending entries one by one");
                None
            }
        };
        AuditWriter { security, shared, commit_all }
    }

    /// Append `ev`. `Commit`: return once it is committed. `Buffered`: return once it is queued.
    /// An entry that cannot be written (or a log that is failing) is an error: the caller fails
    /// the request.
    pub async fn append(&self, ev: AuditEvent, durability: Durability) -> Result<(), ApiError> {
        let Some(sh) = &self.shared else {
            return crate::security::blocking(&self.security, move |s| s.audit(ev).map(|_| ())).await;
        };
        if sh.failing() {
            return Err(unavailable());
        }
        let durability = if self.commit_all { Durability::Commit } else { durability };
        let done = {
            let mut q = sh.lock();
            if q.dead || q.events.len() >= QUEUE_MAX {
                return Err(unavailable());
            }
            q.events.push(ev);
            match durability {
                Durability::Buffered => {
                    if q.idle {
                        sh.cv.notify_one();
                    }
                    return Ok(());
                }
                Durability::Commit => request_commit(sh, &mut q),
            }
        };
        committed(done).await
    }

    /// Counters and state (all zero if entries are appended one by one without the thread).
    pub fn stats(&self) -> AuditStats {
        let Some(sh) = &self.shared else { return AuditStats::default() };
        let (queued, dead) = {
            let q = sh.lock();
            (q.events.len() as u64, q.dead)
        };
        AuditStats {
            entries: sh.entries.load(Ordering::Relaxed),
            commits: sh.commits.load(Ordering::Relaxed),
            failures: sh.failures.load(Ordering::Relaxed),
            queued,
            failing: dead || sh.failing(),
        }
    }

    /// Wait until every entry queued so far is committed.
    pub async fn flush(&self) -> Result<(), ApiError> {
        let Some(sh) = &self.shared else { return Ok(()) };
        let done = {
            let mut q = sh.lock();
            if q.dead {
                return Err(unavailable());
            }
            request_commit(sh, &mut q)
        };
        committed(done).await
    }
}

/// Ask the writer to commit everything queued so far, now (no lingering); the receiver answers
/// once it is done.
fn request_commit(sh: &Shared, q: &mut Queue) -> oneshot::Receiver<Result<(), SecError>> {
    let (reply, done) = oneshot::channel();
    q.waiters.push(reply);
    q.urgent = true;
    sh.cv.notify_one();
    done
}

async fn committed(done: oneshot::Receiver<Result<(), SecError>>) -> Result<(), ApiError> {
    match tokio::time::timeout(COMMIT_TIMEOUT, done).await {
        Ok(Ok(r)) => r.map_err(|e| {
            tracing::error!(code = e.code, "audit write failed");
            unavailable()
        }),
        // The writer is gone (it would have answered) or too slow: fail closed.
        Ok(Err(_)) | Err(_) => {
            tracing::error!("audit commit did not complete; answering 503");
            Err(unavailable())
        }
    }
}

/// Marks the writer dead if its thread unwinds: waiters are answered, new entries refused.
struct DeathWatch<'a>(&'a Shared);

impl Drop for DeathWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let sh = self.0;
            sh.failed.store(true, Ordering::Release);
            let waiters = {
                let mut q = sh.lock();
                q.dead = true;
                std::mem::take(&mut q.waiters)
            };
            drop(waiters); // closed channels: their requests answer 503
            tracing::error!("audit writer thread ended abnormally; audited routes answer 503");
        }
    }
}

impl Drop for AuditWriter {
    fn drop(&mut self) {
        if let Some(sh) = &self.shared {
            sh.lock().closed = true;
            sh.cv.notify_one();
        }
    }
}

fn run(security: &Security, sh: &Shared) {
    let _watch = DeathWatch(sh);
    // The newest committed entry whose anchor write failed (retried before anything else).
    let mut anchor_due: Option<AuditEntry> = None;
    loop {
        let (events, waiters, closed) = {
            let mut q = sh.lock();
            while q.events.is_empty() && q.waiters.is_empty() && !q.closed && anchor_due.is_none() {
                q.idle = true;
                q = sh.cv.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            q.idle = false;
            if !q.urgent && !q.closed && anchor_due.is_none() {
                // Collect the entries of the requests running now into the same commit.
                q = sh
                    .cv
                    .wait_timeout_while(q, LINGER, |q| !q.urgent && !q.closed && q.events.len() < 4096)
                    .map(|(q, _)| q)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            q.urgent = false;
            (std::mem::take(&mut q.events), std::mem::take(&mut q.waiters), q.closed)
        };
        sh.busy_since_ms.store(sh.now_ms(), Ordering::Release);
        let appended = security.append_audit_entries(&events);
        sh.busy_since_ms.store(0, Ordering::Release);
        let mut r = match appended {
            Ok(entries) => {
                if let Some(last) = entries.last() {
                    anchor_due = Some(last.clone());
                    sh.entries.fetch_add(entries.len() as u64, Ordering::Relaxed);
                    sh.commits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(code = e.code, entries = events.len(), "audit commit failed; audited requests answer 503 until it succeeds");
                // Keep the entries (first, in their order) for the next attempt.
                let mut q = sh.lock();
                let later = std::mem::replace(&mut q.events, events);
                q.events.extend(later);
                Err(e)
            }
        };
        if let Some(head) = &anchor_due {
            // Committed entries are not appended again: only the anchor write is retried.
            match security.refresh_anchor(head) {
                Ok(()) => anchor_due = None,
                Err(e) => {
                    tracing::error!(code = e.code, "audit anchor write failed; audited requests answer 503 until it succeeds");
                    if r.is_ok() {
                        r = Err(e);
                    }
                }
            }
        }
        if r.is_err() {
            sh.failures.fetch_add(1, Ordering::Relaxed);
        }
        sh.failed.store(r.is_err(), Ordering::Release);
        for w in waiters {
            // A waiter that went away (client disconnected) needs no answer.
            let _ = w.send(r.clone());
        }
        if r.is_err() {
            if closed {
                return;
            }
            std::thread::sleep(RETRY_PAUSE);
        } else if closed && sh.lock().events.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use santei_security::{audit, Config, Outcome, SqliteStore, TestClock};
    use std::path::Path;

    fn security(dir: &Path, anchor: &Path) -> Arc<Security> {
        let store = Arc::new(SqliteStore::open_data_dir(dir).expect("store"));
        let cfg = Config { anchor_file: Some(anchor.to_path_buf()), ..Config::default() };
        Arc::new(Security::new(store, Arc::new(TestClock::new(1_780_000_000)), cfg))
    }

    /// A data directory, its security layer (SQLite, anchor beside it) and a writer.
    fn setup() -> (tempfile::TempDir, Arc<Security>, AuditWriter) {
        let d = tempfile::tempdir().unwrap();
        let sec = security(d.path(), &d.path().join(audit::ANCHOR_FILE));
        let w = AuditWriter::start(sec.clone(), false);
        (d, sec, w)
    }

    fn ev(i: usize) -> AuditEvent {
        AuditEvent::new("1311234567", "api:1", "calc.calculate", Outcome::Success).resource("calculation", &i.to_string())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    fn ids(sec: &Security) -> Vec<String> {
        sec.store().audit_entries(0, 100_000).expect("read").into_iter().map(|e| e.resource_id).collect()
    }

    #[test]
    fn buffered_entries_are_committed_in_order_by_flush_and_chain_verifies() {
        let (_d, sec, w) = setup();
        rt().block_on(async {
            for i in 0..500 {
                w.append(ev(i), Durability::Buffered).await.expect("queued");
            }
            w.flush().await.expect("flush");
        });
        let want: Vec<String> = (0..500).map(|i| i.to_string()).collect();
        assert_eq!(ids(&sec), want);
        let rep = sec.verify_audit().expect("verify");
        assert_eq!((rep.entries, rep.head_seq, rep.broken), (500, 500, None));
    }

    #[test]
    fn commit_entries_are_in_the_store_when_append_returns() {
        let (_d, sec, w) = setup();
        let r = rt();
        for i in 0..5 {
            r.block_on(w.append(ev(i), Durability::Commit)).expect("committed");
            assert_eq!(ids(&sec).len(), i + 1);
        }
        // --audit-commit-all: a buffered entry is committed before append returns too.
        let w = AuditWriter::start(sec.clone(), true);
        r.block_on(w.append(ev(5), Durability::Buffered)).expect("committed");
        assert_eq!(ids(&sec).len(), 6);
    }

    #[test]
    fn dropping_the_writer_commits_what_is_queued() {
        let (_d, sec, w) = setup();
        rt().block_on(async {
            for i in 0..50 {
                w.append(ev(i), Durability::Buffered).await.expect("queued");
            }
        });
        drop(w);
        for _ in 0..200 {
            if ids(&sec).len() == 50 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(ids(&sec).len(), 50);
    }

    #[test]
    fn a_failing_store_fails_closed_keeps_entries_and_recovers_without_duplicates() {
        let (d, sec, w) = setup();
        let r = rt();
        r.block_on(w.append(ev(0), Durability::Commit)).expect("ok");
        // Another connection makes every insert fail (as a full disk or a lock would).
        let db = rusqlite::Connection::open(d.path().join("santei.db")).unwrap();
        db.execute_batch("CREATE TRIGGER fail_audit BEFORE INSERT ON security_audit BEGIN SELECT RAISE(ABORT, 'injected'); END;").unwrap();
        let e = r.block_on(w.append(ev(1), Durability::Commit)).expect_err("must fail");
        assert_eq!(e.status.as_u16(), 503);
        let st = w.stats();
        assert!(st.failing && st.failures >= 1 && st.queued >= 1, "{st:?}");
        // While the log is failing, buffered entries are refused too (fail closed).
        let e = r.block_on(w.append(ev(2), Durability::Buffered)).expect_err("must be refused");
        assert_eq!(e.status.as_u16(), 503);
        db.execute_batch("DROP TRIGGER fail_audit;").unwrap();
        // The kept entry is retried; then the writer accepts entries again.
        r.block_on(w.flush()).expect("recovered");
        r.block_on(w.append(ev(3), Durability::Commit)).expect("ok again");
        assert_eq!(ids(&sec), vec!["0", "1", "3"]);
        let st = w.stats();
        assert_eq!((st.entries, st.queued, st.failing), (3, 0, false), "{st:?}");
        assert_eq!(sec.verify_audit().expect("verify").broken, None);
    }

    #[test]
    fn a_stalled_commit_counts_as_failing_after_the_stall_limit() {
        let (d, sec, w) = setup();
        let r = rt();
        r.block_on(w.append(ev(0), Durability::Commit)).expect("ok");
        // Another process holds the database (a backup tool, a stuck disk): the commit waits.
        let db = rusqlite::Connection::open(d.path().join("santei.db")).unwrap();
        db.execute_batch("BEGIN EXCLUSIVE;").unwrap();
        r.block_on(w.append(ev(1), Durability::Buffered)).expect("queued");
        std::thread::sleep(STALL + Duration::from_millis(400));
        assert!(w.stats().failing, "{:?}", w.stats());
        let e = r.block_on(w.append(ev(2), Durability::Buffered)).expect_err("refused while stalled");
        assert_eq!(e.status.as_u16(), 503);
        db.execute_batch("COMMIT;").unwrap();
        r.block_on(w.flush()).expect("unstalled");
        r.block_on(w.append(ev(3), Durability::Commit)).expect("ok again");
        assert_eq!(ids(&sec), vec!["0", "1", "3"]);
        assert!(!w.stats().failing);
    }

    #[test]
    fn a_failing_anchor_fails_closed_and_the_entry_is_not_appended_twice() {
        let d = tempfile::tempdir().unwrap();
        let anchor_dir = d.path().join("anchor");
        let sec = security(d.path(), &anchor_dir.join(audit::ANCHOR_FILE));
        let w = AuditWriter::start(sec.clone(), false);
        let r = rt();
        let e = r.block_on(w.append(ev(0), Durability::Commit)).expect_err("anchor cannot be written");
        assert_eq!(e.status.as_u16(), 503);
        assert_eq!(r.block_on(w.append(ev(1), Durability::Buffered)).expect_err("refused").status.as_u16(), 503);
        std::fs::create_dir(&anchor_dir).unwrap();
        r.block_on(w.flush()).expect("recovered");
        r.block_on(w.append(ev(2), Durability::Commit)).expect("ok again");
        assert_eq!(ids(&sec), vec!["0", "2"]);
        let rep = sec.verify_audit().expect("verify");
        assert_eq!((rep.broken, rep.head_seq), (None, 2));
    }
}
