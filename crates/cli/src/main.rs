//! `santei` — the command-line front end. Thin: argument parsing and printing only; all logic
//! lives in the library crates (see ARCHITECTURE.md).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd_bench;
mod cmd_demo;
mod cmd_master;
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
    /// 共通算定マスタ: import SSK masters and query codes by date.
    /// Run the main job on the built-in sample data (no network, no ../shared needed).
    Demo(cmd_demo::DemoArgs),
    Master(cmd_master::MasterArgs),
    /// Performance benchmarks (figures recorded in BENCHMARKS.md).
    Bench(cmd_bench::BenchArgs),
    /// Run the JSON API service (SQLite in the data directory, or PostgreSQL).
    Serve(cmd_serve::ServeArgs),
    /// Tenants (institutions) of the service: create, list, issue API tokens.
    Tenant(cmd_tenant::TenantArgs),
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
        Cmd::Bench(a) => cmd_bench::run(a),
        Cmd::Serve(a) => cmd_serve::run(a),
        Cmd::Tenant(a) => cmd_tenant::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("santei: {e}");
            ExitCode::from(2)
        }
    }
}
