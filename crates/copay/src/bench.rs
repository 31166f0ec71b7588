//! Benchmark of the monthly split on typical cases (1–2 bills, ≤ 1 公費): `santei copay --bench N`.

use crate::model::{AgeClass, Bill, Care, IncomeClass, KouhiPayer, Patient};
use crate::params::Params;
use crate::split::split;
use santei_core::date::YearMonth;
use santei_core::InputError;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct BenchReport {
    pub splits: u64,
    pub seconds: f64,
    pub splits_per_second: f64,
    /// Sum of every patient total (keeps the work observable).
    pub checksum: i64,
}

/// The typical-case mix: 8 patients (under-70 ア–オ, 70–74 一般/現役並み, 75+ 一般Ⅱ), half with 公費.
pub fn typical_cases() -> Vec<(Patient, Vec<Bill>)> {
    let month = YearMonth::new(2024, 6).expect("valid");
    let p = |age, inc, rate, care| Patient {
        month,
        age_class: age,
        income_class: Some(inc),
        copay_rate_percent: rate,
        care,
        multiple_high_cost: false,
        reached_75_this_month: false,
        hairyo_sochi: false,
        tokutei_shippei_cap_yen: None,
    };
    let k54 = KouhiPayer { houbetsu: 54, rate_percent: Some(20), monthly_cap_yen: Some(10000), paid_elsewhere_yen: 0 };
    let k21 = KouhiPayer { houbetsu: 21, rate_percent: Some(10), monthly_cap_yen: Some(5000), paid_elsewhere_yen: 0 };
    vec![
        (p(AgeClass::Under70, IncomeClass::U, 30, Care::Outpatient), vec![Bill::insurance_only(1234)]),
        (p(AgeClass::Under70, IncomeClass::A, 30, Care::Inpatient), vec![Bill::insurance_only(95_000)]),
        (p(AgeClass::Under70, IncomeClass::E, 30, Care::Inpatient), vec![Bill::with_kouhi(30_000, k54.clone()), Bill::insurance_only(12_000)]),
        (p(AgeClass::Under70, IncomeClass::O, 30, Care::Outpatient), vec![Bill::with_kouhi(2_500, k21.clone())]),
        (p(AgeClass::From70To74, IncomeClass::Ippan, 20, Care::Outpatient), vec![Bill::insurance_only(8_000)]),
        (p(AgeClass::From70To74, IncomeClass::GenekiI, 30, Care::Inpatient), vec![Bill::with_kouhi(20_000, k54), Bill::insurance_only(500)]),
        (p(AgeClass::From75, IncomeClass::Ippan, 10, Care::Outpatient), vec![Bill::insurance_only(3_100)]),
        (p(AgeClass::From75, IncomeClass::IppanII, 20, Care::Outpatient), vec![Bill::with_kouhi(4_000, k21), Bill::insurance_only(6_000)]),
    ]
}

/// Run `n` monthly splits over the typical mix on one thread. Month parameters are resolved once
/// (as a batch over one month does), the rest — preparing, limits, 公費, result — every time.
pub fn run(params: &Params, n: u64) -> Result<BenchReport, InputError> {
    let cases = typical_cases();
    let mp = params.month(cases[0].0.month)?;
    let reg = &params.kouhi;
    let mut checksum = 0i64;
    let t = Instant::now();
    for i in 0..n {
        let (p, b) = &cases[(i % cases.len() as u64) as usize];
        let s = split(&mp, reg, p, std::hint::black_box(b), None)?;
        checksum = checksum.wrapping_add(s.patient_total_yen);
    }
    let seconds = t.elapsed().as_secs_f64();
    Ok(BenchReport { splits: n, seconds, splits_per_second: if seconds > 0.0 { n as f64 / seconds } else { f64::INFINITY }, checksum })
}
