//! `santei master …` — import SSK masters and query codes by date.

use clap::{Args, Subcommand};
use santei_core::date::{parse_iso, Date};
use santei_master::model::Entry;
use santei_master::{store, Kind, Store};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct MasterArgs {
    #[command(subcommand)]
    cmd: MasterCmd,
    /// Data directory holding the compiled store [default: $SANTEI_DATA, else ~/.local/share/santei]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum MasterCmd {
    /// Build the compiled store from master files, directories or official .zip files
    /// (complete masters and 変更分 diffs, in any order). Atomic: on error the old store stays.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print what was loaded as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one code as of a date
    Show {
        code: String,
        /// Date of care, YYYY-MM-DD [default: today]
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Search names (漢字 or カナ; full/half width and ひらがな/カタカナ folded)
    Search {
        text: String,
        /// procedure | drug | material | comment | disease | modifier
        #[arg(long)]
        kind: Option<String>,
        /// Only versions valid on this date (YYYY-MM-DD)
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Every version of a code with its dates
    History {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Counts per kind and the date range covered
    Stats {
        #[arg(long)]
        json: bool,
    },
}

type R = Result<ExitCode, Box<dyn std::error::Error>>;

pub fn data_dir(d: Option<PathBuf>) -> PathBuf {
    d.unwrap_or_else(store::default_data_dir)
}

fn parse_date(s: Option<&str>) -> Result<Date, String> {
    match s {
        None => Ok(chrono::Local::now().date_naive()),
        Some(s) => parse_iso(s).ok_or_else(|| format!("日付「{s}」が不正です(YYYY-MM-DD) / invalid date '{s}' (expected YYYY-MM-DD)")),
    }
}

pub fn run(a: MasterArgs) -> R {
    let dir = data_dir(a.data_dir);
    match a.cmd {
        MasterCmd::Import { paths, json } => import(&dir, &paths, json),
        MasterCmd::Show { code, date, json } => {
            let date = parse_date(date.as_deref())?;
            let st = Store::open(&dir)?;
            match st.get_owned(&code, date) {
                Some(owned) => {
                    let e = owned.as_entry();
                    if json {
                        println!("{}", serde_json::to_string_pretty(&entry_json(&st, e))?);
                    } else {
                        print_entry(&st, e);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    let any = !st.history(&code).is_empty();
                    if any {
                        eprintln!("santei: コード{code}は{date}に有効ではありません(`santei master history {code}` で有効期間を確認できます) / code {code} is not valid on {date}");
                    } else {
                        eprintln!("santei: コード{code}はマスターにありません / code {code} is not in the master");
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
        MasterCmd::Search { text, kind, date, limit, json } => {
            let kind = match kind.as_deref() {
                None => None,
                Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                    format!("種類「{k}」は不正です / unknown kind '{k}' (procedure, drug, material, comment, disease, modifier)")
                })?),
            };
            let date = match date.as_deref() {
                None => None,
                Some(d) => Some(parse_date(Some(d))?),
            };
            let st = Store::open(&dir)?;
            let hits = st.search(&text, kind, date, limit);
            if json {
                let v: Vec<Value> = hits.iter().map(|e| entry_json(&st, *e)).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for e in &hits {
                    let c = e.common();
                    println!("{}  {:<9}  {}  {}  [{} … {}]", c.code, e.kind().as_str(), c.name, value_text(*e), c.valid_from, end(c.valid_to));
                }
                eprintln!("{}件 / {} hit(s)", hits.len(), hits.len());
            }
            Ok(if hits.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        MasterCmd::History { code, json } => {
            let st = Store::open(&dir)?;
            let h = st.history(&code);
            if h.is_empty() {
                eprintln!("santei: コード{code}はマスターにありません / code {code} is not in the master");
                return Ok(ExitCode::from(1));
            }
            if json {
                let v: Vec<Value> = h.iter().map(|e| entry_json(&st, *e)).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for e in &h {
                    let c = e.common();
                    println!(
                        "{} … {}  {}  {}  (変更区分 {}; {}:{})",
                        c.valid_from,
                        end(c.valid_to),
                        c.name,
                        value_text(*e),
                        c.change,
                        st.source_name(c.source),
                        c.source.line
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        MasterCmd::Stats { json } => {
            let st = Store::open(&dir)?;
            let s = st.stats();
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                for k in &s.kinds {
                    println!("{:<10} {:>7} codes {:>7} versions", k.kind.as_str(), k.codes, k.versions);
                }
                println!("comment relations {}", s.comment_relations);
                for (t, n) in &s.tensuhyo {
                    println!("電子点数表 {t}: {n}");
                }
                if let (Some(a), Some(b)) = (s.earliest_change, s.latest_change) {
                    println!("変更年月日 {a} … {b} ({} source files)", s.sources);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn import(dir: &std::path::Path, paths: &[PathBuf], json: bool) -> R {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(1);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let progress = |done: usize, total: usize, name: &str| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
            b.set_message(name.rsplit('/').next().unwrap_or(name).to_string());
        }
    };
    let t0 = std::time::Instant::now();
    let built = santei_master::import::build(paths, Some(&progress));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (snap, report) = built?;
    let path = snap.save(dir)?;
    let st = Store::from_snapshot(snap);
    let stats = st.stats();
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"store": path, "files": report.files, "skipped": report.skipped, "stats": stats}))?);
    } else {
        for f in &report.files {
            println!("{:>7} rows  {:<26} {}{}", f.rows, f.kind, f.name, if f.diff { "  (変更分)" } else { "" });
        }
        for s in &report.skipped {
            println!("skipped (not a master file): {s}");
        }
        for k in &stats.kinds {
            println!("{:<10} {:>7} codes {:>7} versions", k.kind.as_str(), k.codes, k.versions);
        }
        println!("store: {} ({:.2}s)", path.display(), t0.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

fn end(d: Date) -> String {
    if d == santei_core::date::OPEN_END {
        "—".into()
    } else {
        d.to_string()
    }
}

fn value_text(e: Entry) -> String {
    match e {
        Entry::Procedure(p) => match p.point_kind {
            1 => format!("{}円", p.points),
            5 | 6 => format!("{}%", p.points),
            _ => format!("{}点", p.points.normalize()),
        },
        Entry::Drug(d) => format!("{}円/{}", d.price, d.unit_name),
        Entry::Material(m) => format!("{}円/{}", m.price, m.unit_name),
        _ => String::new(),
    }
}

fn print_entry(st: &Store, e: Entry) {
    let c = e.common();
    println!("{} {} ({})", c.code, c.name, e.kind().as_str());
    println!("  有効期間 valid: {} … {}", c.valid_from, end(c.valid_to));
    let v = value_text(e);
    if !v.is_empty() {
        println!("  {v}");
    }
    println!("  出典 source: {}:{} (変更区分 {})", st.source_name(c.source), c.source.line, c.change);
}

/// The `master show --json` contract (rendering shared with the service: see
/// `santei_master::json`).
pub fn entry_json(st: &Store, e: Entry) -> Value {
    santei_master::json::entry_json(st, e)
}
