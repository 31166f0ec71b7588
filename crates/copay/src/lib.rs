//! santei-copay — the patient copay engine: 負担割合, 高額療養費 and 公費, for the month
//! ([`Engine::split`]) and at the window ([`window::window`]).
//!
//! Every rate, ceiling and date lives in `params/*.toml` (effective-dated, embedded at build time);
//! the code holds only the rules. Money is integer yen. See `README.md` in this crate.

// `InputError` (santei-core) is the project-wide bilingual error; it is large by design.
#![allow(clippy::result_large_err)]

pub mod age;
pub mod bench;
pub mod case;
pub mod checks;
pub mod kouhi;
pub mod model;
pub mod params;
pub mod split;
pub mod window;

pub use case::{parse_case, split_to_json, CaseInput};
pub use model::{AgeClass, Bill, Care, IncomeClass, KouhiPayer, Patient};
pub use params::{MonthParams, Params};
pub use split::{PayerAmount, PayerId, Split};

use santei_core::InputError;

/// The engine: parameters plus convenience entry points. `Send + Sync`; resolve a month once with
/// [`Params::month`] and call [`split::split`] / [`window::window`] directly in hot loops.
pub struct Engine {
    pub params: Params,
}

impl Engine {
    /// The engine with the parameters shipped in `params/`.
    pub fn embedded() -> Result<Self, InputError> {
        Ok(Self::new(Params::embedded()?))
    }

    pub fn new(params: Params) -> Self {
        Engine { params }
    }

    /// The month's parameters (an error when the month has none).
    pub fn month(&self, m: santei_core::date::YearMonth) -> Result<MonthParams, InputError> {
        self.params.month(m)
    }

    /// The month's split for a case. `trace` collects one line per rule applied.
    pub fn split(&self, case: &CaseInput, trace: Option<&mut Vec<String>>) -> Result<Split, InputError> {
        let mp = self.month(case.patient.month)?;
        split::check_month(&mp, &case.patient)?;
        split::split(&mp, &self.params.kouhi, &case.patient, &case.bills, trace)
    }

    /// Per-visit copay for a window request.
    pub fn window(&self, req: &window::WindowRequest) -> Result<window::WindowResult, InputError> {
        let mp = self.month(req.patient.month)?;
        window::window(&mp, &self.params.kouhi, req)
    }
}
