//! `santei demo` — the main job on the built-in sample master: no network, no ../shared.

use clap::Args;
use santei_core::date::parse_iso;
use santei_master::{sample, Store};
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {}

pub fn run(_a: DemoArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("santei-demo-{}", std::process::id()));
    println!("== 共通算定マスタ: sample master (real SSK rows, official format) → compiled store");
    let snap = sample::snapshot()?;
    let path = snap.save(&dir)?;
    let st = Store::open(&dir)?;
    println!("   store: {}", path.display());
    for k in st.stats().kinds {
        println!("   {:<10} {:>3} codes {:>3} versions", k.kind.as_str(), k.codes, k.versions);
    }
    println!("\n== What was code X on date D (令和6年度改定 on 2024-06-01)");
    for (code, day) in [("111000110", "2024-05-31"), ("111000110", "2024-06-01"), ("112007410", "2024-05-31"), ("112007410", "2024-06-01")] {
        let date = parse_iso(day).ok_or("bad date")?;
        match st.procedure(code, date) {
            Some(p) => println!("   {day}  {code} {:<8} {:>4}点  (from {}:{})", p.common.name, p.points.normalize(), st.source_name(p.common.source), p.common.source.line),
            None => println!("   {day}  {code} not valid"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}
