//! Backups: create → wipe → restore gives identical data; corruption, wrong key and foreign
//! files are detected; generations are never overwritten; pruning keeps at least 7.

mod common;
use common::*;
use rusqlite::types::Value;
use santei_security::backup::{self, BackupKey, KeySource};
use santei_security::*;
use std::path::Path;
use std::sync::Arc;

/// A data directory like the service's: santei.db with security tables and a service table,
/// master.snapshot, audit anchor.
fn make_data_dir(dir: &Path) {
    let store = Arc::new(SqliteStore::open_data_dir(dir).unwrap());
    let mut c = cfg();
    c.anchor_file = Some(dir.join(audit::ANCHOR_FILE));
    let clock = Arc::new(TestClock::new(T0));
    let sec = Security::new(store.clone(), clock.clone(), c);
    enrol(
        &sec,
        &clock,
        "1310000001",
        "admin",
        &[Role::Administrator],
        None,
    );
    store.with_connection(|c| {
        c.execute_batch(
            "CREATE TABLE patients (id INTEGER PRIMARY KEY, tenant TEXT, kana TEXT, born TEXT, note BLOB, weight REAL);",
        )
        .unwrap();
        for i in 0..500 {
            c.execute(
                "INSERT INTO patients (tenant, kana, born, note, weight) VALUES ('1310000001', ?1, '1950-01-01', ?2, ?3)",
                rusqlite::params![format!("サンテイ タロウ{i}"), vec![i as u8; 40], i as f64 * 0.5],
            )
            .unwrap();
        }
    });
    let master: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join(backup::MASTER_FILE), master).unwrap();
}

fn dump(db: &Path) -> Vec<(String, Vec<Vec<Value>>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let mut st = c
                .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
                .unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            (t, rows)
        })
        .collect()
}

fn key_in(dir: &Path) -> BackupKey {
    let (k, created) = backup::load_or_create_key(
        &KeySource::Default(dir.join("cfg/santei/backup.key")),
        true,
        None,
    )
    .unwrap();
    assert!(created);
    k
}

#[test]
fn backup_wipe_restore_identical() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let bk = root.path().join("backups");
    make_data_dir(&data);
    let key = key_in(root.path());
    let created = backup::create(&data, &bk, &key, T0).unwrap();
    assert!(created
        .generation
        .file_name
        .contains(&created.generation.sha256));
    let before_db = dump(&data.join("santei.db"));
    let before_master = std::fs::read(data.join(backup::MASTER_FILE)).unwrap();
    assert!(before_db
        .iter()
        .any(|(t, rows)| t == "patients" && rows.len() == 500));
    // Nothing readable in the backup: the patient names are not in the file.
    let raw = std::fs::read(&created.generation.path).unwrap();
    assert!(!raw
        .windows("サンテイ".len())
        .any(|w| w == "サンテイ".as_bytes()));

    std::fs::remove_dir_all(&data).unwrap();
    let (g, m) = backup::restore(&bk, &data, &key, None).unwrap();
    assert_eq!(g.file_name, created.generation.file_name);
    assert_eq!(m.files.len(), 3);
    assert_eq!(
        std::fs::read(data.join(backup::MASTER_FILE)).unwrap(),
        before_master,
        "master byte-for-byte"
    );
    assert_eq!(
        dump(&data.join("santei.db")),
        before_db,
        "database row-for-row"
    );
    // The restored audit chain verifies, anchor included.
    let store = Arc::new(SqliteStore::open_data_dir(&data).unwrap());
    let anchor = audit::Anchor::read(&data.join(audit::ANCHOR_FILE)).unwrap();
    assert!(anchor.is_some());
    assert!(audit::verify_chain(store.as_ref(), anchor)
        .unwrap()
        .broken
        .is_none());
    // Restoring into a non-empty directory is refused.
    assert_eq!(
        backup::restore(&bk, &data, &key, None).unwrap_err().code,
        "S631"
    );
}

