//! santei-calc — the outpatient points engine (共通算定モジュール 計算ロジック (1)).
//!
//! Orders in, UKE-ready 点数・回数算定単位 out. Points and prices come from the master
//! ([`santei_master::Store`]) on the date of service; the few mappings the master lacks live in
//! dated data files (`data/rules.toml`, `data/holidays.toml`). See `crates/calc/README.md`.
//!
//! ```no_run
//! let store = santei_master::sample::store().unwrap();
//! let input = santei_calc::PatientMonth::from_json("{…}").unwrap();
//! let out = santei_calc::calculate(&store, &input).unwrap();
//! println!("{}", out.total_points);
//! ```

pub mod bench;
pub mod engine;
pub mod index;
pub mod input;
pub mod output;
pub mod rules;
pub mod tables;

pub use engine::{calculate, calculate_with, CalcError, Options};
pub use index::{Engine, Index};
pub use input::PatientMonth;
pub use output::{DayPoints, Explain, Line, LineKind, Outcome, Unit, VisitPoints, Warning};
