//! The month's split of one receipt's cost between insurance, each 公費 and the patient.
//!
//! Order of work (the order of the MHLW worked examples, DOMAIN.md §3.3, §4.4):
//! 1. every bill that carries a 公費, in input order, on its own: insurance copay, 高額療養費 limit
//!    for that bill alone, then each 公費's patient share (rate, then monthly cap);
//! 2. the insurance-only care (all such bills merged), whose limit is computed on the combined cost of
//!    itself and the 公費 bills that may be combined (合算), minus what the patient already bears on them.

use crate::kouhi::{Kogaku, KouhiRegistry};
use crate::model::{AgeClass, Bill, Care, IncomeClass, KouhiPayer, Patient};
use crate::params::MonthParams;
use santei_core::InputError;

/// Most 公費 on one bill (UKE carries 第1〜第4公費).
pub const MAX_KOUHI: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayerId {
    Insurance,
    Kouhi(u8),
}

impl PayerId {
    pub fn label(self) -> String {
        match self {
            PayerId::Insurance => "insurance".to_string(),
            PayerId::Kouhi(h) => format!("kouhi:{h:02}"),
        }
    }
}

/// One payer's amounts over the month (summed over every bill listing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayerAmount {
    pub payer: PayerId,
    /// What was billed to the payer (公費 only; for insurance it is the full cost).
    pub charged_yen: i64,
    pub pays_yen: i64,
    pub remaining_after_yen: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub patient_total_yen: i64,
    /// Insurance first (when present), then each 公費 in order of first appearance.
    pub payers: Vec<PayerAmount>,
    /// Non-fatal findings (unknown 法別, order against the 公費適用順位 …).
    pub warnings: Vec<String>,
}

/// A bill with its amounts before any monthly limit (the window passes per-visit-rounded sums).
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    pub cost: i64,
    pub insurance: bool,
    /// Insurance copay before the 高額療養費 limit (rate × cost, rounded).
    pub ins_copay: i64,
    pub kouhi: &'a [KouhiPayer],
    /// Each 公費's patient share before its cap (rate × cost, rounded); `None` = whatever is left.
    pub kouhi_share: [Option<i64>; MAX_KOUHI],
}

/// 健康保険法 第75条 (国保法 第42条の2): 一部負担金 has 10円未満 rounded half up (5円以上切上げ).
/// `unit` comes from the parameters (`rounding.unit_yen`).
#[inline]
pub fn rate_amount(cost: i64, percent: i64, unit: i64) -> i64 {
    let num = cost * percent; // yen × 100
    let u = unit * 100;
    ((num + u / 2) / u) * unit
}

fn perr(code: &'static str, field: &str, ja: String, en: String) -> InputError {
    InputError::new(code, "input", ja, en).field(field.to_string())
}

/// Prepare one bill whose amounts are rated on the bill's total (the month-level view).
fn prepare_one<'a>(mp: &MonthParams, patient: &Patient, b: &'a Bill, i: usize) -> Result<Prepared<'a>, InputError> {
    if b.points < 0 {
        return Err(perr("C020", &format!("bills[{i}].points"), format!("点数が負です ({})", b.points), format!("negative points ({})", b.points)));
    }
    if b.kouhi.len() > MAX_KOUHI {
        return Err(perr("C025", &format!("bills[{i}].payers"), "公費は1件に4つまでです".into(), "at most 4 kouhi per bill".into()));
    }
    let cost = b.points * mp.yen_per_point;
    let mut ks = [None; MAX_KOUHI];
    for (j, k) in b.kouhi.iter().enumerate() {
        ks[j] = k.rate_percent.map(|r| rate_amount(cost, r as i64, mp.unit_yen));
    }
    Ok(Prepared {
        cost,
        insurance: b.insurance,
        ins_copay: if b.insurance { rate_amount(cost, patient.copay_rate_percent as i64, mp.unit_yen) } else { 0 },
        kouhi: &b.kouhi,
        kouhi_share: ks,
    })
}

