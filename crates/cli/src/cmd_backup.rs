//! `santei backup …` — encrypted, content-hashed, write-once backups of the data directory.

use crate::cmd_security::{data_dir, fail, open, R};
use clap::{Args, Subcommand};
use santei_security::audit::actions;
use santei_security::backup::{self, BackupKey, KeySource, MIN_GENERATIONS};
use santei_security::{AuditEvent, Outcome, SecError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    cmd: BackupCmd,
    /// Backup key file [default: $SANTEI_BACKUP_KEY_FILE, else $XDG_CONFIG_HOME/santei/backup.key,
    /// created by the first `backup create`]. Keep it apart from the data and the backups.
    #[arg(long, global = true, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BackupCmd {
    /// Write a new generation: consistent database snapshot + master store, compressed,
    /// encrypted (XChaCha20-Poly1305), named by its SHA-256; never overwrites.
    Create {
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// List the generations in a backup directory (no key needed).
    List {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Decrypt and check every generation without restoring; exit 1 if any is bad.
    Verify {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Restore the newest (or --generation) into an empty data directory.
    Restore {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[arg(long, value_name = "DIR", required = true)]
        data_dir: Option<PathBuf>,
        /// File name (or ≥ 8 leading hex digits of the hash) of the generation to restore
        #[arg(long)]
        generation: Option<String>,
    },
    /// Delete the oldest generations, keeping N (at least 7). The only command that deletes.
    Prune {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[arg(long, value_name = "N")]
        keep: usize,
    },
}

fn key(opt: Option<&Path>, create: bool, data: Option<&Path>) -> Result<BackupKey, SecError> {
    let src = backup::resolve_key_source(opt)?;
    let (k, created) = backup::load_or_create_key(&src, create, data)?;
    if created {
        eprintln!(
            "santei: 新しいバックアップ鍵を {} に作成しました。データやバックアップとは別の安全な場所にも控えてください。鍵がなければ復元できません。",
            src.path().display()
        );
        eprintln!(
            "santei: created a new backup key at {}. Keep a copy somewhere safe, apart from the data and the backups: without it nothing can be restored.",
            src.path().display()
        );
    } else if let KeySource::Default(p) = &src {
        eprintln!("santei: バックアップ鍵 / backup key: {}", p.display());
    }
    Ok(k)
}

pub fn run(a: BackupArgs) -> R {
    match a.cmd {
        BackupCmd::Create {
            data_dir: d,
            to,
            json,
        } => {
            let dir = data_dir(d);
            let k = match key(a.key.as_deref(), true, Some(&dir)) {
                Ok(k) => k,
                Err(e) => return Ok(fail(&e)),
            };
            let now = santei_security::Clock::now(&santei_security::SystemClock);
            match backup::create(&dir, &to, &k, now) {
                Ok(c) => {
                    if dir.join(santei_security::store::sqlite::DB_FILE).is_file() {
                        let sec = open(&dir, None)?;
                        sec.audit(
                            AuditEvent::new(
                                "",
                                "cli:operator",
                                actions::BACKUP_CREATE,
                                Outcome::Success,
                            )
                            .resource("backup", &c.generation.file_name),
                        )?;
                    }
                    if json {
                        println!("{}", serde_json::to_string_pretty(&c)?);
                    } else {
                        println!("{}", c.generation.path.display());
                        for f in &c.files {
                            println!("  {}  {} bytes  sha256 {}", f.name, f.size, f.sha256);
                        }
                    }
                    let n = backup::list(&to).map(|v| v.len()).unwrap_or(0);
                    if n < MIN_GENERATIONS {
                        eprintln!("santei: 世代数 {n}({MIN_GENERATIONS} 世代以上を保持してください)/ {n} generation(s) (keep at least {MIN_GENERATIONS})");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        BackupCmd::List { from, json } => {
            let gens = match backup::list(&from) {
                Ok(g) => g,
                Err(e) => return Ok(fail(&e)),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&gens)?);
            } else {
                for g in &gens {
                    println!("{}  {:>12} bytes  {}", g.stamp, g.size, g.file_name);
                }
                eprintln!("{} 世代 / {} generation(s)", gens.len(), gens.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCmd::Verify { from, json } => {
            let k = match key(a.key.as_deref(), false, None) {
                Ok(k) => k,
                Err(e) => return Ok(fail(&e)),
            };
            let v = match backup::verify_all(&from, &k) {
                Ok(v) => v,
                Err(e) => return Ok(fail(&e)),
            };
            let bad = v.iter().filter(|x| x.error.is_some()).count();
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for x in &v {
                    match &x.error {
                        None => println!("OK   {}", x.generation.file_name),
                        Some(e) => println!("BAD  {}  {e}", x.generation.file_name),
                    }
                }
            }
            if v.is_empty() {
                eprintln!(
                    "santei: {} にバックアップがありません / no backups in {}",
                    from.display(),
                    from.display()
                );
                return Ok(ExitCode::from(1));
            }
            if bad > 0 {
                eprintln!("santei: {bad} 世代が検証に失敗しました / {bad} generation(s) failed verification");
                return Ok(ExitCode::from(1));
            }
            eprintln!(
                "{} 世代すべて正常 / all {} generation(s) verified",
                v.len(),
                v.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        BackupCmd::Restore {
            from,
            data_dir: d,
            generation,
        } => {
            let dir = data_dir(d);
            let k = match key(a.key.as_deref(), false, None) {
                Ok(k) => k,
                Err(e) => return Ok(fail(&e)),
            };
            match backup::restore(&from, &dir, &k, generation.as_deref()) {
                Ok((g, m)) => {
                    if m.files
                        .iter()
                        .any(|f| f.name == santei_security::store::sqlite::DB_FILE)
                    {
                        let sec = open(&dir, None)?;
                        sec.audit(
                            AuditEvent::new(
                                "",
                                "cli:operator",
                                actions::BACKUP_RESTORE,
                                Outcome::Success,
                            )
                            .resource("backup", &g.file_name),
                        )?;
                        if let Ok(r) = sec.verify_audit() {
                            if let Some(b) = r.broken {
                                eprintln!("santei: 警告 / warning: {}", b.to_error());
                            }
                        }
                    }
                    println!(
                        "{} を {} に復元しました / restored {} into {}",
                        g.file_name,
                        dir.display(),
                        g.file_name,
                        dir.display()
                    );
                    for f in &m.files {
                        println!("  {}  {} bytes", f.name, f.size);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        BackupCmd::Prune { from, keep } => match backup::prune(&from, keep) {
            Ok(removed) => {
                for g in &removed {
                    println!("削除 / removed  {}", g.file_name);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(fail(&e)),
        },
    }
}
