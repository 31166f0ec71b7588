//! `santei uke …` — UKE (レセプト電算) check / show / write / bench. Thin wrapper over santei-uke
//! (and santei-engine for `write`).

use clap::{Args, Subcommand};
use santei_uke::{check_path, CheckOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct UkeArgs {
    #[command(subcommand)]
    cmd: UkeCmd,
}

#[derive(Subcommand)]
enum UkeCmd {
    /// Check files: structure, arithmetic, and (with a master store) codes. Exit 1 on errors.
    Check {
        files: Vec<PathBuf>,
        /// JSON report: {"files": [{"path","receipts","total_points","errors","warnings"}]}.
        #[arg(long)]
        json: bool,
        /// Master store for code checks [default: the default data directory's store, if any]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Benchmark: generate a synthetic file of N lines in a temp dir and time the checker.
        #[arg(long, value_name = "LINES")]
        bench: Option<u64>,
    },
    /// Show receipts in a readable form.
    Show {
        file: PathBuf,
        /// Only receipt N (レセプト番号 order, 1-based).
        #[arg(long)]
        receipt: Option<usize>,
        #[arg(long)]
        json: bool,
        /// Master store for item names [default: the default data directory's store, if any]
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write claim files from patient-month JSON inputs (calc format + insurance/kouhi):
    /// DIR/shaho/RECEIPTC.UKE (支払基金) and DIR/kokuho/RECEIPTC.UKE (国保連), as needed.
    Write {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// 診療年月 YYYY-MM (every input must be of this month; 請求年月 = the month after).
        #[arg(long)]
        month: String,
        /// Output directory.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// Master store directory (default: $SANTEI_DATA, else ~/.local/share/santei).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Use the small sample master bundled with santei.
        #[arg(long, conflicts_with = "data_dir")]
        sample: bool,
    },
}

fn write(inputs: &[PathBuf], month: &str, out: &std::path::Path, data_dir: Option<PathBuf>, sample: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ym = santei_core::date::YearMonth::parse_iso(month).ok_or_else(|| format!("--month {month:?}: YYYY-MM 形式ではありません — not YYYY-MM"))?;
    let store = if sample {
        santei_master::sample::store()?
    } else {
        santei_master::Store::open(&data_dir.unwrap_or_else(santei_master::store::default_data_dir))?
    };
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut failed = false;
    for f in inputs {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: 読めません — cannot read: {e}", f.display()))?;
        match santei_engine::PatientMonthInput::from_json(&text, &f.display().to_string()) {
            Ok(i) => parsed.push(i),
            Err(errs) => {
                failed = true;
                for e in errs {
                    eprintln!("santei uke write: {e}");
                }
            }
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    let claims = match santei_engine::claim_files(&store, &parsed, ym) {
        Ok(c) => c,
        Err(e) => {
            for err in &e.errors {
                eprintln!("santei uke write: {err}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    for w in &claims.warnings {
        eprintln!("santei uke write: warning: {w}");
    }
    for (office, cf) in &claims.files {
        let bytes = match santei_uke::write_file(cf) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("santei uke write: {e}");
                return Ok(ExitCode::from(1));
            }
        };
        let dir = out.join(office.dir_name());
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: 作成できません — cannot create: {e}", dir.display()))?;
        let path = dir.join("RECEIPTC.UKE");
        santei_uke::write_atomic(&path, &bytes).map_err(|e| format!("{}: 書けません — cannot write: {e}", path.display()))?;
        println!("{}: {} receipts, {} claims, {} points", path.display(), cf.receipts.len(), cf.go.total_count.as_str(), cf.go.total_points.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: UkeArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match a.cmd {
        UkeCmd::Write { inputs, month, out, data_dir, sample } => write(&inputs, &month, &out, data_dir, sample),
        UkeCmd::Check { files, json, data_dir, bench } => {
            if let Some(lines) = bench {
                let dir = std::env::temp_dir().join(format!("santei-uke-bench-{}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                let r = santei_uke::bench::run(&dir, lines);
                let _ = std::fs::remove_dir_all(&dir);
                let r = r?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&r)?);
                } else {
                    println!(
                        "{} lines, {} receipts, {} bytes in {:.3} s: {:.1} MB/s, {:.0} receipts/s ({} errors)",
                        r.lines, r.receipts, r.bytes, r.seconds, r.mb_per_s, r.receipts_per_s, r.errors
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            if files.is_empty() {
                return Err("no input files".into());
            }
            let catalog = crate::catalog::open(data_dir.as_ref())?;
            if catalog.is_none() {
                eprintln!("santei: マスターストアがないため、コードの照合を省略します / no master store: code checks skipped (import one with `santei master import`)");
            }
            let opts = CheckOptions { catalog: catalog.as_ref().map(|c| c as &dyn santei_uke::CodeCatalog) };
            let reports: Vec<_> = files.iter().map(|f| check_path(f, &opts)).collect();
            let any_err = reports.iter().any(|r| !r.ok());
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "files": reports }))?);
            } else {
                for r in &reports {
                    println!("{}: {} receipts, {} points, {} errors, {} warnings", r.path, r.receipts, r.total_points, r.error_count, r.warnings.len());
                    for d in r.errors.iter().chain(r.warnings.iter()) {
                        println!("  {d}");
                    }
                }
            }
            Ok(if any_err { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        UkeCmd::Show { file, receipt, json, data_dir } => {
            let bytes = std::fs::read(&file)?;
            let (cf, diags) = santei_uke::read_bytes(&bytes).map_err(|d| format!("{}: {d}", file.display()))?;
            let selected: Vec<_> = match receipt {
                Some(n) => cf.receipts.get(n.wrapping_sub(1)).into_iter().collect(),
                None => cf.receipts.iter().collect(),
            };
            if receipt.is_some() && selected.is_empty() {
                return Err(format!("receipt {} not found ({} receipts)", receipt.unwrap_or(0), cf.receipts.len()).into());
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "ir": cf.ir, "receipts": selected, "go": cf.go }))?);
            } else {
                let catalog = crate::catalog::open(data_dir.as_ref())?;
                for r in selected {
                    print!("{}", santei_uke::show::render_receipt(&cf.ir, r, catalog.as_ref().map(|c| c as &dyn santei_uke::CodeCatalog)));
                }
                println!("GO 総件数 {} 総合計点数 {}", cf.go.total_count.as_str(), cf.go.total_points.as_str());
                let n = diags.iter().filter(|d| d.is_error()).count();
                if n > 0 {
                    eprintln!("({n} errors found while reading; run `santei uke check` for details)");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: UkeArgs,
    }

    fn run_args(args: &[&str]) -> ExitCode {
        let t = T::try_parse_from(std::iter::once("uke").chain(args.iter().copied())).expect("args");
        run(t.a).expect("run")
    }

    #[test]
    fn exit_status_follows_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.UKE");
        let text = "IR,1,13,1,1234567,,テスト,202506,00,\r\nRE,1,1112,202505,山田　太郎,1,19800115,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n\
HO,01130012,1,1,1,291,,,,,,,,,\r\nSY,4659007,20250508,1,,,01,\r\nSI,11,1,111000110,,291,1,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,,,,,,,,\r\nGO,1,291,99\r\n\u{1A}";
        std::fs::write(&good, santei_core::sjis::encode(text).unwrap()).unwrap();
        assert_eq!(run_args(&["check", good.to_str().unwrap(), "--json"]), ExitCode::SUCCESS);
        let bad = dir.path().join("bad.UKE");
        std::fs::write(&bad, santei_core::sjis::encode(&text.replace("GO,1,291", "GO,1,292")).unwrap()).unwrap();
        assert_eq!(run_args(&["check", good.to_str().unwrap(), bad.to_str().unwrap()]), ExitCode::from(1));
        assert_eq!(run_args(&["show", good.to_str().unwrap(), "--receipt", "1"]), ExitCode::SUCCESS);
    }
}
