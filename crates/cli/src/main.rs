//! `santei` — the command-line front end. Thin: argument parsing and printing only; all logic
//! lives in the library crates (see ARCHITECTURE.md).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd_copay;
mod cmd_master;

#[derive(Parser)]
#[command(name = "santei", version, about = "共通算定モジュール — points, copay and claims from the official masters")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// 共通算定マスタ: import SSK masters and query codes by date.
    Master(cmd_master::MasterArgs),
    /// 窓口負担: the month's split between insurance, 公費 and the patient for a copay case.
    Copay(cmd_copay::CopayArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Master(a) => cmd_master::run(a),
        Cmd::Copay(a) => cmd_copay::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("santei: {e}");
            ExitCode::from(2)
        }
    }
}
