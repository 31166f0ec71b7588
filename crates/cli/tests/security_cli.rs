//! `santei admin|audit|backup …` end to end through the binary: exit codes and messages.

use std::path::Path;
use std::process::{Command, Output};

fn santei(cfg: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_santei"));
    c.env("XDG_CONFIG_HOME", cfg)
        .env_remove("SANTEI_BACKUP_KEY_FILE")
        .env_remove("SANTEI_DATA");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn admin_audit_backup_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let (cfg, data, bk, restored) = (
        t.path().join("cfg"),
        t.path().join("data"),
        t.path().join("bk"),
        t.path().join("restored"),
    );
    let d = data.to_str().unwrap();

    let o = santei(&cfg)
        .args([
            "admin",
            "init",
            "--data-dir",
            d,
            "--tenant",
            "1310000001",
            "--user",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let otp = out
        .lines()
        .find(|l| l.contains("one-time password:"))
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(otp.len(), 20);
    // Shown once: nowhere in the database or the audit log.
    let db = std::fs::read(data.join("santei.db")).unwrap();
    assert!(!db.windows(otp.len()).any(|w| w == otp.as_bytes()));

    let o = santei(&cfg)
        .args([
            "admin",
            "init",
            "--data-dir",
            d,
            "--tenant",
            "1310000001",
            "--user",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("already has an administrator") && text(&o).contains("既に管理者"));

    let o = santei(&cfg)
        .args(["admin", "check-weak", "--data-dir", d])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let o = santei(&cfg)
        .args(["audit", "verify", "--data-dir", d])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    std::fs::write(
        data.join("master.snapshot"),
        b"not really a master, but bytes to keep exactly\x00\xff",
    )
    .unwrap();
    let o = santei(&cfg)
        .args([
            "backup",
            "create",
            "--data-dir",
            d,
            "--to",
            bk.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("backup.key"),
        "says where the new key is: {}",
        text(&o)
    );
    assert!(cfg.join("santei/backup.key").is_file());

    let o = santei(&cfg)
        .args(["backup", "verify", "--from", bk.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = santei(&cfg)
        .args(["backup", "list", "--from", bk.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o).contains("santei-backup-"));

    // Wrong key: clear, bilingual, non-zero, nothing restored.
    let other = t.path().join("other.key");
    std::fs::write(
        &other,
        "santei-backup-key-v1\n0000000000000000000000000000000000000000000000000000000000000001\n",
    )
    .unwrap();
    let o = santei(&cfg)
        .args([
            "backup",
            "restore",
            "--from",
            bk.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
            "--key",
            other.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("wrong key") && text(&o).contains("鍵が違います"),
        "{}",
        text(&o)
    );

    let o = santei(&cfg)
        .args([
            "backup",
            "restore",
            "--from",
            bk.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(restored.join("master.snapshot")).unwrap(),
        std::fs::read(data.join("master.snapshot")).unwrap()
    );
    let o = santei(&cfg)
        .args(["audit", "verify", "--data-dir", restored.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // Tamper with the audit log: verify exits 1 and names the entry.
    let c = rusqlite::Connection::open(data.join("santei.db")).unwrap();
    c.execute_batch("DROP TRIGGER security_audit_no_update; UPDATE security_audit SET actor = 'someone-else' WHERE seq = 1;").unwrap();
    drop(c);
    let o = santei(&cfg)
        .args(["audit", "verify", "--data-dir", d])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("seq 1") && text(&o).contains("改ざん"),
        "{}",
        text(&o)
    );

    // Corrupt the backup: verify exits 1.
    let g = std::fs::read_dir(&bk)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut b = std::fs::read(&g).unwrap();
    let n = b.len() - 3;
    b[n] ^= 0x80;
    std::fs::remove_file(&g).unwrap();
    std::fs::write(&g, &b).unwrap();
    let o = santei(&cfg)
        .args(["backup", "verify", "--from", bk.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("corrupted") && text(&o).contains("壊れて"),
        "{}",
        text(&o)
    );

    // Prune below 7 refused.
    let o = santei(&cfg)
        .args([
            "backup",
            "prune",
            "--from",
            bk.to_str().unwrap(),
            "--keep",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn token_create_binds_to_a_client_certificate_file() {
    use sha2::Digest;
    let t = tempfile::tempdir().unwrap();
    let (cfg, data) = (t.path().join("cfg"), t.path().join("data"));
    let d = data.to_str().unwrap();
    let o = santei(&cfg).args(["admin", "init", "--data-dir", d, "--tenant", "1310000002", "--user", "admin"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let ck = rcgen::generate_simple_self_signed(vec!["emr-1".to_string()]).unwrap();
    let pem = t.path().join("client.pem");
    std::fs::write(&pem, ck.cert.pem()).unwrap();
    let want: String = sha2::Sha256::digest(ck.cert.der()).iter().map(|b| format!("{b:02x}")).collect();
    let o = santei(&cfg)
        .args(["admin", "token-create", "--data-dir", d, "--tenant", "1310000002", "--name", "emr-1", "--scope", "calculate", "--client-cert"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("client certificate SHA-256: {want}")), "{}", text(&o));
    // A file that is not a certificate: a clear error, no token.
    let o = santei(&cfg)
        .args(["admin", "token-create", "--data-dir", d, "--tenant", "1310000002", "--name", "emr-2", "--scope", "calculate", "--client-cert", d])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot read certificate") && !text(&o).contains("sat_"), "{}", text(&o));
}
