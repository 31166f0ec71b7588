//! The hash-chained audit log.
//!
//! Entry `n` stores `prev_hash` = hash of entry `n-1` (32 zero bytes for the first) and
//! `hash` = SHA-256 of its canonical bytes:
//!
//! ```text
//! "santei-audit-v1\n" ‖ prev_hash (32) ‖ seq (i64 BE) ‖ time (i64 BE)
//!   ‖ for each of tenant, actor, source, action, resource_type, resource_id, outcome, detail:
//!       len (u32 BE) ‖ UTF-8 bytes
//! ```
//!
//! [`verify_chain`] walks the entries in `seq` order and reports the first that is edited (its
//! hash does not match its fields), deleted (a gap in `seq` or a `prev_hash` that does not match)
//! or reordered (a `prev_hash` that links to another entry). An optional anchor file holding the
//! head's `seq` and hash detects truncation of the tail (see README).

use crate::error::{Result, SecError};
use crate::model::AuditEntry;
use crate::store::SecurityStore;
use crate::util::{ct_eq, hex, sha256, unhex};
use serde::Serialize;
use std::path::Path;

/// Names of the actions the security layer and the service record.
pub mod actions {
    pub const LOGIN: &str = "auth.login";
    pub const LOGIN_PASSWORD: &str = "auth.password";
    pub const LOGIN_SECOND_FACTOR: &str = "auth.second_factor";
    pub const LOGOUT: &str = "auth.logout";
    pub const LOCK: &str = "auth.lock";
    pub const UNLOCK: &str = "auth.unlock";
    pub const PASSWORD_CHANGE: &str = "auth.password_change";
    pub const TOTP_ENROL: &str = "auth.totp_enrol";
    pub const RECOVERY_CODE_USED: &str = "auth.recovery_code";
    pub const TOKEN_USE_REFUSED: &str = "auth.token_refused";
    pub const ACCESS_DENIED: &str = "auth.denied";
    pub const USER_CREATE: &str = "admin.user_create";
    pub const USER_DISABLE: &str = "admin.user_disable";
    pub const TENANT_INIT: &str = "admin.init";
    pub const TOKEN_CREATE: &str = "admin.token_create";
    pub const TOKEN_REVOKE: &str = "admin.token_revoke";
    pub const PATIENT_READ: &str = "patient.read";
    pub const PATIENT_WRITE: &str = "patient.write";
    pub const PATIENT_DELETE: &str = "patient.delete";
    pub const CALCULATE: &str = "calc.calculate";
    pub const CLAIMS_GENERATE: &str = "claims.generate";
    pub const MASTER_IMPORT: &str = "master.import";
    pub const BACKUP_CREATE: &str = "backup.create";
    pub const BACKUP_RESTORE: &str = "backup.restore";
    pub const RETENTION_REFUSED: &str = "retention.refused";
}

/// Canonical bytes of an entry (everything except its own `hash`).
pub fn canonical_bytes(e: &AuditEntry) -> Vec<u8> {
    let mut b = Vec::with_capacity(160);
    b.extend_from_slice(b"santei-audit-v1\n");
    b.extend_from_slice(&e.prev_hash);
    b.extend_from_slice(&e.seq.to_be_bytes());
    b.extend_from_slice(&e.time.to_be_bytes());
    for f in [
        &e.tenant,
        &e.actor,
        &e.source,
        &e.action,
        &e.resource_type,
        &e.resource_id,
        &e.outcome,
        &e.detail,
    ] {
        b.extend_from_slice(&(f.len() as u32).to_be_bytes());
        b.extend_from_slice(f.as_bytes());
    }
    b
}

pub fn entry_hash(e: &AuditEntry) -> [u8; 32] {
    sha256(&canonical_bytes(e))
}

/// Why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// The entry's fields do not hash to its stored hash: edited.
    Edited,
    /// Sequence numbers jump: entries between were deleted.
    Missing { expected_seq: i64 },
    /// The entry does not link to the previous one: deleted or reordered entries.
    BrokenLink,
    /// The anchor names an entry that is missing or different: the tail was truncated or rewritten.
    AnchorMismatch { anchor_seq: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: BreakReason,
}

