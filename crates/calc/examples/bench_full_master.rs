//! Benchmark on the full SSK master read in place from ../shared (not the sample):
//! `cargo run --release -p santei-calc --example bench_full_master [N]`.
//! Builds the store in memory (import is not timed), then times `calculate` on one thread.

use santei_master::input::InputFile;
use santei_master::Store;

fn main() {
    let Some(shared) = santei_core::shared::dir() else {
        return;
    };
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let ssk = shared.join("data/ssk");
    let names = ["s_ALL20240201.csv", "s_ALL20240531.csv", "y_ALL20240531.csv", "t_ALL20240315.csv"];
    let files = names
        .iter()
        .map(|f| InputFile {
            name: f.to_string(),
            bytes: std::fs::read(ssk.join(f)).expect("read master"),
        })
        .collect();
    let t0 = std::time::Instant::now();
    let (snap, _) = santei_master::import::build_files(files, None).expect("import");
    let store = Store::from_snapshot(snap);
    eprintln!(
        "master built in {:.1} s ({} procedure versions, {} drug versions)",
        t0.elapsed().as_secs_f64(),
        store.procedures().len(),
        store.drugs().len()
    );
    for (label, opts) in [
        ("detail", santei_calc::Options::default()),
        ("no-detail", santei_calc::Options { detail: false }),
    ] {
        santei_calc::bench::run(&store, 1000, 1000, opts).expect("warm-up");
        let r = santei_calc::bench::run(&store, n, 1000, opts).expect("bench");
        println!(
            "full master, {label}: {} patient-months in {:.3} s wall = {:.0} /s; thread CPU {:.3} s = {:.0} /s per core ({} units)",
            r.patient_months,
            r.elapsed.as_secs_f64(),
            r.per_second,
            r.cpu.map(|c| c.as_secs_f64()).unwrap_or(f64::NAN),
            r.per_cpu_second.unwrap_or(f64::NAN),
            r.units
        );
    }
}
