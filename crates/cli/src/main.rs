//! `santei` — the command-line front end. Thin: argument parsing and printing only; all logic
//! lives in the library crates (see ARCHITECTURE.md).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod catalog;
mod cmd_admin;
mod cmd_audit;
mod cmd_backup;
mod cmd_bench;
mod cmd_demo;
mod cmd_copay;
mod cmd_calc;
mod cmd_master;
mod cmd_uke;
mod cmd_security;
mod cmd_serve;
mod cmd_tenant;

#[derive(Parser)]
#[command(name = "santei", version, about = "共通算定モジュール — points, copay and claims from the official masters")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the main job on the built-in sample data (no network, no ../shared needed).
    Demo(cmd_demo::DemoArgs),
    /// 共通算定マスタ: import SSK masters and query codes by date.
    Master(cmd_master::MasterArgs),
    /// UKE (レセプト電算, 医科): check and show claim files.
    Uke(cmd_uke::UkeArgs),
    /// Performance benchmarks (figures recorded in BENCHMARKS.md).
    Bench(cmd_bench::BenchArgs),
    /// 窓口負担: the month's split between insurance, 公費 and the patient for a copay case.
    Copay(cmd_copay::CopayArgs),
    /// Accounts: first administrator of a tenant, users, unlock, API tokens, weak-password check.
    Admin(cmd_admin::AdminArgs),
    /// Hash-chained audit log: verify the chain, show entries.
    Audit(cmd_audit::AuditArgs),
    /// Encrypted, write-once backups: create, list, verify, restore, prune.
    Backup(cmd_backup::BackupArgs),
    /// Run the JSON API service (SQLite in the data directory, or PostgreSQL).
    Serve(cmd_serve::ServeArgs),
    /// Tenants (institutions) of the service: create, list, issue API tokens.
    Tenant(cmd_tenant::TenantArgs),
    /// 計算ロジック (1): outpatient points for one patient-month (orders in, UKE units out).
    Calc(cmd_calc::CalcArgs),
}

fn main() -> ExitCode {
    // Behave like other Unix tools when output is piped into `head`: stop quietly on SIGPIPE
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Demo(a) => cmd_demo::run(a),
        Cmd::Master(a) => cmd_master::run(a),
        Cmd::Uke(a) => cmd_uke::run(a),
        Cmd::Bench(a) => cmd_bench::run(a),
        Cmd::Copay(a) => cmd_copay::run(a),
        Cmd::Admin(a) => cmd_admin::run(a),
        Cmd::Audit(a) => cmd_audit::run(a),
        Cmd::Backup(a) => cmd_backup::run(a),
        Cmd::Serve(a) => cmd_serve::run(a),
        Cmd::Tenant(a) => cmd_tenant::run(a),
        Cmd::Calc(a) => cmd_calc::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("santei: {e}");
            ExitCode::from(2)
        }
    }
}
