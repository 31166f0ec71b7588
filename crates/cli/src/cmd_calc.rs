//! `santei calc FILE.json [--json] [--explain] [--data-dir D | --sample] [--bench N]`.
//! Points from santei-calc; with `insurance` / `kouhi` in the input, the per-visit window copay
//! too (santei-engine; `"copay"` in the JSON).

use clap::Args;
use santei_engine::PatientMonthInput;
use santei_master::Store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CalcArgs {
    /// One patient-month as JSON (see crates/calc/README.md). Not needed with --bench.
    pub file: Option<PathBuf>,
    /// Print the result as JSON (units, day and visit points, warnings).
    #[arg(long)]
    pub json: bool,
    /// Show which rule and which master row (file:line) produced each line.
    #[arg(long)]
    pub explain: bool,
    /// Master store directory (default: $SANTEI_DATA, else ~/.local/share/santei).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Use the small sample master bundled with santei instead of a data directory.
    #[arg(long, conflicts_with = "data_dir")]
    pub sample: bool,
    /// Benchmark: calculate N generated typical patient-months on one thread and report the rate.
    #[arg(long, value_name = "N")]
    pub bench: Option<usize>,
}

fn open_store(a: &CalcArgs) -> Result<Store, Box<dyn std::error::Error>> {
    if a.sample {
        return Ok(santei_master::sample::store()?);
    }
    let dir = a.data_dir.clone().unwrap_or_else(santei_master::store::default_data_dir);
    Ok(Store::open(&dir)?)
}

pub fn run(a: CalcArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let store = open_store(&a)?;
    if let Some(n) = a.bench {
        // Warm-up (parses the embedded tables, faults the store in), then the timed runs: with the
        // arithmetic in `explain.detail` (the default of `santei calc`) and without it.
        let full = santei_calc::Options::default();
        let lean = santei_calc::Options { detail: false };
        santei_calc::bench::run(&store, 1000.min(n), 1000, full)?;
        for (label, opts) in [("detail", full), ("no-detail", lean)] {
            let r = santei_calc::bench::run(&store, n, 1000, opts)?;
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"mode": label, "patient_months": r.patient_months, "seconds": r.elapsed.as_secs_f64(), "per_second": r.per_second, "cpu_seconds": r.cpu.map(|c| c.as_secs_f64()), "per_cpu_second": r.per_cpu_second, "points": r.points, "units": r.units})
                );
            } else {
                println!(
                    "calc bench ({label}): {} patient-months in {:.3} s wall = {:.0} /s; thread CPU {:.3} s = {:.0} /s per core ({} units, {} points)",
                    r.patient_months,
                    r.elapsed.as_secs_f64(),
                    r.per_second,
                    r.cpu.map(|c| c.as_secs_f64()).unwrap_or(f64::NAN),
                    r.per_cpu_second.unwrap_or(f64::NAN),
                    r.units,
                    r.points
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = &a.file else {
        return Err("santei calc: FILE.json が必要です — a FILE.json argument is required".into());
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: 読めません — cannot read: {e}", file.display()))?;
    let source = file.display().to_string();
    let input = match PatientMonthInput::from_json(&text, &source) {
        Ok(i) => i,
        // JSON that does not parse (or does not fit the calc format) is a usage error, as before.
        Err(errs) if errs.iter().any(|e| e.code == "E000") => {
            return Err(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n").into());
        }
        Err(errs) => {
            for err in &errs {
                eprintln!("santei calc: {err}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    match santei_engine::compute(&store, &input) {
        Ok(out) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&out.to_json(a.explain))?);
            } else {
                print!("{}", out.outcome.render_text(a.explain));
                if let Some(c) = &out.copay {
                    println!("窓口負担 / copay at the window (負担 {}%):", c.patient.copay_rate_percent);
                    for v in &c.visits {
                        println!("  {}  {}円", v.date, santei_copay::split::format_yen(v.yen));
                    }
                    println!("  月計 / month total  {}円{}", santei_copay::split::format_yen(c.month_total_yen), if c.ceiling_applied { "（高額療養費の限度額適用 / ceiling applied）" } else { "" });
                }
            }
            for w in &out.warnings {
                eprintln!("santei calc: {}: {w}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for err in &e.errors {
                eprintln!("santei calc: {}: {err}", file.display());
            }
            Ok(ExitCode::from(1))
        }
    }
}
