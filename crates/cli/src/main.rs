//! `santei` — the command-line front end. Thin: argument parsing and printing only; all logic
//! lives in the library crates (see ARCHITECTURE.md).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd_master;
mod cmd_uke;

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
    /// UKE (レセプト電算, 医科): check and show claim files.
    Uke(cmd_uke::UkeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Master(a) => cmd_master::run(a),
        Cmd::Uke(a) => cmd_uke::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("santei: {e}");
            ExitCode::from(2)
        }
    }
}