/// Prepare bills whose amounts are rated on each bill's total (the month-level view).
pub fn prepare<'a>(mp: &MonthParams, patient: &Patient, bills: &'a [Bill]) -> Result<Vec<Prepared<'a>>, InputError> {
    bills.iter().enumerate().map(|(i, b)| prepare_one(mp, patient, b, i)).collect()
}

/// Bills prepared on the stack when there are at most this many (the typical case; no allocation).
const STACK_BILLS: usize = 4;

/// The month's split of `bills` for `patient`.
pub fn split(mp: &MonthParams, reg: &KouhiRegistry, patient: &Patient, bills: &[Bill], trace: Option<&mut Vec<String>>) -> Result<Split, InputError> {
    crate::model::check_bills(bills, "input")?;
    if bills.len() <= STACK_BILLS {
        let empty = Prepared { cost: 0, insurance: false, ins_copay: 0, kouhi: &[], kouhi_share: [None; MAX_KOUHI] };
        let mut buf = [empty.clone(), empty.clone(), empty.clone(), empty];
        for (i, b) in bills.iter().enumerate() {
            buf[i] = prepare_one(mp, patient, b, i)?;
        }
        return split_prepared(mp, reg, patient, &buf[..bills.len()], trace);
    }
    let prepared = prepare(mp, patient, bills)?;
    split_prepared(mp, reg, patient, &prepared, trace)
}

/// 健康保険法施行令 第42条 (高額療養費算定基準額); 70歳以上 外来 個人単位 limit; 多数回該当;
/// 75歳到達月 (limits ÷ `reached_75.divisor`). `None` = no limit applies (no 所得区分 known).
/// マル長 (特定疾病, 同令 第42条) replaces the limit when the patient holds one.
pub fn limit(mp: &MonthParams, patient: &Patient, class: Option<IncomeClass>, cost: i64) -> Result<Option<(i64, &'static str)>, InputError> {
    if let Some(cap) = patient.tokutei_shippei_cap_yen {
        return Ok(Some((cap, "マル長 (特定疾病)")));
    }
    let Some(class) = class else { return Ok(None) };
    let cv = mp.classes[class.index()].ok_or_else(|| {
        perr("C003", "income_class", format!("所得区分「{}」は {} には定義されていません", class.name(), mp.month), format!("income class {} has no parameters for {}", class.name(), mp.month))
    })?;
    if cv.ages & patient.age_class.bit() == 0 {
        return Err(perr(
            "C010",
            "income_class",
            format!("所得区分「{}」は年齢区分 {} にはありません", class.name(), patient.age_class.code()),
            format!("income class {} does not exist for age class {}", class.name(), patient.age_class.code()),
        ));
    }
    let div = if patient.reached_75_this_month { mp.reached_75_divisor } else { 1 };
    let halve = |x: i64| (x + div / 2) / div;
    if patient.care == Care::Outpatient {
        if let Some(o) = cv.outpatient {
            // 70歳以上 外来 (個人単位): 多数回 does not apply to it.
            return Ok(Some((halve(o), "外来 個人単位")));
        }
    }
    if patient.multiple_high_cost {
        if let Some(m) = cv.many_times {
            return Ok(Some((halve(m), "多数回該当")));
        }
    }
    let mut l = halve(cv.base);
    if let Some((thr, pct)) = cv.excess {
        let over = cost - halve(thr);
        if over > 0 {
            // (医療費 − 閾値) × 1%, 1円未満四捨五入
            l += (over * pct + 50) / 100;
        }
        return Ok(Some((l, "基本 + 1%")));
    }
    Ok(Some((l, "定額")))
}

#[derive(Default, Clone, Copy)]
struct KouhiAcc {
    id: u8,
    charged: i64,
    pays: i64,
    remaining: i64,
    used: i64,
    elsewhere_seen: bool,
}

macro_rules! tr {
    ($t:expr, $($arg:tt)*) => { if let Some(t) = $t.as_deref_mut() { t.push(format!($($arg)*)); } };
}