impl ChainBreak {
    pub fn to_error(&self) -> SecError {
        let (ja, en) = match &self.reason {
            BreakReason::Edited => ("内容が改ざんされています".to_string(), "entry was edited".to_string()),
            BreakReason::Missing { expected_seq } => (
                format!("通番 {expected_seq} 以降の記録が削除されています"),
                format!("entries from seq {expected_seq} were deleted"),
            ),
            BreakReason::BrokenLink => (
                "直前の記録とのつながりが切れています(削除または並べ替え)".to_string(),
                "does not link to the previous entry (deleted or reordered entries)".to_string(),
            ),
            BreakReason::AnchorMismatch { anchor_seq } => (
                format!("アンカー(通番 {anchor_seq})と一致しません。末尾が削除または書き換えられています"),
                format!("does not match the anchor (seq {anchor_seq}); the tail was truncated or rewritten"),
            ),
        };
        SecError::integrity(
            "S301",
            format!("監査ログが改ざんされています: 通番 {}: {ja}", self.seq),
            format!("audit log tampered: seq {}: {en}", self.seq),
        )
    }
}

/// Result of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub entries: i64,
    pub head_seq: i64,
    #[serde(serialize_with = "ser_hex32")]
    pub head_hash: [u8; 32],
    pub broken: Option<ChainBreak>,
}

fn ser_hex32<S: serde::Serializer>(v: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex(v))
}

/// The head of the chain recorded outside the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: [u8; 32],
}

/// File name of the anchor in the data directory.
pub const ANCHOR_FILE: &str = "audit.anchor";

impl Anchor {
    /// The anchor line. `seq` is zero-padded to 20 digits so that every line has the same length
    /// and a newer anchor overwrites an older one in place (see [`Anchor::write`]).
    pub fn to_line(&self) -> String {
        format!("santei-audit-anchor-v1 {:020} {}\n", self.seq, hex(&self.hash))
    }
    pub fn parse(s: &str) -> Option<Anchor> {
        let mut it = s.split_whitespace();
        if it.next()? != "santei-audit-anchor-v1" {
            return None;
        }
        let seq = it.next()?.parse().ok()?;
        let h = unhex(it.next()?)?;
        let hash: [u8; 32] = h.try_into().ok()?;
        if it.next().is_some() {
            return None;
        }
        Some(Anchor { seq, hash })
    }
    /// Read the anchor; `Ok(None)` if there is none yet.
    pub fn read(path: &Path) -> Result<Option<Anchor>> {
        // A read that races an in-place write could see a mix of two lines: read again before
        // calling the file malformed.
        for attempt in 0..3 {
            match std::fs::read_to_string(path) {
                // Created but not yet written when the machine stopped (no anchor was recorded
                // yet): the same as no file — which is what deleting it would give anyway.
                Ok(s) if s.is_empty() => return Ok(None),
                Ok(s) => {
                    if let Some(a) = Anchor::parse(&s) {
                        return Ok(Some(a));
                    }
                    if attempt < 2 {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(SecError::io(path, &e)),
            }
        }
        Err(SecError::integrity(
            "S302",
            format!("{}: 監査ログのアンカーファイルが壊れています", path.display()),
            format!("{}: audit anchor file is malformed", path.display()),
        ))
    }
    /// Write the anchor. The line has a fixed length and is written over the previous one in
    /// place, in one `pwrite` at offset 0 (one 109-byte write inside one sector; not fsynced,
    /// like the SQLite commits it follows — a power loss can lose the last ones). Not a
    /// temporary file and a rename: on ext4 a rename over an existing file forces the new file
    /// to disk (`auto_da_alloc`), which cost more than the audit insert itself on every request.
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let line = self.to_line();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| SecError::io(path, &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            f.write_all_at(line.as_bytes(), 0)
                .map_err(|e| SecError::io(path, &e))?;
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom};
            f.seek(SeekFrom::Start(0))
                .and_then(|_| f.write_all(line.as_bytes()))
                .map_err(|e| SecError::io(path, &e))?;
        }
        // An anchor written by an older version (shorter line) leaves a tail: cut it.
        let len = f.metadata().map_err(|e| SecError::io(path, &e))?.len();
        if len != line.len() as u64 {
            f.set_len(line.len() as u64)
                .map_err(|e| SecError::io(path, &e))?;
        }
        f.flush().map_err(|e| SecError::io(path, &e))
    }
}

