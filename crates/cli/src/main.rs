//! `santei` — the command-line front end. Thin: argument parsing and printing only; all logic
//! lives in the library crates (see ARCHITECTURE.md).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd_calc;
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
    /// 計算ロジック (1): outpatient points for one patient-month (orders in, UKE units out).
    Calc(cmd_calc::CalcArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Master(a) => cmd_master::run(a),
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
