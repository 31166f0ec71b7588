//! The per-visit window copay of a patient-month (issue 4 item 5) and the month's split used by
//! the claim (HO/KO 負担金額, MF, 特記事項).
//!
//! Which 負担区分 each unit gets: **every unit is billed to every payer the patient has**, in
//! priority order (insurance first, then 第1公費 …) — the common outpatient case. One copay
//! [`santei_copay::Bill`] per visit therefore carries all payers.

use crate::input::{err, PatientMonthInput};
use santei_copay::model::{AgeClass, Bill, Care, IncomeClass, KouhiPayer, Patient};
use santei_copay::split::{rate_amount, PayerId};
use santei_copay::window::{Visit, WindowRequest};
use santei_core::date::{parse_iso, Date};
use santei_core::InputError;
use std::sync::OnceLock;

/// santei-copay's embedded parameters, parsed once.
pub fn copay_engine() -> Result<&'static santei_copay::Engine, InputError> {
    static E: OnceLock<Result<santei_copay::Engine, InputError>> = OnceLock::new();
    E.get_or_init(santei_copay::Engine::embedded).as_ref().map_err(Clone::clone)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitYen {
    pub date: Date,
    pub yen: i64,
}

/// The window copay plus what the claim needs from the copay engine.
#[derive(Clone, Debug)]
pub struct CopayOutcome {
    /// One entry per calculated visit, in date order.
    pub visits: Vec<VisitYen>,
    /// already_collected_yen + Σ visits.
    pub month_total_yen: i64,
    /// The patient as given to santei-copay (age class, rate, class used at the window …).
    pub patient: Patient,
    /// 義務教育就学前 on the reference date.
    pub preschool: bool,
    /// 70歳以上 現役並み所得 (7割給付; レセプト種別 4th digit 9/0).
    pub genekinami: bool,
    /// The 公費 as given to santei-copay, in priority order.
    pub kouhi: Vec<KouhiPayer>,
    /// The 高額療養費 limit (or マル長) reduced the month's insurance copay.
    pub ceiling_applied: bool,
    /// Patient's month total under the insurance after the limit (HO 負担金額 when the limit applied).
    pub insurance_patient_yen: Option<i64>,
    /// Patient's month burden under each 公費 (KO 負担金額), in priority order.
    pub kouhi_patient_yen: Vec<i64>,
}

impl CopayOutcome {
    /// `{"visits": [{"date", "yen"}], "month_total_yen"}` (issue 4 item 5 contract).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "visits": self.visits.iter().map(|v| serde_json::json!({"date": v.date.to_string(), "yen": v.yen})).collect::<Vec<_>>(),
            "month_total_yen": self.month_total_yen,
        })
    }
}

