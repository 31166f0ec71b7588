//! `santei admin …` — accounts of a tenant, run by the local operator.

use crate::cmd_security::{data_dir, fail, open, open_existing, R};
use clap::{Args, Subcommand};
use santei_security::rbac::{Action, Role};
use santei_security::weak;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    cmd: AdminCmd,
    /// Data directory holding santei.db [default: $SANTEI_DATA, else ~/.local/share/santei]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL holding the security state, as given to `santei serve --database-url`
    /// (postgres://user:password@host:port/database); without it, santei.db in the data directory
    #[arg(long, global = true, env = "SANTEI_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create the first administrator of a tenant with a one-time password (shown once). The
    /// first login must change it and enrol TOTP.
    Init {
        /// Tenant (医療機関コード)
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
    },
    /// Add a user with a one-time password (shown once).
    AddUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        /// Comma-separated: administrator, clerk, physician, auditor
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
    },
    /// Unlock a locked account.
    Unlock {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
    },
    /// Replace a user's password with a one-time password (shown once; must be changed at login).
    ResetPassword {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
    },
    /// Disable (or with --enable, re-enable) a user.
    Disable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        enable: bool,
    },
    /// List the users of a tenant (or all tenants).
    Users {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Issue an API token for a machine client (shown once; stored hashed).
    TokenCreate {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Comma-separated actions: read-patient, write-patient, calculate, generate-claims, read-master
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Lifetime in days (1–366)
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// Mutual TLS: bind the token to this client certificate (PEM). The token then works
        /// only on connections presenting that certificate (`santei serve --tls-client-ca`).
        #[arg(long, value_name = "FILE")]
        client_cert: Option<std::path::PathBuf>,
    },
    /// Revoke an API token.
    TokenRevoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: i64,
    },
    /// Check that no account has a known weak or default password (what `serve` checks at start).
    CheckWeak,
}

pub fn run(a: AdminArgs) -> R {
    let dir = data_dir(a.data_dir);
    let url = a.database_url.as_deref();
    match a.cmd {
        AdminCmd::Init { tenant, user } => {
            let sec = match open(&dir, url) {
                Ok(s) => s,
                Err(e) => return Ok(fail(&e)),
            };
            match sec.init_tenant_admin(&tenant, &user, "cli:admin-init") {
                Ok((id, otp)) => {
                    println!("管理者 {user}(医療機関 {tenant}、利用者番号 {id})を作成しました / created administrator {user} of tenant {tenant} (id {id})");
                    println!();
                    println!("  一時パスワード / one-time password:  {}", otp.expose());
                    println!();
                    println!("この一時パスワードは二度と表示されません。初回ログインでパスワードの変更と TOTP(認証アプリ)の登録が必要です。");
                    println!("This password is shown only once. The first login must change it and enrol TOTP (an authenticator app).");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::AddUser { tenant, user, role } => {
            let mut roles = Vec::new();
            for r in &role {
                match Role::parse(r.trim()) {
                    Some(x) => roles.push(x),
                    None => {
                        return Err(format!(
                            "役割「{r}」は不正です / unknown role '{r}' (administrator, clerk, physician, auditor)"
                        )
                        .into())
                    }
                }
            }
            let sec = open_existing(&dir, url)?;
            match sec.create_user(None, &tenant, &user, &roles, "cli") {
                Ok((id, otp)) => {
                    println!("利用者 {user}(利用者番号 {id})を作成しました / created user {user} (id {id})");
                    println!("  一時パスワード / one-time password:  {}", otp.expose());
                    println!("一度だけ表示されます。初回ログインで変更と TOTP 登録が必要です / shown once; change it and enrol TOTP at first login.");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::Unlock { tenant, user } => {
            let sec = open_existing(&dir, url)?;
            match sec.unlock(None, &tenant, &user, "cli") {
                Ok(()) => {
                    println!("{tenant}/{user} のロックを解除しました / unlocked {tenant}/{user}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::ResetPassword { tenant, user } => {
            let sec = open_existing(&dir, url)?;
            match sec.reset_password(None, &tenant, &user, "cli") {
                Ok(otp) => {
                    println!("  一時パスワード / one-time password:  {}", otp.expose());
                    println!("一度だけ表示されます。次回ログインで変更が必要です / shown once; must be changed at next login.");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::Disable {
            tenant,
            user,
            enable,
        } => {
            let sec = open_existing(&dir, url)?;
            match sec.set_disabled(None, &tenant, &user, !enable, "cli") {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::Users { tenant, json } => {
            let sec = open_existing(&dir, url)?;
            let now = sec.now();
            let users = sec.store().list_users(tenant.as_deref())?;
            if json {
                let v: Vec<serde_json::Value> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "tenant": u.tenant, "id": u.id, "name": u.name,
                            "roles": u.roles, "totp_enrolled": u.totp_secret.is_some(),
                            "must_change_password": u.must_change_password,
                            "locked": u.locked_until.is_some_and(|t| t > now), "disabled": u.disabled,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for u in &users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                    let mut flags = Vec::new();
                    if u.totp_secret.is_none() {
                        flags.push("no-totp");
                    }
                    if u.must_change_password {
                        flags.push("one-time-password");
                    }
                    if u.locked_until.is_some_and(|t| t > now) {
                        flags.push("LOCKED");
                    }
                    if u.disabled {
                        flags.push("disabled");
                    }
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.tenant,
                        u.id,
                        u.name,
                        roles.join(","),
                        flags.join(" ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCmd::TokenCreate {
            tenant,
            name,
            scope,
            days,
            client_cert,
        } => {
            let cert = match &client_cert {
                Some(f) => Some(santei_server::tls::pem_cert_sha256(f)?),
                None => None,
            };
            let mut scopes = Vec::new();
            for s in &scope {
                scopes.push(
                    Action::parse(s.trim())
                        .ok_or_else(|| format!("権限「{s}」は不正です / unknown scope '{s}'"))?,
                );
            }
            let sec = open_existing(&dir, url)?;
            match sec.create_api_token_bound(
                None,
                &tenant,
                &name,
                &scopes,
                days.saturating_mul(86400),
                cert,
                "cli",
            ) {
                Ok((id, tok)) => {
                    println!("API トークン(番号 {id})/ API token (id {id}):");
                    println!("  {}", tok.expose());
                    if let Some(c) = cert {
                        println!(
                            "クライアント証明書 SHA-256 / bound to client certificate SHA-256: {}",
                            santei_security::util::hex(&c)
                        );
                    }
                    println!("一度だけ表示されます。保存されるのはハッシュのみです / shown once; only its hash is stored.");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::TokenRevoke { tenant, id } => {
            let sec = open_existing(&dir, url)?;
            match sec.revoke_api_token(None, &tenant, id, "cli") {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Ok(fail(&e)),
            }
        }
        AdminCmd::CheckWeak => {
            let sec = open_existing(&dir, url)?;
            match weak::refuse_weak_accounts(sec.store().as_ref()) {
                Ok(()) => {
                    println!("弱い・既定のパスワードの利用者はいません / no account has a known weak or default password");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(fail(&e)),
            }
        }
    }
}
