use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct MasterArgs {}

pub fn run(_a: MasterArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Ok(ExitCode::SUCCESS)
}