#[test]
fn corrupted_backup_detected_by_verify() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let bk = root.path().join("backups");
    make_data_dir(&data);
    let key = key_in(root.path());
    let g1 = backup::create(&data, &bk, &key, T0).unwrap().generation;
    let g2 = backup::create(&data, &bk, &key, T0 + 86400)
        .unwrap()
        .generation;
    assert!(backup::verify_all(&bk, &key)
        .unwrap()
        .iter()
        .all(|v| v.error.is_none()));
    // Flip one byte in the middle of the first generation.
    let mut b = std::fs::read(&g1.path).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x01;
    make_writable(&g1.path);
    std::fs::write(&g1.path, &b).unwrap();
    let v = backup::verify_all(&bk, &key).unwrap();
    let bad = v
        .iter()
        .find(|x| x.generation.file_name == g1.file_name)
        .unwrap();
    assert_eq!(bad.error.as_ref().unwrap().code, "S613");
    assert!(v
        .iter()
        .find(|x| x.generation.file_name == g2.file_name)
        .unwrap()
        .error
        .is_none());
    // Even if the attacker renames the file to the new hash, the AEAD tag catches it.
    let h = santei_security::util::hex(&santei_security::util::sha256(&b));
    let renamed = bk.join(format!("santei-backup-{}-{h}.sbk", g1.stamp));
    std::fs::rename(&g1.path, &renamed).unwrap();
    let v = backup::verify_all(&bk, &key).unwrap();
    let bad = v.iter().find(|x| x.generation.path == renamed).unwrap();
    assert_eq!(bad.error.as_ref().unwrap().code, "S611");
    // Restore of a corrupted generation fails, and writes nothing.
    let target = root.path().join("restore");
    assert!(backup::restore(
        &bk,
        &target,
        &key,
        Some(&renamed.file_name().unwrap().to_string_lossy())
    )
    .is_err());
    assert!(!target.join("santei.db").exists());
}

#[test]
fn wrong_key_and_foreign_files_fail_clearly() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let bk = root.path().join("backups");
    make_data_dir(&data);
    let key = key_in(root.path());
    backup::create(&data, &bk, &key, T0).unwrap();
    let other = BackupKey::generate().unwrap();
    let target = root.path().join("restore");
    let e = backup::restore(&bk, &target, &other, None).unwrap_err();
    assert_eq!(e.code, "S615");
    assert!(e.message_en.contains("wrong key") && e.message_ja.contains("鍵が違います"));
    assert!(!target.join("santei.db").exists());
    // A foreign file dressed up with a backup name.
    let junk = b"PK\x03\x04 this is a zip, not a santei backup".to_vec();
    let h = santei_security::util::hex(&santei_security::util::sha256(&junk));
    std::fs::write(
        bk.join(format!("santei-backup-20250101T000000Z-{h}.sbk")),
        &junk,
    )
    .unwrap();
    let v = backup::verify_all(&bk, &key).unwrap();
    assert_eq!(
        v.iter()
            .filter(|x| x.error.as_ref().is_some_and(|e| e.code == "S612"))
            .count(),
        1
    );
    // Malformed key files.
    std::fs::write(root.path().join("bad.key"), "hello").unwrap();
    assert_eq!(
        BackupKey::load(&root.path().join("bad.key"))
            .unwrap_err()
            .code,
        "S602"
    );
    assert_eq!(
        BackupKey::load(&root.path().join("missing.key"))
            .unwrap_err()
            .code,
        "S601"
    );
}

#[test]
fn write_once_generations_and_prune_policy() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let bk = root.path().join("backups");
    make_data_dir(&data);
    let key = key_in(root.path());
    for day in 0..9 {
        backup::create(&data, &bk, &key, T0 + day * 86400).unwrap();
    }
    // Same second twice: a different name (fresh nonce → different hash), nothing overwritten.
    backup::create(&data, &bk, &key, T0).unwrap();
    assert_eq!(backup::list(&bk).unwrap().len(), 10);
    assert_eq!(backup::prune(&bk, 3).unwrap_err().code, "S641");
    let removed = backup::prune(&bk, 7).unwrap();
    assert_eq!(removed.len(), 3);
    let left = backup::list(&bk).unwrap();
    assert_eq!(left.len(), 7);
    assert!(
        left[0].stamp.as_str() > "20260101T000000Z",
        "oldest pruned first"
    );
}

#[test]
fn key_handling() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A key inside the data directory is refused.
    let e = backup::load_or_create_key(
        &KeySource::Default(data.join("k/backup.key")),
        true,
        Some(&data),
    )
    .unwrap_err();
    assert_eq!(e.code, "S604");
    // The default key is created once with mode 0600, then reused.
    let p = root.path().join("cfg/santei/backup.key");
    let (k1, c1) =
        backup::load_or_create_key(&KeySource::Default(p.clone()), true, Some(&data)).unwrap();
    let (k2, c2) =
        backup::load_or_create_key(&KeySource::Default(p.clone()), true, Some(&data)).unwrap();
    assert!(c1 && !c2);
    assert_eq!(k1.id(), k2.id());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // An explicit --key that does not exist is an error, not silently created.
    assert_eq!(
        backup::load_or_create_key(&KeySource::Option(root.path().join("nope.key")), true, None)
            .unwrap_err()
            .code,
        "S601"
    );
    // Nothing to back up.
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(
        backup::create(&empty, &root.path().join("b"), &k1, T0)
            .unwrap_err()
            .code,
        "S622"
    );
}

fn make_writable(p: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
