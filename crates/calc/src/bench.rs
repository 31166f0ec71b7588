//! Benchmark support: generate typical outpatient patient-months (2–4 visits, 6–12 orders in
//! all) from codes present in both the sample and the full master, and time `calculate`.

use crate::input::{Institution, Item, Order, Patient, PatientMonth, Visit};
use crate::{CalcError, Engine, Options};
use santei_master::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Small deterministic generator (xorshift), so runs are reproducible without a rand crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const TESTS: &[&str] = &[
    "160008010",
    "160019010",
    "160019210",
    "160019410",
    "160022510",
    "160022610",
    "160020410",
    "160054710",
    "160000310",
    "160010010",
    "160023410",
];
const PROCS: &[&str] = &["140000610", "140022710", "170027910", "113001810"];
const INTERNAL: &[&str] = &[
    "620098801",
    "610407447",
    "620002023",
    "620007853",
    "612320350",
    "613130594",
    "620000094",
    "616130531",
    "610443040",
    "610463120",
];
const EXTERNAL: &[&str] = &["620007804", "620007812", "662640418", "620009048"];

fn item(code: &str, q: i64) -> Item {
    Item {
        code: code.into(),
        quantity: Some(q.into()),
    }
}

/// A typical clinic and a generated patient-month (`seed` picks the content; month 2024-06).
pub fn generate(seed: u64) -> PatientMonth {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut posted = BTreeMap::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        posted.insert(
            d.to_string(),
            vec![("09:00".to_string(), "12:30".to_string()), ("14:00".to_string(), "18:00".to_string())],
        );
    }
    posted.insert("sat".into(), vec![("09:00".to_string(), "12:00".to_string())]);
    let institution = Institution {
        code: "1312345".into(),
        prefecture: "13".into(),
        name: "ベンチ診療所".into(),
        kind: "clinic".into(),
        beds: 0,
        posted_hours: posted,
        pharmacist: r.below(2) == 0,
    };
    let birth_year = 1940 + r.below(84) as i32;
    let patient = Patient {
        id: format!("{seed:08}"),
        name: "ベンチ 患者".into(),
        kana: "ベンチ カンジャ".into(),
        sex: "male".into(),
        birth_date: format!("{birth_year}-0{}-1{}", 1 + r.below(9), r.below(9)),
    };
    let n_visits = 2 + r.below(3) as usize;
    let mut total_orders = 6 + r.below(7) as usize;
    let mut visits = Vec::new();
    let mut day = 1 + r.below(5) as u32;
    for vi in 0..n_visits {
        let n = if vi + 1 == n_visits {
            total_orders
        } else {
            (total_orders / (n_visits - vi)).max(1)
        };
        total_orders = total_orders.saturating_sub(n);
        let mut orders = Vec::new();
        for _ in 0..n {
            let o = match r.below(10) {
                0..=3 => Order {
                    kind: "procedure".into(),
                    code: Some(r.pick(TESTS).into()),
                    ..Default::default()
                },
                4 => Order {
                    kind: "procedure".into(),
                    code: Some(r.pick(PROCS).into()),
                    ..Default::default()
                },
                5..=8 => {
                    let k = 1 + r.below(3) as usize;
                    let drugs = (0..k).map(|_| item(r.pick(INTERNAL), 1 + r.below(3) as i64)).collect();
                    Order {
                        kind: "prescription".into(),
                        dispensing: Some(if r.below(3) == 0 { "outside" } else { "in_house" }.into()),
                        category: Some("internal".into()),
                        days: Some((7 * (1 + r.below(4) as i64)).into()),
                        drugs,
                        ..Default::default()
                    }
                }
                _ => Order {
                    kind: "prescription".into(),
                    dispensing: Some("in_house".into()),
                    category: Some("external".into()),
                    drugs: vec![item(r.pick(EXTERNAL), 1 + r.below(20) as i64)],
                    ..Default::default()
                },
            };
            orders.push(o);
        }
        let hour = 8 + r.below(12);
        visits.push(Visit {
            date: format!("2024-06-{day:02}"),
            time: Some(format!("{hour:02}:{:02}", r.below(60))),
            consultation: if vi == 0 { "initial" } else { "revisit" }.into(),
            orders,
        });
        day += 3 + r.below(6) as u32;
    }
    PatientMonth {
        institution,
        patient,
        month: "2024-06".into(),
        diagnoses: Vec::new(),
        visits,
    }
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub patient_months: usize,
    pub elapsed: Duration,
    pub per_second: f64,
    /// CPU time of this thread (Linux `/proc/thread-self/schedstat`), when available: on a loaded
    /// machine wall time includes time spent waiting for a core; this does not.
    pub cpu: Option<Duration>,
    pub per_cpu_second: Option<f64>,
    /// Σ total_points, so the work cannot be optimised away (and as a sanity figure).
    pub points: i64,
    pub units: usize,
}

/// Calculate `n` generated patient-months (`distinct` different inputs, cycled) on this thread.
pub fn run(store: &Store, n: usize, distinct: usize, opts: Options) -> Result<BenchReport, CalcError> {
    let inputs: Vec<PatientMonth> = (0..distinct.max(1) as u64).map(generate).collect();
    // "Master already open": the engine's index is built before timing.
    let engine = Engine::new(store);
    let cpu0 = thread_cpu();
    let start = Instant::now();
    let (mut points, mut units) = (0i64, 0usize);
    for i in 0..n {
        let out = engine.calculate_with(&inputs[i % inputs.len()], opts)?;
        points += out.total_points;
        units += out.units.len();
    }
    let elapsed = start.elapsed();
    let cpu = match (cpu0, thread_cpu()) {
        (Some(a), Some(b)) => b.checked_sub(a),
        _ => None,
    };
    let secs = elapsed.as_secs_f64().max(1e-9);
    Ok(BenchReport {
        patient_months: n,
        elapsed,
        per_second: n as f64 / secs,
        cpu,
        per_cpu_second: cpu.map(|c| n as f64 / c.as_secs_f64().max(1e-9)),
        points,
        units,
    })
}

/// Time this thread has run on a CPU (Linux schedstat, nanoseconds); None elsewhere.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
