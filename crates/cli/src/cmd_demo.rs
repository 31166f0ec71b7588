//! `santei demo` — the main job on built-in sample data: no network, no ../shared.
//!
//! sample master → compiled store → one patient-month (the DOMAIN.md §5.5 example: 初診 + 再診,
//! ロキソニン 院内処方, 協会けんぽ 本人 3割) → points with provenance → window copay → UKE claim file
//! → UKE check.

use clap::Args;
use santei_core::date::{parse_iso, YearMonth};
use santei_engine::PatientMonthInput;
use santei_master::{sample, Store};
use std::process::ExitCode;

/// The example patient-month, embedded (also the input of the byte-for-byte UKE test).
const MONTH: &str = include_str!("../../engine/tests/data/handmade_202505.json");

#[derive(Args)]
pub struct DemoArgs {
    /// Also print the explanation (rule and master row) of every line
    #[arg(long)]
    explain: bool,
}

pub fn run(a: DemoArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("santei-demo-{}", std::process::id()));
    let result = demo(&dir, a.explain);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn demo(dir: &std::path::Path, explain: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    println!("== 1. 共通算定マスタ: sample master (real SSK rows, official format) → compiled store");
    let path = sample::snapshot()?.save(&dir.join("data"))?;
    let st = Store::open(&dir.join("data"))?;
    println!("   {}", path.display());
    for k in st.stats().kinds {
        println!("   {:<10} {:>3} codes {:>3} versions", k.kind.as_str(), k.codes, k.versions);
    }
    println!("   What was code X on date D (令和6年度改定 on 2024-06-01):");
    for (code, day) in [("111000110", "2024-05-31"), ("111000110", "2024-06-01"), ("112007410", "2024-05-31"), ("112007410", "2024-06-01")] {
        let date = parse_iso(day).ok_or("bad date")?;
        match st.procedure(code, date) {
            Some(p) => println!("   {day}  {code} {:<8} {:>4}点  (from {}:{})", p.common.name, p.points.normalize(), st.source_name(p.common.source), p.common.source.line),
            None => println!("   {day}  {code} not valid"),
        }
    }

    println!("\n== 2. 計算ロジック: one patient-month (2025-05, 初診 + 再診, 院内処方, 協会けんぽ 本人 3割)");
    let input = PatientMonthInput::from_json(MONTH, "demo").map_err(|e| e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n"))?;
    let computed = santei_engine::compute(&st, &input)?;
    print!("{}", computed.outcome.render_text(explain));
    if let Some(c) = &computed.copay {
        println!("窓口負担 (一部負担金, 10円未満四捨五入 per visit)");
        for v in &c.visits {
            println!("  {}  {}円", v.date, v.yen);
        }
        println!("  月合計 {}円", c.month_total_yen);
    }

    println!("\n== 3. データの標準化: UKE claim file (レセプト電算) and its check");
    let month = YearMonth::parse_iso("2025-05").ok_or("bad month")?;
    for (office, bytes) in santei_engine::claims(&st, std::slice::from_ref(&input), month)? {
        let file = dir.join(format!("{}.UKE", office.dir_name()));
        santei_uke::write_atomic(&file, &bytes)?;
        let text = santei_core::sjis::decode(&bytes, "demo")?;
        for line in text.lines().map(|l| l.trim_end_matches('\u{1a}')).filter(|l| !l.is_empty()) {
            println!("   {line}");
        }
        let catalog = santei_uke::StoreCatalog::new(&st);
        let report = santei_uke::check_bytes(&bytes, &file.display().to_string(), &santei_uke::CheckOptions { catalog: Some(&catalog) });
        println!("   check: {} receipts, {} points, {} errors, {} warnings", report.receipts, report.total_points, report.error_count, report.warnings.len());
    }
    Ok(ExitCode::SUCCESS)
}
