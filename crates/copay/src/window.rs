//! At the window: what the patient pays at each visit (DOMAIN.md §3.2, §3.3 "Window procedure").
//!
//! Per visit the copay is rated on that day's cost and rounded to 10円 (健康保険法 第75条); the
//! month's running total is then held to what the month's split allows for the care so far
//! (高額療養費 limit, 公費 caps net of what was paid elsewhere), given what was already collected.
//! Once a limit binds, the amount is exact to the yen (DOMAIN.md §3.3 ⚠ default: "yen-exact at the
//! cap", which matches the official worked examples; see README).

use crate::kouhi::KouhiRegistry;
use crate::model::{check_bills, check_patient, Bill, KouhiPayer, Patient};
use crate::params::MonthParams;
use crate::split::{rate_amount, split_prepared, Prepared, MAX_KOUHI};
use santei_core::date::{Date, YearMonth};
use santei_core::InputError;

/// One visit: its date and that day's care, split by payer combination.
#[derive(Clone, Debug, PartialEq)]
pub struct Visit {
    pub date: Date,
    pub bills: Vec<Bill>,
}

/// Input of the window computation for one receipt (patient × institution × month × 入院/外来).
#[derive(Clone, Debug, PartialEq)]
pub struct WindowRequest {
    pub patient: Patient,
    /// Care earlier this month on the same receipt that is not in `visits` (may be empty).
    pub earlier_bills: Vec<Bill>,
    /// What the patient already paid at this window this month for `earlier_bills`.
    pub already_collected_yen: i64,
    /// The visits to price, in date order. A kouhi's `paid_elsewhere_yen` (上限額管理票) is read
    /// from its first occurrence.
    pub visits: Vec<Visit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitCopay {
    pub date: Date,
    pub yen: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowResult {
    pub visits: Vec<VisitCopay>,
    /// already_collected_yen + Σ visits.
    pub month_total_yen: i64,
}

struct Acc {
    key: Vec<(u8, Option<u32>)>,
    insurance: bool,
    kouhi: Vec<KouhiPayer>,
    cost: i64,
    ins_copay: i64,
    share: [Option<i64>; MAX_KOUHI],
}

fn key_of(b: &Bill) -> Vec<(u8, Option<u32>)> {
    let mut k = vec![(if b.insurance { 1 } else { 0 }, None)];
    k.extend(b.kouhi.iter().map(|x| (x.houbetsu, x.rate_percent)));
    k
}

/// Uncapped amounts of one visit-bill, rated and rounded on its own: (cost, insurance copay, 公費 shares).
fn rate_bill(mp: &MonthParams, p: &Patient, b: &Bill) -> (i64, i64, [Option<i64>; MAX_KOUHI]) {
    let cost = b.points * mp.yen_per_point;
    let ins = if b.insurance { rate_amount(cost, p.copay_rate_percent as i64, mp.unit_yen) } else { cost };
    let mut s = [None; MAX_KOUHI];
    for (j, k) in b.kouhi.iter().enumerate() {
        s[j] = k.rate_percent.map(|r| rate_amount(cost, r as i64, mp.unit_yen));
    }
    (cost, if b.insurance { ins } else { 0 }, s)
}

/// What the patient would pay for one visit-bill with no monthly limit or cap.
fn uncapped_patient(mp: &MonthParams, p: &Patient, b: &Bill) -> i64 {
    let (cost, ins, s) = rate_bill(mp, p, b);
    let mut rem = if b.insurance { ins } else { cost };
    for x in s.iter().take(b.kouhi.len()).flatten() {
        rem = rem.min(*x);
    }
    rem
}

fn add(accs: &mut Vec<Acc>, mp: &MonthParams, p: &Patient, b: &Bill) {
    let key = key_of(b);
    let (cost, ins, s) = rate_bill(mp, p, b);
    let a = match accs.iter().position(|a| a.key == key) {
        Some(i) => &mut accs[i],
        None => {
            accs.push(Acc { key, insurance: b.insurance, kouhi: b.kouhi.clone(), cost: 0, ins_copay: 0, share: [None; MAX_KOUHI] });
            accs.last_mut().expect("just pushed")
        }
    };
    a.cost += cost;
    a.ins_copay += ins;
    for (j, x) in s.iter().enumerate().take(b.kouhi.len()) {
        if let Some(x) = x {
            a.share[j] = Some(a.share[j].unwrap_or(0) + x);
        }
    }
}

fn month_total(mp: &MonthParams, reg: &KouhiRegistry, p: &Patient, accs: &[Acc]) -> Result<i64, InputError> {
    let prepared: Vec<Prepared> = accs
        .iter()
        .map(|a| Prepared { cost: a.cost, insurance: a.insurance, ins_copay: a.ins_copay, kouhi: &a.kouhi, kouhi_share: a.share })
        .collect();
    Ok(split_prepared(mp, reg, p, &prepared, None)?.patient_total_yen)
}

/// Per-visit copay for one receipt. Errors: negative points, visits outside the month, bad classes.
pub fn window(mp: &MonthParams, reg: &KouhiRegistry, req: &WindowRequest) -> Result<WindowResult, InputError> {
    let p = &req.patient;
    check_patient(p, "window")?;
    crate::split::check_month(mp, p)?;
    check_bills(&req.earlier_bills, "window")?;
    if req.already_collected_yen > crate::model::MAX_YEN {
        return Err(InputError::new("W001", "window", "既収金額が大きすぎます", "already_collected_yen is too large").field("already_collected_yen"));
    }
    if req.already_collected_yen < 0 {
        return Err(InputError::new("W001", "window", "既収金額が負です", "already_collected_yen is negative").field("already_collected_yen"));
    }
    let mut accs: Vec<Acc> = Vec::new();
    let mut seen: Vec<KouhiPayer> = Vec::new();
    for b in &req.earlier_bills {
        add(&mut accs, mp, p, b);
        for k in &b.kouhi {
            if !seen.iter().any(|x| x.houbetsu == k.houbetsu) {
                seen.push(k.clone());
            }
        }
    }
    let mut collected = req.already_collected_yen;
    let mut out = Vec::with_capacity(req.visits.len());
    let mut last: Option<Date> = None;
    for (i, v) in req.visits.iter().enumerate() {
        let f = format!("visits[{i}]");
        if YearMonth::of(v.date) != p.month {
            return Err(InputError::new("W002", "window", format!("{} は {} の診療ではありません", v.date, p.month), format!("{} is not in {}", v.date, p.month)).field(f));
        }
        if last.is_some_and(|l| v.date < l) {
            return Err(InputError::new("W003", "window", "来院は日付順に並べてください", "visits must be in date order").field(f));
        }
        last = Some(v.date);
        check_bills(&v.bills, "window").map_err(|e| {
            let inner = e.field.clone().unwrap_or_default();
            e.field(format!("{f}.{inner}"))
        })?;
        // one 受給者証 per program: the same 公費 keeps its terms over the whole month
        for (j, b) in v.bills.iter().enumerate() {
            for (m, k) in b.kouhi.iter().enumerate() {
                if let Some(first) = seen.iter().find(|x: &&KouhiPayer| x.houbetsu == k.houbetsu) {
                    if first != k {
                        return Err(InputError::new(
                            "C026",
                            "window",
                            format!("公費 {:02} の条件（割合・上限・他院支払額）が月の途中で変わっています", k.houbetsu),
                            format!("kouhi {:02} changes its terms (rate, cap, paid elsewhere) within the month", k.houbetsu),
                        )
                        .field(format!("{f}.bills[{j}].payers[{}]", m + usize::from(b.insurance))));
                    }
                } else {
                    seen.push(k.clone());
                }
            }
        }
        let mut today = 0;
        for b in &v.bills {
            today += uncapped_patient(mp, p, b);
            add(&mut accs, mp, p, b);
        }
        let allowed = month_total(mp, reg, p, &accs)?;
        // 健康保険法 第75条 + 第115条 (高額療養費の現物給付): today's rounded copay, held so the
        // month's collected total never exceeds what the month's split allows.
        let due = today.min((allowed - collected).max(0));
        collected += due;
        out.push(VisitCopay { date: v.date, yen: due });
    }
    Ok(WindowResult { visits: out, month_total_yen: collected })
}

/// The `santei calc` shape: `{"visits": [{"date", "yen"}], "month_total_yen"}`.
pub fn result_to_json(r: &WindowResult) -> serde_json::Value {
    serde_json::json!({
        "visits": r.visits.iter().map(|v| serde_json::json!({"date": v.date.to_string(), "yen": v.yen})).collect::<Vec<_>>(),
        "month_total_yen": r.month_total_yen,
    })
}