/// Verify the whole chain in the store (streaming, in pages), and the anchor if given.
pub fn verify_chain(store: &dyn SecurityStore, anchor: Option<Anchor>) -> Result<ChainReport> {
    let mut prev = [0u8; 32];
    let mut expected = 1i64;
    let mut count = 0i64;
    let mut anchor_seen = false;
    let mut broken = None;
    'outer: loop {
        let page = store.audit_entries(expected - 1, 1000)?;
        if page.is_empty() {
            break;
        }
        for e in page {
            count += 1;
            if e.seq != expected {
                broken = Some(ChainBreak {
                    seq: e.seq,
                    reason: BreakReason::Missing {
                        expected_seq: expected,
                    },
                });
                break 'outer;
            }
            if !ct_eq(&e.prev_hash, &prev) {
                broken = Some(ChainBreak {
                    seq: e.seq,
                    reason: BreakReason::BrokenLink,
                });
                break 'outer;
            }
            let h = entry_hash(&e);
            if !ct_eq(&h, &e.hash) {
                broken = Some(ChainBreak {
                    seq: e.seq,
                    reason: BreakReason::Edited,
                });
                break 'outer;
            }
            if let Some(a) = anchor {
                if a.seq == e.seq {
                    anchor_seen = true;
                    if !ct_eq(&a.hash, &h) {
                        broken = Some(ChainBreak {
                            seq: e.seq,
                            reason: BreakReason::AnchorMismatch { anchor_seq: a.seq },
                        });
                        break 'outer;
                    }
                }
            }
            prev = h;
            expected += 1;
        }
    }
    if broken.is_none() {
        if let Some(a) = anchor {
            if !anchor_seen && a.seq > 0 {
                broken = Some(ChainBreak {
                    seq: expected,
                    reason: BreakReason::AnchorMismatch { anchor_seq: a.seq },
                });
            }
        }
    }
    Ok(ChainReport {
        entries: count,
        head_seq: expected - 1,
        head_hash: prev,
        broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_is_rewritten_in_place_with_a_fixed_length() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(ANCHOR_FILE);
        // An anchor as an older version wrote it (no padding), then ones from this version.
        std::fs::write(&p, format!("santei-audit-anchor-v1 7 {}\n", hex(&[7u8; 32]))).unwrap();
        assert_eq!(Anchor::read(&p).unwrap(), Some(Anchor { seq: 7, hash: [7; 32] }));
        for (seq, b) in [(8i64, 8u8), (123_456_789, 9), (10, 10)] {
            let a = Anchor { seq, hash: [b; 32] };
            a.write(&p).unwrap();
            let text = std::fs::read_to_string(&p).unwrap();
            assert_eq!(text, a.to_line());
            assert_eq!(text.len(), 109);
            assert_eq!(Anchor::read(&p).unwrap(), Some(a));
        }
        // An empty file (created, never written) is no anchor; anything else malformed is refused.
        std::fs::write(&p, "").unwrap();
        assert_eq!(Anchor::read(&p).unwrap(), None);
        std::fs::write(&p, format!("santei-audit-anchor-v1 7 {} extra\n", hex(&[7u8; 32]))).unwrap();
        assert_eq!(Anchor::read(&p).unwrap_err().code, "S302");
        std::fs::write(&p, "santei-audit-anchor-v1 x\n").unwrap();
        assert_eq!(Anchor::read(&p).unwrap_err().code, "S302");
    }
}
