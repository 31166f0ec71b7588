//! `santei tenant …` — create tenants (institutions) and issue API tokens, directly in the
//! service's database (the same code path as `POST /v1/admin/tenants`).

use clap::{Args, Subcommand};
use santei_server::api::tenants::NewTenant;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    cmd: TenantCmd,
    /// Data directory holding santei.db [default: $SANTEI_DATA, else ~/.local/share/santei]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of SQLite: postgres://user:password@host:port/database
    #[arg(long, global = true, env = "SANTEI_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant; prints its API token once (only a hash is stored)
    Create {
        /// 医療機関コード (10 digits)
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// clinic | hospital
        #[arg(long, default_value = "clinic")]
        kind: String,
        /// 都道府県番号 01–47 [default: first two digits of the code]
        #[arg(long)]
        prefecture: Option<String>,
        /// Settings as a JSON object
        #[arg(long)]
        settings: Option<String>,
        /// 標榜時間 as a JSON object: {"mon": [["09:00","12:00"]], …}
        #[arg(long)]
        posted_hours: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Issue another API token for a tenant (prints it once)
    Token {
        tenant_id: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tenants as JSON
    List,
}

fn obj(arg: Option<String>, what: &str) -> Result<Option<Map<String, Value>>, String> {
    match arg {
        None => Ok(None),
        Some(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(format!("--{what} はJSONオブジェクトで指定してください / --{what} must be a JSON object")),
        },
    }
}

pub fn run(a: TenantArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = crate::cmd_master::data_dir(a.data_dir);
    let url = a.database_url.as_deref();
    match a.cmd {
        TenantCmd::Create { code, name, kind, prefecture, settings, posted_hours, json } => {
            let t = NewTenant {
                institution_code: code,
                name,
                kind,
                prefecture,
                posted_hours: obj(posted_hours, "posted-hours")?,
                settings: obj(settings, "settings")?,
            };
            let created = santei_server::admin::create_tenant(url, &dir, t)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&json!({"tenant": created.tenant, "token": created.token}))?);
            } else {
                println!("tenant {}  ({} {})", created.tenant["id"].as_str().unwrap_or(""), created.tenant["institution_code"].as_str().unwrap_or(""), created.tenant["name"].as_str().unwrap_or(""));
                println!("token  {}", created.token);
                eprintln!("このトークンは二度と表示されません / this token is shown only once: store it now");
            }
        }
        TenantCmd::Token { tenant_id, label } => {
            let tok = santei_server::admin::issue_token(url, &dir, &tenant_id, &label)?;
            println!("{tok}");
            eprintln!("このトークンは二度と表示されません / this token is shown only once: store it now");
        }
        TenantCmd::List => {
            let v = santei_server::admin::list_tenants(url, &dir)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