/// `1234567` → `"1,234,567"` (for the human-readable output).
pub fn format_yen(x: i64) -> String {
    let s = x.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The split on prepared bills (see the module comment for the order of work).
pub fn split_prepared(mp: &MonthParams, reg: &KouhiRegistry, patient: &Patient, bills: &[Prepared], mut trace: Option<&mut Vec<String>>) -> Result<Split, InputError> {
    let mut warnings = Vec::new();
    let own = patient.income_class;
    let mut kacc: Vec<KouhiAcc> = Vec::new(); // allocates only when a 公費 appears
    let mut ins_charged_total = 0i64; // remaining after insurance over every insured bill
    let mut ins_cost_total = 0i64;
    let mut patient_total = 0i64;
    let mut comb_cost = 0i64; // 合算: cost of 公費 bills combined with the insurance-only care
    let mut comb_patient = 0i64; // … and what the patient bears on them
    let mut ins_only_cost = 0i64;
    let mut ins_only_copay = 0i64;
    let mut has_ins_only = false;
    let gassan_min = if patient.age_class == AgeClass::Under70 { mp.gassan_under70_min } else { 0 };

    for (bi, b) in bills.iter().enumerate() {
        if b.kouhi.is_empty() {
            has_ins_only = true;
            ins_only_cost += b.cost;
            ins_only_copay += b.ins_copay;
            continue;
        }
        // ── a bill with 公費: on its own ──
        let first = reg.get(b.kouhi[0].houbetsu);
        let mut remaining = b.cost;
        if b.insurance {
            ins_cost_total += b.cost;
            // 特定給付対象療養 (国公費マスタ 18-2): the limit of this bill uses `tokutei_kyufu.class_map`.
            let class = match (first.map(|p| p.kogaku), own) {
                (Some(Kogaku::TokuteiKyufu), Some(c)) => Some(mp.tokutei_kyufu_map[c.index()].ok_or_else(|| {
                    perr(
                        "C031",
                        &format!("bills[{bi}]"),
                        format!("所得区分「{}」の特定給付対象療養の限度額はパラメータにありません（推測しません）", c.name()),
                        format!("no 特定給付対象療養 limit class for income class {} in the parameters (santei does not guess)", c.name()),
                    )
                })?),
                _ => own,
            };
            let copay = b.ins_copay;
            let lim = limit(mp, patient, class, b.cost)?;
            let charged = match lim {
                Some((l, _)) => copay.min(l),
                None => copay,
            };
            tr!(
                trace,
                "bill {} ({}円, 公費{:02}): insurance copay {}% = {}円; 高額療養費 limit on this bill alone {} → {}円 left after insurance [健康保険法施行令42条]",
                bi + 1,
                format_yen(b.cost),
                b.kouhi[0].houbetsu,
                patient.copay_rate_percent,
                format_yen(copay),
                match lim {
                    Some((l, why)) => format!("{}円 ({}, {})", format_yen(l), class.map(|c| c.name()).unwrap_or("マル長"), why),
                    None => "none (no 所得区分)".to_string(),
                },
                format_yen(charged)
            );
            remaining = charged;
            ins_charged_total += charged;
        }
        let before_kouhi = remaining;
        for (j, k) in b.kouhi.iter().enumerate() {
            let prog = reg.get(k.houbetsu);
            if prog.is_none() && !warnings.iter().any(|w: &String| w.contains(&format!("法別 {:02}", k.houbetsu))) {
                warnings.push(format!("法別 {:02} は国公費マスタにありません（地方単独として通常の高額療養費で計算）/ houbetsu {:02} is not a national program; computed with the normal 高額療養費 rule", k.houbetsu, k.houbetsu));
            }
            let ai = match kacc.iter().position(|a| a.id == k.houbetsu) {
                Some(i) => i,
                None => {
                    kacc.push(KouhiAcc { id: k.houbetsu, ..Default::default() });
                    kacc.len() - 1
                }
            };
            let acc = &mut kacc[ai];
            if !acc.elsewhere_seen {
                acc.elsewhere_seen = true;
                acc.used = k.paid_elsewhere_yen;
                if k.paid_elsewhere_yen > 0 && prog.is_some_and(|p| !p.shared_cap) {
                    warnings.push(format!("法別 {:02} は上限額管理の対象ではありませんが他院支払額が指定されています / houbetsu {:02} has no shared cap but paid_elsewhere_yen was given", k.houbetsu, k.houbetsu));
                }
            }
            let charged = remaining;
            let mut share = match b.kouhi_share[j] {
                Some(s) => s.min(charged),
                None => charged,
            };
            let mut why = match k.rate_percent {
                Some(r) => format!("{r}% of cost"),
                None => "what is left".to_string(),
            };
            if let Some(cap) = k.monthly_cap_yen {
                let room = (cap - acc.used).max(0);
                if share > room {
                    share = room;
                    why = format!("monthly cap {}円 (used {}円)", format_yen(cap), format_yen(acc.used));
                }
            }
            acc.used += share;
            acc.charged += charged;
            acc.pays += charged - share;
            acc.remaining += share;
            tr!(trace, "bill {} 公費{:02}: billed {}円, patient share {}円 ({}), 公費 pays {}円", bi + 1, k.houbetsu, format_yen(charged), format_yen(share), why, format_yen(charged - share));
            remaining = share;
        }
        patient_total += remaining;
        // 合算 (健康保険法施行令 第41条): under 70 a receipt joins only when its copay ≥ 21,000円.
        if b.insurance && before_kouhi >= gassan_min {
            comb_cost += b.cost;
            comb_patient += remaining;
        } else if b.insurance {
            tr!(trace, "bill {}: {}円 < {}円, not combined with the other care [健康保険法施行令41条]", bi + 1, format_yen(before_kouhi), format_yen(gassan_min));
        }
    }

    if has_ins_only {
        ins_cost_total += ins_only_cost;
        let total_cost = ins_only_cost + comb_cost;
        let lim = limit(mp, patient, own, total_cost)?;
        let mut pay = ins_only_copay;
        let mut note = format!("insurance copay {}% = {}円", patient.copay_rate_percent, format_yen(ins_only_copay));
        if let Some((l, why)) = lim {
            let room = (l - comb_patient).max(0);
            note += &format!(
                "; limit {}円 ({}, {}) on combined cost {}円 − {}円 borne on combined 公費 bills = {}円",
                format_yen(l),
                own.map(|c| c.name()).unwrap_or("マル長"),
                why,
                format_yen(total_cost),
                format_yen(comb_patient),
                format_yen(room)
            );
            pay = pay.min(room);
        }
        // 後期高齢者 2割 外来 配慮措置: copay ≤ 1割 amount + 3,000 (parameters), not with マル長.
        if patient.hairyo_sochi && patient.tokutei_shippei_cap_yen.is_none() && patient.care == Care::Outpatient {
            let (pct, cap) = mp.hairyo.ok_or_else(|| {
                perr("C030", "hairyo_sochi", format!("{} は2割負担の配慮措置の期間外です", mp.month), format!("the 2割 配慮措置 is not in force in {}", mp.month))
            })?;
            let h = rate_amount(ins_only_cost, pct, 1) + cap;
            note += &format!("; 配慮措置 {}% + {}円 = {}円", pct, format_yen(cap), format_yen(h));
            pay = pay.min(h);
        }
        tr!(trace, "insurance-only care ({}円): {} → patient {}円", format_yen(ins_only_cost), note, format_yen(pay));
        ins_charged_total += pay;
        patient_total += pay;
    }

    let mut payers = Vec::with_capacity(1 + kacc.len());
    if ins_cost_total > 0 || bills.iter().any(|b| b.insurance) {
        payers.push(PayerAmount { payer: PayerId::Insurance, charged_yen: ins_cost_total, pays_yen: ins_cost_total - ins_charged_total, remaining_after_yen: ins_charged_total });
    }
    for a in &kacc {
        payers.push(PayerAmount { payer: PayerId::Kouhi(a.id), charged_yen: a.charged, pays_yen: a.pays, remaining_after_yen: a.remaining });
    }
    Ok(Split { patient_total_yen: patient_total, payers, warnings })
}

/// Checks that depend on the month's parameters (run once per case).
pub fn check_month(mp: &MonthParams, patient: &Patient) -> Result<(), InputError> {
    if patient.hairyo_sochi {
        if mp.hairyo.is_none() {
            return Err(perr("C030", "hairyo_sochi", format!("{} は2割負担の配慮措置の期間外です", mp.month), format!("the 2割 配慮措置 is not in force in {}", mp.month)));
        }
        if patient.age_class != AgeClass::From75 {
            return Err(perr("C032", "hairyo_sochi", "配慮措置は後期高齢者 (75plus) のみです".into(), "hairyo_sochi applies to age class 75plus only".into()));
        }
    }
    if let Some(c) = patient.income_class {
        if mp.classes[c.index()].is_none() {
            return Err(perr("C003", "income_class", format!("所得区分「{}」は {} には定義されていません", c.name(), mp.month), format!("income class {} has no parameters for {}", c.name(), mp.month)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgeClass, Care, IncomeClass, Patient};
    use crate::params::Params;
    use santei_core::date::YearMonth;

    fn patient(age: AgeClass, c: IncomeClass, care: Care) -> Patient {
        Patient {
            month: YearMonth::new(2024, 6).unwrap(),
            age_class: age,
            income_class: Some(c),
            copay_rate_percent: 30,
            care,
            multiple_high_cost: false,
            reached_75_this_month: false,
            hairyo_sochi: false,
            tokutei_shippei_cap_yen: None,
        }
    }

    /// DOMAIN.md §3.3 examples (MHLW worked examples as encoded in myclinic tests [S41]).
    #[test]
    fn one_percent_formula_examples() {
        let p = Params::embedded().unwrap();
        let mp = p.month(YearMonth::new(2024, 6).unwrap()).unwrap();
        let l = |c, cost| limit(&mp, &patient(AgeClass::Under70, c, Care::Inpatient), Some(c), cost).unwrap().unwrap().0;
        assert_eq!(l(IncomeClass::A, 945_760), 253_638);
        assert_eq!(l(IncomeClass::I, 726_410), 169_084);
        assert_eq!(l(IncomeClass::U, 364_520), 81_075);
        assert_eq!(l(IncomeClass::U, 1_000_000), 87_430);
        assert_eq!(l(IncomeClass::U, 100_000), 80_100); // the 1% term only when positive
        assert_eq!(l(IncomeClass::E, 5_000_000), 57_600);
        // 70+ 外来: individual 18,000; halved to 9,000 in the 75歳到達月
        let mut o = patient(AgeClass::From70To74, IncomeClass::Ippan, Care::Outpatient);
        assert_eq!(limit(&mp, &o, o.income_class, 500_000).unwrap().unwrap().0, 18_000);
        o.reached_75_this_month = true;
        assert_eq!(limit(&mp, &o, o.income_class, 500_000).unwrap().unwrap().0, 9_000);
    }

    /// DOMAIN.md §3.2: 359点 → 1,077 → 1,080; 195点 → 585 → 590; 10,040 × 10% = 1,004 → 1,000.
    #[test]
    fn ten_yen_rounding() {
        assert_eq!(rate_amount(3_590, 30, 10), 1_080);
        assert_eq!(rate_amount(1_950, 30, 10), 590);
        assert_eq!(rate_amount(10_040, 10, 10), 1_000);
        assert_eq!(rate_amount(10_050, 10, 10), 1_010); // 1,005 → 5円以上切上げ
        assert_eq!(rate_amount(9, 50, 10), 0); // 4.5円 → 5円未満切捨て
    }
}
