//! `santei bench …` — performance figures for BENCHMARKS.md (release build).

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    cmd: BenchCmd,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Master store: full import, open, code-at-date lookup
    Master {
        /// Master files/directories to import (e.g. ../shared/data/ssk ../shared/data/tensuhyo)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Scratch data directory [default: a temporary directory]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub fn run(a: BenchArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match a.cmd {
        BenchCmd::Master { paths, data_dir, runs } => {
            let dir = data_dir.unwrap_or_else(|| std::env::temp_dir().join(format!("santei-bench-{}", std::process::id())));
            let figs = santei_master::bench::run(&paths, &dir, runs.max(1))?;
            for f in &figs {
                println!("{:<60} {:>10.1} {:<3} {}", f.name, f.value, f.unit, f.target.as_deref().unwrap_or(""));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