/// Age class, rate and patient record for santei-copay, from the birth date and the month
/// (健康保険法 第74条; 高齢者医療確保法 第50条・第67条; DOMAIN §3.1), plus number checks (§4.1, §7).
pub(crate) fn window_copay(input: &PatientMonthInput, outcome: &santei_calc::Outcome, warnings: &mut Vec<String>) -> Result<CopayOutcome, Vec<InputError>> {
    let file = input.source.as_str();
    let engine = copay_engine().map_err(|e| vec![e])?;
    let params = &engine.params;
    let mut errors = Vec::new();

    // ── numbers: format errors stop; check-digit failures are warnings (DOMAIN §4.1 ⚠) ──
    if let Some(ins) = &input.insurance {
        let c = santei_copay::checks::check_insurer(params, &ins.insurer);
        if ins.insurer.bytes().all(|b| b.is_ascii_digit()) && matches!(ins.insurer.len(), 6 | 8) {
            warnings.extend(c.errors.into_iter().chain(c.warnings).map(|w| format!("insurance.insurer: {w}")));
        } else {
            errors.extend(c.errors.into_iter().map(|m| InputError::new("E050", file, m.clone(), m).field("insurance.insurer")));
        }
    }
    for (i, k) in input.kouhi.iter().enumerate() {
        let c = santei_copay::checks::check_kouhi_payer(params, &k.futansha);
        warnings.extend(c.errors.into_iter().chain(c.warnings).map(|w| format!("kouhi[{i}].futansha: {w}")));
        if !k.jukyusha.is_empty() {
            let padded = format!("{:0>7}", k.jukyusha);
            let c = santei_copay::checks::check_recipient(&padded);
            warnings.extend(c.errors.into_iter().chain(c.warnings).map(|w| format!("kouhi[{i}].jukyusha: {w}")));
        }
    }

    // ── the reference date: the first visit (the age class of the card used this month) ──
    let mut dated: Vec<(Date, i64)> = Vec::with_capacity(outcome.visits.len());
    for v in &outcome.visits {
        match parse_iso(&v.date) {
            Some(d) => dated.push((d, v.points)),
            None => errors.push(err("E052", file, &format!("visits[{}].date", v.visit), "日付が読めません", "unreadable date")),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    dated.sort_by_key(|(d, _)| *d); // stable: visits of one day keep their input order
    let on = dated.first().map(|(d, _)| *d).unwrap_or_else(|| input.month.first_day());
    let age = santei_copay::age::age_class_on(params, input.birth_date, on).map_err(|e| vec![e.field("patient.birth_date")])?;
    if let Some((last, _)) = dated.last() {
        let later = santei_copay::age::age_class_on(params, input.birth_date, *last).map_err(|e| vec![e.field("patient.birth_date")])?;
        if later.class != age.class {
            warnings.push(format!(
                "年齢区分が月の途中で変わります（{}→{}）: 保険者ごとに入力を分けてください / the age class changes within the month ({} → {}): split the month per insurer",
                age.class.code(),
                later.class.code(),
                age.class.code(),
                later.class.code()
            ));
        }
    }

    let ins = input.insurance.as_ref();
    let given_class = ins.and_then(|i| i.income_class);
    // The 所得区分 is used at the window for 70+ always, for under 70 only with a 限度額適用認定証
    // or オン資 consent (DOMAIN §3.3 "Who may get the limit at the window"; 健康保険法施行令 第42条).
    let class_used = match (age.class, given_class) {
        (AgeClass::Under70, Some(c)) if !ins.is_some_and(|i| i.limit_certified) => {
            warnings.push(format!(
                "所得区分 {} は限度額適用認定証がないため窓口では適用しません / income class {} not applied at the window (no limit_certified)",
                c.name(),
                c.name()
            ));
            None
        }
        (AgeClass::From70To74 | AgeClass::From75, None) if ins.is_some() => {
            warnings.push(
                "70歳以上ですが所得区分 (income_class) がないため、窓口で高額療養費の限度額を適用しません / 70+ without income_class: no ceiling applied at the window"
                    .to_string(),
            );
            None
        }
        (_, c) => c,
    };
    // 負担割合: as given, else from age and class (健康保険法 第74条, 高齢者医療確保法 第67条).
    let rate = match ins.and_then(|i| i.rate_percent) {
        Some(r) => r as i64,
        None => match santei_copay::age::copay_rate(params, input.birth_date, on, given_class).map_err(|e| vec![e.field("patient.birth_date")])? {
            Some(r) => r,
            None => return Err(vec![err("E053", file, "insurance.rate_percent", format!("{on} の負担割合がパラメータにありません"), format!("no copay rate in the parameters for {on}"))]),
        },
    };
    // 7割給付 (現役並み): the class says so, or the rate equals the 現役並み rate of the age class.
    let genekinami = age.class != AgeClass::Under70
        && (given_class.is_some_and(IncomeClass::is_genekinami)
            || santei_copay::age::copay_rate(params, input.birth_date, on, Some(IncomeClass::GenekiI)).ok().flatten() == Some(rate) && given_class.is_none());
    let mp = engine.month(input.month).map_err(|e| vec![e.field("month")])?;
    let reached_75 = age.class != AgeClass::Under70 && santei_copay::age::reached_75_in(params, input.birth_date, input.month).map_err(|e| vec![e])?;
    let patient = Patient {
        month: input.month,
        age_class: age.class,
        income_class: class_used,
        copay_rate_percent: rate as u32,
        care: Care::Outpatient,
        multiple_high_cost: ins.is_some_and(|i| i.multiple_high_cost),
        reached_75_this_month: reached_75,
        // 後期 2割 配慮措置 (2022-10-01 … 2025-09-30; dated in santei-copay's parameters).
        hairyo_sochi: age.class == AgeClass::From75 && class_used == Some(IncomeClass::IppanII) && mp.hairyo.is_some(),
        tokutei_shippei_cap_yen: ins.and_then(|i| i.tokutei_shippei_cap_yen),
    };

    // 公費: the patient share defaults to the 国公費マスタ value for the insurance rate (11-3/6/9).
    let mut kouhi = Vec::with_capacity(input.kouhi.len());
    for k in &input.kouhi {
        let prog = params.kouhi.get(k.houbetsu);
        let default = prog.and_then(|p| {
            let idx = match (ins.is_some(), rate) {
                (true, 30) => Some(0),
                (true, 20) => Some(1),
                (true, 10) => Some(2),
                _ => None,
            };
            idx.and_then(|i| p.patient_percent[i])
        });
        kouhi.push(KouhiPayer { houbetsu: k.houbetsu, rate_percent: k.rate_percent.or(default), monthly_cap_yen: k.monthly_cap_yen, paid_elsewhere_yen: k.paid_elsewhere_yen });
    }
    let has_ins = ins.is_some();
    let bill = |points: i64| Bill { points, insurance: has_ins, kouhi: kouhi.clone() };
    let earlier_points = ins.map(|i| i.earlier_points).unwrap_or(0);
    let req = WindowRequest {
        patient: patient.clone(),
        earlier_bills: if earlier_points > 0 { vec![bill(earlier_points)] } else { Vec::new() },
        already_collected_yen: ins.map(|i| i.already_collected_yen).unwrap_or(0),
        visits: dated.iter().map(|(d, p)| Visit { date: *d, bills: vec![bill(*p)] }).collect(),
    };
    let w = santei_copay::window::window(&mp, &params.kouhi, &req).map_err(|e| vec![e])?;

    // ── the month's split of the receipt (HO/KO 負担金額, MF 窓口負担額区分) ──
    let total = outcome.total_points + earlier_points;
    let split = santei_copay::split::split(&mp, &params.kouhi, &patient, &[bill(total)], None).map_err(|e| vec![e])?;
    warnings.extend(split.warnings.iter().cloned());
    let mut insurance_patient_yen = None;
    let mut ceiling_applied = false;
    let mut kouhi_patient_yen = Vec::new();
    for p in &split.payers {
        match p.payer {
            PayerId::Insurance => {
                // 健康保険法 第74条・第75条: rate × cost rounded; the limit applied when less remains.
                let uncapped = rate_amount(total * mp.yen_per_point, rate, mp.unit_yen);
                ceiling_applied = p.remaining_after_yen < uncapped;
                insurance_patient_yen = Some(p.remaining_after_yen);
            }
            PayerId::Kouhi(_) => kouhi_patient_yen.push(p.remaining_after_yen),
        }
    }
    Ok(CopayOutcome {
        visits: w.visits.iter().map(|v| VisitYen { date: v.date, yen: v.yen }).collect(),
        month_total_yen: w.month_total_yen,
        patient,
        preschool: age.preschool,
        genekinami,
        kouhi,
        ceiling_applied,
        insurance_patient_yen,
        kouhi_patient_yen,
    })
}
