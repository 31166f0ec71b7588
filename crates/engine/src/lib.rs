//! santei-engine — the orchestration layer: one patient-month JSON in, points (santei-calc), the
//! per-visit window copay (santei-copay) and UKE claim files (santei-uke) out. The CLI
//! (`santei calc`, `santei uke write`) and the service call this crate; the engines themselves
//! stay independent of each other.
//!
//! # API
//!
//! ```text
//! // one patient-month
//! PatientMonthInput::from_json(text, source) -> Result<PatientMonthInput, Vec<InputError>>
//! PatientMonthInput::from_value(&serde_json::Value, source) -> Result<PatientMonthInput, Vec<InputError>>
//! compute(store: &Store, input: &PatientMonthInput) -> Result<Computed, EngineError>
//! compute_json(store: &Store, text: &str) -> Result<Computed, EngineError>
//! compute_value(store: &Store, v: &serde_json::Value) -> Result<Computed, EngineError>
//! Computed { outcome: santei_calc::Outcome, copay: Option<CopayOutcome>, warnings: Vec<String> }
//! Computed::to_json(explain) -> serde_json::Value   // calc JSON + "copay": {"visits": [{"date","yen"}], "month_total_yen"}
//!
//! // claims (UKE)
//! claims(store, inputs: &[PatientMonthInput], month: YearMonth) -> Result<Vec<(PayerOffice, Vec<u8>)>, EngineError>
//! claim_files(store, inputs, month) -> Result<Claims, EngineError>   // typed models + warnings, before writing
//! PayerOffice::{Shaho, Kokuho}  .code() "1"/"2" (IR 審査支払機関, 別表1), .dir_name() "shaho"/"kokuho"
//! ```
//!
//! Errors are `EngineError { errors: Vec<santei_core::InputError> }`: every problem, bilingual,
//! naming its field (`insurance.insurer`, `kouhi[0].futansha`, `visits[1].orders[0].days` …).
//! Warnings (bad check digits, unknown 法別 …) never stop a calculation.

// `InputError` (santei-core) is the project-wide bilingual error; it is large by design.
#![allow(clippy::result_large_err)]

pub mod claims;
pub mod copay;
pub mod input;
pub mod tables;

pub use claims::{claim_files, claims, Claims, PayerOffice};
pub use copay::{CopayOutcome, VisitYen};
pub use input::{Diagnosis, InsuranceInput, KouhiInput, PatientMonthInput, Relation};

use santei_core::InputError;
use santei_master::Store;

/// Every problem found in the input (or by an engine), bilingual and field-named.
#[derive(Debug, Clone)]
pub struct EngineError {
    pub errors: Vec<InputError>,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EngineError {}

impl From<Vec<InputError>> for EngineError {
    fn from(errors: Vec<InputError>) -> Self {
        EngineError { errors }
    }
}

impl From<InputError> for EngineError {
    fn from(e: InputError) -> Self {
        EngineError { errors: vec![e] }
    }
}

/// Points and (when a payer is present) the window copay of one patient-month.
#[derive(Debug, Clone)]
pub struct Computed {
    pub outcome: santei_calc::Outcome,
    pub copay: Option<CopayOutcome>,
    /// Non-fatal findings of the orchestration (check digits, unknown 法別, …), bilingual text.
    pub warnings: Vec<String>,
}

impl Computed {
    /// The `santei calc --json` shape plus `"copay": {"visits": [{"date", "yen"}], "month_total_yen"}`
    /// when the input has insurance or 公費 data (and `"engine_warnings"` when there are any).
    pub fn to_json(&self, explain: bool) -> serde_json::Value {
        let mut v = self.outcome.to_json(explain);
        if let (Some(c), Some(o)) = (&self.copay, v.as_object_mut()) {
            o.insert("copay".into(), c.to_json());
            if !self.warnings.is_empty() {
                o.insert("engine_warnings".into(), serde_json::json!(self.warnings));
            }
        }
        v
    }
}

fn calc_errors(e: santei_calc::CalcError) -> EngineError {
    EngineError { errors: e.errors }
}

/// Points (santei-calc) and, when the input has insurance or 公費, the per-visit window copay.
pub fn compute(store: &Store, input: &PatientMonthInput) -> Result<Computed, EngineError> {
    let outcome = santei_calc::calculate(store, &input.calc).map_err(calc_errors)?;
    finish(input, outcome)
}

/// Same as [`compute`] with a prepared calc engine (many inputs on one store).
pub fn compute_with(engine: &santei_calc::Engine, input: &PatientMonthInput) -> Result<Computed, EngineError> {
    let outcome = engine.calculate(&input.calc).map_err(calc_errors)?;
    finish(input, outcome)
}

fn finish(input: &PatientMonthInput, outcome: santei_calc::Outcome) -> Result<Computed, EngineError> {
    let mut warnings = Vec::new();
    let copay = if input.has_payer() { Some(copay::window_copay(input, &outcome, &mut warnings)?) } else { None };
    Ok(Computed { outcome, copay, warnings })
}

/// [`compute`] from a parsed JSON value (the service's entry point).
pub fn compute_value(store: &Store, v: &serde_json::Value) -> Result<Computed, EngineError> {
    let input = PatientMonthInput::from_value(v, "input")?;
    compute(store, &input)
}

/// [`compute`] from JSON text.
pub fn compute_json(store: &Store, text: &str) -> Result<Computed, EngineError> {
    let input = PatientMonthInput::from_json(text, "input")?;
    compute(store, &input)
}
