//! `santei copay CASE.json [--json]` — the month's split of a copay case
//! (format: ../shared/testdata/copay/README.md; a whole case or just its `input`).

use clap::Args;
use santei_copay::{parse_case, split_to_json, Engine, Params, PayerId};
use santei_core::InputError;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CopayArgs {
    /// Case file (JSON): a whole case or just its `input` object.
    #[arg(required_unless_present = "bench")]
    pub case: Option<PathBuf>,
    /// Print the result as JSON (the stable contract) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Use this parameter file instead of the embedded params/copay.toml.
    #[arg(long, value_name = "COPAY_TOML")]
    pub params: Option<PathBuf>,
    /// Treat CASE as a window request (patient fields + `visits: [{"date", "bills"}]`, optional
    /// `earlier_bills`, `already_collected_yen`) and print the per-visit copay.
    #[arg(long)]
    pub window: bool,
    /// Run N monthly splits over the typical-case mix and report the rate (one thread).
    #[arg(long, value_name = "N")]
    pub bench: Option<u64>,
}

fn load_params(p: &Option<PathBuf>) -> Result<Params, Box<dyn std::error::Error>> {
    match p {
        None => Ok(Params::embedded()?),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| InputError::new("C200", path.display().to_string(), format!("読めません: {e}"), format!("cannot read: {e}")))?;
            Ok(Params::from_toml(&text, santei_copay::params::EMBEDDED_KOUHI)?)
        }
    }
}

use santei_copay::split::format_yen as yen;

pub fn run(a: CopayArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let params = load_params(&a.params)?;
    if let Some(n) = a.bench {
        let r = santei_copay::bench::run(&params, n)?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({"splits": r.splits, "seconds": r.seconds, "splits_per_second": r.splits_per_second, "checksum": r.checksum})
            );
        } else {
            println!("{} monthly splits in {:.3} s = {:.0} splits/s (one thread; checksum {})", r.splits, r.seconds, r.splits_per_second, r.checksum);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let path = a.case.expect("required unless --bench");
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| InputError::new("C201", &file, format!("読めません: {e}"), format!("cannot read: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| InputError::new("C202", &file, format!("JSON が不正です: {e}"), format!("invalid JSON: {e}")).at_line(e.line() as u64))?;
    let engine = Engine::new(params);
    if a.window {
        let req = santei_copay::case::parse_window(&v, &file)?;
        let mp = engine.month(req.patient.month)?;
        let r = santei_copay::window::window(&mp, &engine.params.kouhi, &req)?;
        let out = santei_copay::window::result_to_json(&r);
        if a.json {
            println!("{out}");
        } else {
            if req.already_collected_yen > 0 {
                println!("{:<12} {:>10}", "collected", yen(req.already_collected_yen));
            }
            for v in &r.visits {
                println!("{:<12} {:>10}", v.date, yen(v.yen));
            }
            println!("{:<12} {:>10}", "month total", yen(r.month_total_yen));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let case = parse_case(&v, &file)?;
    let mut trace = Vec::new();
    let split = engine.split(&case, if a.json { None } else { Some(&mut trace) })?;
    for w in &split.warnings {
        eprintln!("santei: warning: {w}");
    }
    if a.json {
        println!("{}", split_to_json(&split));
        return Ok(ExitCode::SUCCESS);
    }
    let p = &case.patient;
    let cost: i64 = case.bills.iter().map(|b| b.points).sum::<i64>() * engine.month(p.month)?.yen_per_point;
    println!(
        "{}  {}  所得区分 {}  {}%  {}{}{}{}",
        p.month,
        p.age_class.code(),
        p.income_class.map(|c| c.name()).unwrap_or("(none)"),
        p.copay_rate_percent,
        match p.care {
            santei_copay::Care::Inpatient => "入院",
            santei_copay::Care::Outpatient => "外来",
        },
        if p.multiple_high_cost { "  多数回" } else { "" },
        if p.reached_75_this_month { "  75歳到達月" } else { "" },
        if p.hairyo_sochi { "  配慮措置" } else { "" },
    );
    println!("total cost {} 円\n", yen(cost));
    println!("steps:");
    for (i, t) in trace.iter().enumerate() {
        println!("  {}. {t}", i + 1);
    }
    println!();
    println!("{:<12} {:>12} {:>12} {:>16}", "payer", "charged", "pays", "remaining after");
    for pa in &split.payers {
        let charged = match pa.payer {
            PayerId::Insurance => yen(pa.charged_yen),
            PayerId::Kouhi(_) => yen(pa.charged_yen),
        };
        println!("{:<12} {:>12} {:>12} {:>16}", pa.payer.label(), charged, yen(pa.pays_yen), yen(pa.remaining_after_yen));
    }
    println!("{:<12} {:>12} {:>12}", "patient", "", yen(split.patient_total_yen));
    Ok(ExitCode::SUCCESS)
}
