//! Benchmarks of the master store (run with `santei bench master --data-dir D -- PATHS…`).
//! Figures go to BENCHMARKS.md; targets are checked here, never in timed unit tests.

use crate::store::Store;
use crate::Kind;
use santei_core::date::Date;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, serde::Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Option<String>,
}

fn best_of<F: FnMut()>(n: usize, mut f: F) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..n {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    best
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Import `paths` into `dir` (best of `runs`), then time opening and lookups.
pub fn run(paths: &[PathBuf], dir: &Path, runs: usize) -> Result<Vec<Figure>, santei_core::InputError> {
    let mut out = Vec::new();
    let mut err = None;
    let import = best_of(runs, || match crate::import::build(paths, None).and_then(|(s, _)| s.save(dir)) {
        Ok(_) => {}
        Err(e) => err = Some(e),
    });
    if let Some(e) = err {
        return Err(e);
    }
    out.push(Figure { name: "full import (parse, merge, compile, write)".into(), value: ms(import), unit: "ms", target: Some("≤ 2000 ms".into()) });

    let open = best_of(runs, || {
        let _ = Store::open(dir);
    });
    out.push(Figure { name: "open store (read + CRC check)".into(), value: ms(open), unit: "ms", target: Some("≤ 100 ms".into()) });

    for (kind, name) in [(Kind::Procedure, "procedures"), (Kind::Drug, "drugs"), (Kind::Disease, "diseases")] {
        let t = best_of(runs, || {
            if let Ok(st) = Store::open(dir) {
                let n = match kind {
                    Kind::Procedure => st.procedures().len(),
                    Kind::Drug => st.drugs().len(),
                    _ => st.diseases().len(),
                };
                std::hint::black_box(n);
            }
        });
        out.push(Figure { name: format!("open + decode {name} table"), value: ms(t), unit: "ms", target: None });
    }

    let st = Store::open(dir)?;
    let codes: Vec<String> = st.procedures().iter().map(|p| p.common.code.clone()).collect();
    let date = Date::from_ymd_opt(2024, 6, 1).unwrap_or(santei_core::date::OPEN_END);
    let n = 1_000_000usize;
    let t = Instant::now();
    let mut found = 0usize;
    for i in 0..n {
        if let Some(c) = codes.get((i * 7919) % codes.len().max(1)) {
            if st.procedure(c, date).is_some() {
                found += 1;
            }
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e9 / n as f64;
    std::hint::black_box(found);
    out.push(Figure { name: format!("code-at-date lookup (procedure, {} codes)", codes.len()), value: per, unit: "ns", target: Some("≤ 1000 ns".into()) });
    Ok(out)
}
