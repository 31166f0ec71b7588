//! `santei audit …` — the hash-chained audit log.

use crate::cmd_security::{data_dir, fail, open_existing, R};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    cmd: AuditCmd,
    /// Data directory holding santei.db [default: $SANTEI_DATA, else ~/.local/share/santei]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL holding the security state, as given to `santei serve --database-url`
    /// (postgres://user:password@host:port/database); without it, santei.db in the data directory
    #[arg(long, global = true, env = "SANTEI_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the chain: exit 1 and name the first edited, deleted or reordered entry.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print entries (JSON lines), optionally of one tenant.
    Show {
        #[arg(long)]
        tenant: Option<String>,
        /// Only entries after this sequence number
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub fn run(a: AuditArgs) -> R {
    let dir = data_dir(a.data_dir);
    let url = a.database_url.as_deref();
    let sec = match open_existing(&dir, url) {
        Ok(s) => s,
        Err(e) => return Ok(fail(&e)),
    };
    match a.cmd {
        AuditCmd::Verify { json } => {
            let r = match sec.verify_audit() {
                Ok(r) => r,
                Err(e) => return Ok(fail(&e)),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            }
            match &r.broken {
                None => {
                    if !json {
                        println!(
                            "監査ログは正常です: {} 件、先頭 通番 {} / audit log intact: {} entries, head seq {} ({})",
                            r.entries,
                            r.head_seq,
                            r.entries,
                            r.head_seq,
                            santei_security::util::hex(&r.head_hash)
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => Ok(fail(&b.to_error())),
            }
        }
        AuditCmd::Show {
            tenant,
            after,
            limit,
        } => {
            let limit = limit.min(100_000);
            let entries = match &tenant {
                Some(t) => sec.store().audit_entries_for_tenant(t, after, limit)?,
                None => sec.store().audit_entries(after, limit)?,
            };
            for e in entries {
                println!("{}", serde_json::to_string(&e)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
