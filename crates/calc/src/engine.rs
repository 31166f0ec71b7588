//! The pipeline: validate → per visit (初再診 + time/age additions, procedures and 包括,
//! prescriptions and their fees, 外来管理加算) → per month (判断料, 調剤技術基本料, limits) →
//! merge identical units across days (UKE 点数・回数算定単位) → totals.

use crate::index::Index;
use crate::input::{Institution, Num, Order, PatientMonth};
use crate::output::*;
use crate::rules::{self, SmallDrug, TimeClass};
use crate::tables::{self, parse_hhmm, Rules, Tables, TimeCodes};
use chrono::{Datelike, Weekday};
use rust_decimal::Decimal;
use santei_core::date::{parse_iso, Date, YearMonth};
use santei_core::InputError;
use santei_master::model::{Drug, Material, Procedure, Source};
use santei_master::Store;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Input that cannot be calculated: every problem found, each naming where it is.
#[derive(Debug, Clone)]
pub struct CalcError {
    pub errors: Vec<InputError>,
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CalcError {}

const INPUT: &str = "input";

/// Calculation options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Fill `explain.detail` with the arithmetic (yen sums, 15円 rule, 包括 steps). Rule and master
    /// row are always given.
    pub detail: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { detail: true }
    }
}

fn err(code: &'static str, field: String, ja: String, en: String) -> InputError {
    InputError::new(code, INPUT, ja, en).field(field)
}

/// Limits for "absurd" input (UKE field widths: 回数 3 digits, 数量 5 integer digits).
const MAX_COUNT: i64 = 999;
const MAX_DAYS: i64 = 365;
const MAX_QUANTITY: i64 = 99_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consultation {
    Initial,
    Revisit,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Internal,
    AsNeeded,
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dispensing {
    InHouse,
    Outside,
}

/// One validated drug/material item.
struct ItemIn<'i> {
    code: &'i str,
    qty: Decimal,
}

enum OrderIn<'i> {
    Procedure {
        code: &'i str,
        count: i64,
        qty: Option<Decimal>,
        drugs: Vec<ItemIn<'i>>,
        materials: Vec<ItemIn<'i>>,
    },
    Prescription {
        dispensing: Dispensing,
        category: Category,
        mult: i64,
        temporary: bool,
        usage: Option<&'i str>,
        drugs: Vec<ItemIn<'i>>,
    },
    Loose {
        drugs: Vec<ItemIn<'i>>,
        materials: Vec<ItemIn<'i>>,
    },
}

struct VisitIn<'i> {
    index: usize,
    date: Date,
    minute: Option<u32>,
    consultation: Consultation,
    orders: Vec<(usize, OrderIn<'i>)>,
}

struct Valid<'i> {
    month: YearMonth,
    birth: Date,
    visits: Vec<VisitIn<'i>>,
    /// Posted hours per [`DAY_KEYS`] position, minutes.
    posted: [Vec<(u32, u32)>; 8],
    any_posted: bool,
    weekly_minutes: u32,
    clinic: bool,
}

fn int_of(n: &Option<Num>, field: &dyn Fn() -> String, min: i64, max: i64, default: Option<i64>, errors: &mut Vec<InputError>) -> Option<i64> {
    match n {
        None => {
            if default.is_none() {
                let field = field();
                errors.push(err("E_MISSING", field.clone(), format!("{field} がありません"), format!("{field} is missing")));
            }
            default
        }
        Some(Num::Ok(d)) if d.fract().is_zero() && *d >= Decimal::from(min) && *d <= Decimal::from(max) => Some(rules::decimal_to_i64(*d)),
        Some(v) => {
            let field = field();
            let shown = match v {
                Num::Ok(d) => d.to_string(),
                Num::Bad(t) => t.clone(),
            };
            errors.push(err(
                "E_NUMBER",
                field.clone(),
                format!("{field} = {shown}: {min}以上{max}以下の整数でなければなりません"),
                format!("{field} = {shown}: must be an integer from {min} to {max}"),
            ));
            None
        }
    }
}

fn qty_of(n: &Option<Num>, field: &dyn Fn() -> String, errors: &mut Vec<InputError>) -> Option<Decimal> {
    match n {
        Some(Num::Ok(d)) if *d > Decimal::ZERO && *d <= Decimal::from(MAX_QUANTITY) => Some(*d),
        None => {
            let field = field();
            errors.push(err(
                "E_MISSING",
                field.clone(),
                format!("{field} (数量) がありません"),
                format!("{field} (quantity) is missing"),
            ));
            None
        }
        Some(v) => {
            let field = field();
            let shown = match v {
                Num::Ok(d) => d.to_string(),
                Num::Bad(t) => t.clone(),
            };
            errors.push(err(
                "E_QUANTITY",
                field.clone(),
                format!("{field} = {shown}: 数量は0より大きく{MAX_QUANTITY}以下でなければなりません"),
                format!("{field} = {shown}: quantity must be > 0 and ≤ {MAX_QUANTITY}"),
            ));
            None
        }
    }
}

fn items<'i>(list: &'i [crate::input::Item], field: &dyn Fn() -> String, errors: &mut Vec<InputError>) -> Vec<ItemIn<'i>> {
    let mut out = Vec::with_capacity(list.len());
    for (k, it) in list.iter().enumerate() {
        if it.code.trim_fast().is_empty() {
            let f = format!("{}[{k}]", field());
            errors.push(err(
                "E_MISSING",
                format!("{f}.code"),
                format!("{f}.code がありません"),
                format!("{f}.code is missing"),
            ));
            continue;
        }
        if let Some(q) = qty_of(&it.quantity, &|| format!("{}[{k}].quantity", field()), errors) {
            out.push(ItemIn {
                code: it.code.trim_fast(),
                qty: q,
            });
        }
    }
    out
}

/// `str::trim` only when there is whitespace at either end (the common case has none; trimming
/// showed up in profiles).
trait TrimFast {
    fn trim_fast(&self) -> &str;
}
impl TrimFast for str {
    fn trim_fast(&self) -> &str {
        let b = self.as_bytes();
        let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_whitespace() || *c >= 0x80);
        if edge(b.first()) || edge(b.last()) {
            self.trim()
        } else {
            self
        }
    }
}

/// `YYYY-MM-DD` → date (strict; the hot path of validation — chrono's format parser is slow).
fn iso(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return parse_iso(s);
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?
            .iter()
            .try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32))
    };
    Date::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

fn validate(input: &PatientMonth) -> Result<Valid<'_>, CalcError> {
    let mut errors = Vec::new();
    let month = YearMonth::parse_iso(input.month.trim_fast());
    if month.is_none() {
        errors.push(err(
            "E_MONTH",
            "month".into(),
            format!("month {:?} は YYYY-MM ではありません", input.month),
            format!("month {:?} is not YYYY-MM", input.month),
        ));
    }
    let birth = iso(input.patient.birth_date.trim_fast());
    if birth.is_none() {
        errors.push(err(
            "E_BIRTH",
            "patient.birth_date".into(),
            format!("生年月日 {:?} が YYYY-MM-DD ではありません", input.patient.birth_date),
            format!("birth_date {:?} is not YYYY-MM-DD", input.patient.birth_date),
        ));
    }
    let (posted, weekly_minutes) = posted_hours(&input.institution, &mut errors);
    let clinic = match input.institution.kind.as_str() {
        "clinic" => true,
        "hospital" => false,
        other => {
            errors.push(err(
                "E_KIND",
                "institution.kind".into(),
                format!("institution.kind {other:?} は clinic か hospital です"),
                format!("institution.kind {other:?} must be clinic or hospital"),
            ));
            true
        }
    };
    let mut visits = Vec::with_capacity(input.visits.len());
    for (vi, v) in input.visits.iter().enumerate() {
        let vf = VisitPath(vi);
        let date = iso(v.date.trim_fast());
        match (date, month) {
            (None, _) => errors.push(err(
                "E_DATE",
                format!("{vf}.date"),
                format!("{vf}.date {:?} が YYYY-MM-DD ではありません", v.date),
                format!("{vf}.date {:?} is not YYYY-MM-DD", v.date),
            )),
            (Some(d), Some(m)) if YearMonth::of(d) != m => errors.push(err(
                "E_DATE_MONTH",
                format!("{vf}.date"),
                format!("{vf}.date {d} が診療年月 {} の外です", input.month),
                format!("{vf}.date {d} is outside the month {}", input.month),
            )),
            (Some(d), _) => {
                if birth.is_some_and(|b| b > d) {
                    errors.push(err(
                        "E_BIRTH",
                        format!("{vf}.date"),
                        format!("{vf}.date {d} が生年月日より前です"),
                        format!("{vf}.date {d} is before the birth date"),
                    ));
                }
            }
        }
        let minute = match &v.time {
            None => None,
            Some(t) => match parse_hhmm(t.trim_fast()).filter(|m| *m < 24 * 60) {
                Some(m) => Some(m),
                None => {
                    errors.push(err(
                        "E_TIME",
                        format!("{vf}.time"),
                        format!("{vf}.time {t:?} が HH:MM ではありません"),
                        format!("{vf}.time {t:?} is not HH:MM"),
                    ));
                    None
                }
            },
        };
        let consultation = match v.consultation.as_str() {
            "initial" => Consultation::Initial,
            "revisit" => Consultation::Revisit,
            "none" | "" => Consultation::None,
            other => {
                errors.push(err(
                    "E_CONSULTATION",
                    format!("{vf}.consultation"),
                    format!("{vf}.consultation {other:?} は initial / revisit / none のいずれかです"),
                    format!("{vf}.consultation {other:?} must be initial, revisit or none"),
                ));
                Consultation::None
            }
        };
        let mut orders = Vec::with_capacity(v.orders.len());
        for (oi, o) in v.orders.iter().enumerate() {
            if let Some(x) = validate_order(o, &OrderPath(vi, oi), &mut errors) {
                orders.push((oi, x));
            }
        }
        if let Some(date) = date {
            visits.push(VisitIn {
                index: vi,
                date,
                minute,
                consultation,
                orders,
            });
        }
    }
    match (errors.is_empty(), month, birth) {
        (true, Some(month), Some(birth)) => {
            // Chronological order (stable: same-day visits keep input order unless timed).
            visits.sort_by_key(|v| (v.date, v.minute.unwrap_or(0), v.index));
            Ok(Valid {
                month,
                birth,
                visits,
                any_posted: posted.iter().any(|p| !p.is_empty()) || !input.institution.posted_hours.is_empty(),
                posted,
                weekly_minutes,
                clinic,
            })
        }
        _ => Err(CalcError { errors }),
    }
}

fn validate_order<'i>(o: &'i Order, of: &OrderPath, errors: &mut Vec<InputError>) -> Option<OrderIn<'i>> {
    let n0 = errors.len();
    let out = match o.kind.as_str() {
        "procedure" | "test" | "injection" | "imaging" | "treatment" | "management" => {
            let code = o.code.as_deref().map(TrimFast::trim_fast).unwrap_or("");
            if code.is_empty() {
                errors.push(err(
                    "E_MISSING",
                    format!("{of}.code"),
                    format!("{of}.code がありません"),
                    format!("{of}.code is missing"),
                ));
            }
            let count = int_of(&o.count, &|| format!("{of}.count"), 1, MAX_COUNT, Some(1), errors).unwrap_or(1);
            let qty = match &o.quantity {
                None => None,
                q => qty_of(q, &|| format!("{of}.quantity"), errors),
            };
            let drugs = items(&o.drugs, &|| format!("{of}.drugs"), errors);
            let materials = items(&o.materials, &|| format!("{of}.materials"), errors);
            OrderIn::Procedure {
                code,
                count,
                qty,
                drugs,
                materials,
            }
        }
        "prescription" => {
            let dispensing = match o.dispensing.as_deref() {
                Some("in_house") => Dispensing::InHouse,
                Some("outside") => Dispensing::Outside,
                other => {
                    errors.push(err(
                        "E_DISPENSING",
                        format!("{of}.dispensing"),
                        format!("{of}.dispensing {other:?} は in_house か outside です"),
                        format!("{of}.dispensing {other:?} must be in_house or outside"),
                    ));
                    Dispensing::InHouse
                }
            };
            let category = match o.category.as_deref() {
                Some("internal") => Category::Internal,
                Some("as_needed") => Category::AsNeeded,
                Some("external") => Category::External,
                other => {
                    errors.push(err(
                        "E_CATEGORY",
                        format!("{of}.category"),
                        format!("{of}.category {other:?} は internal / as_needed / external のいずれかです"),
                        format!("{of}.category {other:?} must be internal, as_needed or external"),
                    ));
                    Category::Internal
                }
            };
            let mult = match category {
                Category::Internal => int_of(&o.days, &|| format!("{of}.days"), 1, MAX_DAYS, None, errors).unwrap_or(1),
                Category::AsNeeded => int_of(&o.times, &|| format!("{of}.times"), 1, MAX_COUNT, Some(1), errors).unwrap_or(1),
                Category::External => 1,
            };
            if o.drugs.is_empty() {
                errors.push(err(
                    "E_MISSING",
                    format!("{of}.drugs"),
                    format!("{of}.drugs が空です"),
                    format!("{of}.drugs is empty"),
                ));
            }
            let drugs = items(&o.drugs, &|| format!("{of}.drugs"), errors);
            OrderIn::Prescription {
                dispensing,
                category,
                mult,
                temporary: o.temporary,
                usage: o.usage.as_deref().map(TrimFast::trim_fast).filter(|u| !u.is_empty()),
                drugs,
            }
        }
        "material" | "drug" => {
            // A loose material/drug: {"type":"material","code":…,"quantity":…} or lists.
            let mut drugs = items(&o.drugs, &|| format!("{of}.drugs"), errors);
            let mut materials = items(&o.materials, &|| format!("{of}.materials"), errors);
            if let Some(code) = o.code.as_deref().map(TrimFast::trim_fast).filter(|c| !c.is_empty()) {
                if let Some(q) = qty_of(&o.quantity, &|| format!("{of}.quantity"), errors) {
                    let it = ItemIn { code, qty: q };
                    if o.kind == "drug" {
                        drugs.push(it)
                    } else {
                        materials.push(it)
                    }
                }
            } else if drugs.is_empty() && materials.is_empty() {
                errors.push(err(
                    "E_MISSING",
                    format!("{of}.code"),
                    format!("{of}.code がありません"),
                    format!("{of}.code is missing"),
                ));
            }
            OrderIn::Loose { drugs, materials }
        }
        other => {
            errors.push(err(
                "E_ORDER_TYPE",
                format!("{of}.type"),
                format!("{of}.type {other:?} は procedure / prescription / material / drug のいずれかです"),
                format!("{of}.type {other:?} must be procedure, prescription, material or drug"),
            ));
            return None;
        }
    };
    (errors.len() == n0).then_some(out)
}

/// `visits[v]`, formatted only when an error needs it.
struct VisitPath(usize);
impl fmt::Display for VisitPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "visits[{}]", self.0)
    }
}

/// `visits[v].orders[o]`, formatted only when an error needs it.
struct OrderPath(usize, usize);
impl fmt::Display for OrderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "visits[{}].orders[{}]", self.0, self.1)
    }
}

const DAY_KEYS: [&str; 8] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"];

fn posted_hours(inst: &Institution, errors: &mut Vec<InputError>) -> ([Vec<(u32, u32)>; 8], u32) {
    let mut out: [Vec<(u32, u32)>; 8] = Default::default();
    let mut weekly = 0;
    for (k, spans) in &inst.posted_hours {
        let Some(slot) = DAY_KEYS.iter().position(|d| d == k) else {
            errors.push(err(
                "E_POSTED",
                format!("institution.posted_hours.{k}"),
                format!("posted_hours のキー {k:?} は mon…sun / holiday のいずれかです"),
                format!("posted_hours key {k:?} must be mon…sun or holiday"),
            ));
            continue;
        };
        let mut v = Vec::with_capacity(spans.len());
        for (i, (a, b)) in spans.iter().enumerate() {
            match (parse_hhmm(a.trim_fast()), parse_hhmm(b.trim_fast())) {
                (Some(a), Some(b)) if a < b => {
                    if k != "holiday" {
                        weekly += b - a;
                    }
                    v.push((a, b));
                }
                _ => errors.push(err(
                    "E_POSTED",
                    format!("institution.posted_hours.{k}[{i}]"),
                    format!("診療時間 {a:?}–{b:?} が正しくありません"),
                    format!("posted hours {a:?}–{b:?} are not a valid HH:MM span"),
                )),
            }
        }
        if let Some(o) = out.get_mut(slot) {
            *o = v;
        }
    }
    (out, weekly)
}

/// One unit occurrence on one day, before merging.
struct Inst {
    date: Date,
    visit: usize,
    shikibetsu: &'static str,
    lines: Vec<Line>,
    points: i64,
    count: i64,
}

struct Calc<'a, 'i> {
    store: &'a Store,
    index: Option<&'a Index<'a>>,
    opts: Options,
    /// Master file names, shared by all lines from the same file (built once with the index).
    files: &'a [Arc<str>],
    /// Procedure orders resolved once: [visit position][order position].
    resolved: Vec<Vec<Option<&'a Procedure>>>,
    cache: Vec<(usize, &'a Procedure)>,
    t: &'static Tables,
    v: &'a Valid<'i>,
    input: &'i PatientMonth,
    insts: Vec<Inst>,
    warnings: Vec<Warning>,
}

fn weekday_key(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

fn points_of(p: &Procedure) -> Option<i64> {
    // 項番11 点数識別 3 = 点数 (プラス). Others (金額, %加算, 減点 …) are not computed yet.
    (p.point_kind == 3).then(|| rules::decimal_to_i64(p.points))
}

fn fmt_qty(d: Decimal) -> String {
    d.normalize().to_string()
}

impl<'a, 'i> Calc<'a, 'i> {
    fn warn(&mut self, code: &'static str, visit: Option<usize>, order: Option<usize>, item: Option<&str>, ja: String, en: String) {
        self.warnings.push(Warning {
            code,
            visit,
            order,
            item_code: item.map(str::to_string),
            message_ja: ja,
            message_en: en,
        });
    }

    fn lookup_procedure(&self, code: &str, date: Date) -> Option<&'a Procedure> {
        match self.index {
            Some(ix) => ix.procedure(code, date),
            None => self.store.procedure(code, date),
        }
    }
    fn lookup_drug(&self, code: &str, date: Date) -> Option<&'a Drug> {
        match self.index {
            Some(ix) => ix.drug(code, date),
            None => self.store.drug(code, date),
        }
    }
    fn lookup_material(&self, code: &str, date: Date) -> Option<&'a Material> {
        match self.index {
            Some(ix) => ix.material(code, date),
            None => self.store.material(code, date),
        }
    }

    /// `store.procedure` memoised for this calculation. Keyed by the address of the code string
    /// (rule-table and master strings live for the whole calculation); a hit is reused only when
    /// the cached version is valid on `date`, so the result is always the store's.
    fn proc_at(&mut self, code: &str, date: Date) -> Option<&'a Procedure> {
        let key = code.as_ptr() as usize;
        for (k, p) in &self.cache {
            if *k == key && p.common.code.len() == code.len() && p.common.valid_from <= date && date <= p.common.valid_to {
                return Some(*p);
            }
        }
        let p = self.lookup_procedure(code, date)?;
        self.cache.push((key, p));
        Some(p)
    }

    fn explain(&self, source: Source, rule: &'static str, detail: String) -> Explain {
        let master_file = match self.files.get(source.file as usize) {
            Some(f) => f.clone(),
            None => Arc::from(self.store.source_name(source)),
        };
        Explain {
            rule,
            master_file,
            master_line: source.line,
            detail,
        }
    }

    fn pline(&self, p: &Procedure, rule: &'static str, qty: Option<Decimal>) -> Line {
        Line {
            max_count: p.max_count,
            code: p.common.code.clone(),
            name: p.common.name.clone(),
            kind: LineKind::Procedure,
            quantity: qty,
            explain: self.explain(p.common.source, rule, String::new()),
        }
    }

    fn shikibetsu_of(&mut self, r: &'static Rules, p: &Procedure, visit: usize, order: Option<usize>) -> Option<&'static str> {
        // 診療識別 from 項番15 点数欄集計先識別(入院外) via 別紙7-2 → 別表20 (data/rules.toml).
        match r.shikibetsu.get(&p.aggregate_out) {
            Some(s) => Some(s.as_str()),
            None => {
                let code = p.common.code.clone();
                let agg = p.aggregate_out;
                self.warn(
                    "W_AGGREGATE",
                    Some(visit),
                    order,
                    Some(&code),
                    format!("{code} の点数欄集計先(入院外) {agg} に対応する診療識別がありません(入院専用の項目の可能性)。算定しません"),
                    format!("{code}: no 診療識別 for 集計先(入院外) {agg} (inpatient-only item?); not billed"),
                );
                None
            }
        }
    }

    fn explain_missing(&mut self, code: &str, date: Date, visit: usize, order: Option<usize>, want_ja: &str, want_en: &str) {
        let (wcode, ja, en) = match self.store.get(code, date) {
            Some(e) => {
                let k = e.kind();
                (
                    "W_WRONG_KIND",
                    format!("{code} は{}マスターのコードで、{want_ja}として使えません", k.name_ja()),
                    format!("{code} is a {} code, not a {want_en}", k.as_str()),
                )
            }
            None if !self.store.history(code).is_empty() => (
                "W_NOT_VALID",
                format!("{code} は {date} に有効ではありません(マスターの有効期間外)。算定しません"),
                format!("{code} is not valid on {date} (outside its master validity); not billed"),
            ),
            None => (
                "W_UNKNOWN_CODE",
                format!("{code} はマスターにありません。算定しません"),
                format!("{code} is not in the master; not billed"),
            ),
        };
        self.warn(wcode, Some(visit), order, Some(code), ja, en);
    }

    /// Warnings from the master's eligibility fields for an ordered item.
    fn check_item(&mut self, p: &Procedure, date: Date, visit: usize, order: usize) {
        let code = p.common.code.clone();
        // 項番13 入外適用区分 1 = 入院のみ.
        if p.inout == 1 {
            self.warn(
                "W_INPATIENT_ONLY",
                Some(visit),
                Some(order),
                Some(&code),
                format!("{code} は入院のみの項目です"),
                format!("{code} is an inpatient-only item"),
            );
        }
        // 項番19 病院・診療所区分: 1 病院のみ, 2 診療所のみ.
        if (p.hospital_clinic == 1 && self.v.clinic) || (p.hospital_clinic == 2 && !self.v.clinic) {
            let (ja, en) = if p.hospital_clinic == 1 {
                ("病院のみ", "hospitals only")
            } else {
                ("診療所のみ", "clinics only")
            };
            self.warn(
                "W_FACILITY",
                Some(visit),
                Some(order),
                Some(&code),
                format!("{code} は{ja}の項目です"),
                format!("{code} is for {en}"),
            );
        }
        // 項番41/42 上下限年齢.
        if !rules::age_in_range(&p.age_lower, &p.age_upper, self.v.birth, date) {
            let (lo, hi) = (p.age_lower.clone(), p.age_upper.clone());
            self.warn(
                "W_AGE",
                Some(visit),
                Some(order),
                Some(&code),
                format!("{code} の年齢制限(下限 {lo} / 上限 {hi})に該当しません"),
                format!("{code}: patient outside the master age limits (lower {lo}, upper {hi})"),
            );
        }
        // 項番30 きざみ値計算識別: not computed yet.
        if p.step_kind != 0 {
            self.warn(
                "W_STEP",
                Some(visit),
                Some(order),
                Some(&code),
                format!("{code} のきざみ値計算は未対応です(所定点数のみ)"),
                format!("{code}: きざみ (stepped) points are not computed yet (base points only)"),
            );
        }
    }

    /// Attach an addition to a base unit: same 点数・回数算定単位 when the master gives both the
    /// same 注加算コード (項番38), otherwise its own unit in the addition's 診療識別.
    #[allow(clippy::too_many_arguments)]
    fn attach(&mut self, r: &'static Rules, base: &Procedure, unit: &mut Inst, add: &'a Procedure, rule: &'static str, visit: usize, order: Option<usize>) {
        let Some(pts) = points_of(add) else {
            self.point_kind_warning(add, visit, order);
            return;
        };
        let line = self.pline(add, rule, None);
        if !base.addition_code.is_empty() && base.addition_code != "0" && base.addition_code == add.addition_code {
            unit.lines.push(line);
            unit.points += pts;
        } else if let Some(s) = self.shikibetsu_of(r, add, visit, order) {
            self.insts.push(Inst {
                date: unit.date,
                visit,
                shikibetsu: s,
                lines: vec![line],
                points: pts,
                count: unit.count,
            });
        }
    }

    fn point_kind_warning(&mut self, p: &Procedure, visit: usize, order: Option<usize>) {
        let code = p.common.code.clone();
        let k = p.point_kind;
        self.warn(
            "W_POINT_KIND",
            Some(visit),
            order,
            Some(&code),
            format!("{code} の点数識別 {k} (金額・%加算・減点等) は未対応です。算定しません"),
            format!("{code}: 点数識別 {k} (yen / percent / reduction) is not supported yet; not billed"),
        );
    }

    /// Automatic 年齢加算 (master 項番100–111 年齢加算①–④; e.g. B-V 乳幼児加算, 処方料 乳幼児加算,
    /// 初診料 A000 注6 乳幼児加算): add each code whose age range holds on the date.
    fn age_additions(&mut self, r: &'static Rules, base: &'a Procedure, unit: &mut Inst, visit: usize, order: Option<usize>) {
        for a in &base.age_additions {
            if a.code.trim_fast().is_empty() || a.code == "0" || !rules::age_in_range(&a.lower, &a.upper, self.v.birth, unit.date) {
                continue;
            }
            match self.proc_at(&a.code, unit.date) {
                Some(add) => self.attach(r, base, unit, add, "年齢加算 (マスター項番100–111, 自動算定)", visit, order),
                None => {
                    let code = a.code.clone();
                    self.explain_missing(&code, unit.date, visit, order, "年齢加算", "age addition");
                }
            }
        }
    }

    fn rules_on(&mut self, date: Date, visit: usize) -> Option<&'static Rules> {
        let r = self.t.rules_on(date);
        if r.is_none() {
            self.warn(
                "W_NO_RULES",
                Some(visit),
                None,
                None,
                format!("{date} に適用できる算定ルール表がありません"),
                format!("no rule table covers {date}"),
            );
        }
        r
    }

    fn run_visit(&mut self, vi: usize, killed_days: &[Date]) {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        let Some(r) = self.rules_on(date, visit) else {
            return;
        };
        // A000 初診料 / A001 再診料 (+ time and age additions, A001 注8 外来管理加算).
        match v.consultation {
            Consultation::Initial => self.consultation(r, &r.initial, &r.time_initial, vi, false),
            Consultation::Revisit => {
                self.consultation(r, &r.revisit, &r.time_revisit, vi, true);
                self.outpatient_mgmt(r, vi, killed_days);
            }
            Consultation::None => {}
        }
        self.procedures(r, vi);
        self.prescriptions(r, vi);
    }

    /// A000 初診料 / A001 再診料 with 時間外・休日・深夜加算 (A000 注7, A001 注5), their 乳幼児
    /// variants (A000 注7 / A001 注6, replacing 乳幼児加算), 乳幼児加算 (A000 注6 / A001 注4) and
    /// 夜間・早朝等加算 (A000 注9 / A001 注7).
    fn consultation(&mut self, r: &'static Rules, code: &str, tc: &TimeCodes, vi: usize, revisit: bool) {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        let Some(base) = self.proc_at(code, date) else {
            self.explain_missing(code, date, visit, None, "初診料・再診料", "consultation fee");
            return;
        };
        let Some(pts) = points_of(base) else {
            self.point_kind_warning(base, visit, None);
            return;
        };
        let rule = if revisit { "A001 再診料" } else { "A000 初診料" };
        let Some(sk) = self.shikibetsu_of(r, base, visit, None) else {
            return;
        };
        let mut unit = Inst {
            date,
            visit,
            shikibetsu: sk,
            lines: vec![self.pline(base, rule, None)],
            points: pts,
            count: 1,
        };
        let class = self.time_class(r, vi, base);
        // Units made by additions with their own unit go after the base unit.
        let mark = self.insts.len();
        let mut infant_time = false;
        let pick: Option<(&str, &str, &'static str)> = match class {
            TimeClass::Normal => None,
            TimeClass::EarlyLate => Some((
                &tc.early_late,
                "",
                if revisit {
                    "A001 注7 夜間・早朝等加算"
                } else {
                    "A000 注9 夜間・早朝等加算"
                },
            )),
            TimeClass::Overtime => Some((
                &tc.overtime,
                &tc.infant_overtime,
                if revisit {
                    "A001 注5/注6 時間外加算"
                } else {
                    "A000 注7 時間外加算"
                },
            )),
            TimeClass::Holiday => Some((
                &tc.holiday,
                &tc.infant_holiday,
                if revisit { "A001 注5/注6 休日加算" } else { "A000 注7 休日加算" },
            )),
            TimeClass::Night => Some((&tc.night, &tc.infant_night, if revisit { "A001 注5/注6 深夜加算" } else { "A000 注7 深夜加算" })),
        };
        if let Some((adult, infant, rule)) = pick {
            // The 乳幼児 variant applies when the master's age range of that code holds (項番41/42).
            let infant_p = if infant.is_empty() { None } else { self.proc_at(infant, date) };
            let chosen = match infant_p {
                Some(ip) if rules::age_in_range(&ip.age_lower, &ip.age_upper, self.v.birth, date) => {
                    infant_time = true;
                    Some(ip)
                }
                _ => self.proc_at(adult, date),
            };
            match chosen {
                Some(add) => {
                    // 項番43 時間加算区分 of the addition must match the class (1 時間外, 2/3 休日, 4 深夜, 6 夜間・早朝等).
                    let expect: &[u8] = match class {
                        TimeClass::Overtime => &[1],
                        TimeClass::Holiday => &[2, 3],
                        TimeClass::Night => &[4],
                        _ => &[6],
                    };
                    if !expect.contains(&add.time_kind) {
                        let c = add.common.code.clone();
                        let k = add.time_kind;
                        self.warn(
                            "W_TABLE",
                            Some(visit),
                            None,
                            Some(&c),
                            format!("{c} の時間加算区分({k})が時間帯の区分と合いません(data/rules.toml を確認)"),
                            format!("{c}: 時間加算区分 {k} does not match the time class (check data/rules.toml)"),
                        );
                    }
                    // 項番19: 夜間・早朝等加算 is 診療所のみ (2); checked from the master.
                    if add.hospital_clinic == 2 && !self.v.clinic {
                    } else {
                        self.attach(r, base, &mut unit, add, rule, visit, None);
                    }
                }
                None => self.explain_missing(adult, date, visit, None, "時間加算", "time addition"),
            }
        }
        if !infant_time {
            // A000 注6 / A001 注4 乳幼児加算 from the base's 年齢加算 (項番100–111).
            self.age_additions(r, base, &mut unit, visit, None);
        }
        self.insts.insert(mark, unit);
    }

    fn time_class(&mut self, r: &'static Rules, vi: usize, base: &Procedure) -> TimeClass {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        // 項番43 時間加算区分 on the base: 1 (or 3) = time additions allowed.
        let (Some(minute), true) = (v.minute, base.time_kind != 0) else {
            return TimeClass::Normal;
        };
        if !self.v.any_posted {
            self.warn(
                "W_NO_POSTED_HOURS",
                Some(visit),
                None,
                None,
                "institution.posted_hours がないため時間外等の加算を判定しません".into(),
                "no institution.posted_hours: time additions are not determined".into(),
            );
            return TimeClass::Normal;
        }
        if !self.t.holidays_cover(date) {
            self.warn(
                "W_HOLIDAYS",
                Some(visit),
                None,
                None,
                format!("祝日表は {date} を含みません"),
                format!("the holiday table does not cover {date}"),
            );
        }
        let clock = &r.clock;
        let key = if self.t.is_national_holiday(date) || (rules::is_kyujitsu(self.t, clock, date) && date.weekday() != Weekday::Sun) {
            "holiday"
        } else {
            weekday_key(date.weekday())
        };
        let slot = DAY_KEYS.iter().position(|d| *d == key).unwrap_or(0);
        let within = self
            .v
            .posted
            .get(slot)
            .is_some_and(|spans| spans.iter().any(|(a, b)| *a <= minute && minute < *b));
        let early_ok = self.v.clinic && self.v.weekly_minutes >= clock.early_late_min_weekly_minutes;
        rules::classify(self.t, clock, date, minute, within, early_ok)
    }

    /// A001 注8 外来管理加算: on a 再診 day when nothing flagged by 項番56 外来管理加算区分 = 1 is
    /// billed that day; 診療所 and hospitals below the bed limit only.
    fn outpatient_mgmt(&mut self, r: &'static Rules, vi: usize, killed_days: &[Date]) {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        if killed_days.contains(&date) {
            return;
        }
        if !self.v.clinic && self.input.institution.beds > r.outpatient_mgmt_max_beds {
            return;
        }
        let Some(p) = self.proc_at(&r.outpatient_mgmt, date) else {
            let c = r.outpatient_mgmt.clone();
            self.explain_missing(&c, date, visit, None, "外来管理加算", "外来管理加算");
            return;
        };
        if p.outpatient_mgmt != 2 {
            let c = p.common.code.clone();
            self.warn(
                "W_TABLE",
                Some(visit),
                None,
                Some(&c),
                format!("{c} はマスター上 外来管理加算(項番56=2)ではありません"),
                format!("{c} is not flagged as 外来管理加算 (項番56 = 2) in the master"),
            );
        }
        let Some(pts) = points_of(p) else { return };
        if let Some(s) = self.shikibetsu_of(r, p, visit, None) {
            let line = self.pline(p, "A001 注8 外来管理加算 (自動算定)", None);
            self.insts.push(Inst {
                date,
                visit,
                shikibetsu: s,
                lines: vec![line],
                points: pts,
                count: 1,
            });
        }
    }

    /// Procedures (検査, 処置, 注射, 画像, 医学管理 …): points from the master; 包括 of 包括対象検査
    /// (D007 注 etc.); drugs/materials used with them.
    fn procedures(&mut self, r: &'static Rules, vi: usize) {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        // group (項番16) → [(order, procedure)]
        let mut bundled: BTreeMap<u8, Vec<(usize, &'a Procedure)>> = BTreeMap::new();
        let mut last_shikibetsu: Option<(&'static str, bool)> = None;
        for (pos, (oi, o)) in v.orders.iter().enumerate() {
            match o {
                OrderIn::Procedure {
                    code,
                    count,
                    qty,
                    drugs,
                    materials,
                } => {
                    let Some(p) = self.resolved.get(vi).and_then(|r| r.get(pos)).copied().flatten() else {
                        self.explain_missing(code, date, visit, Some(*oi), "診療行為", "procedure");
                        continue;
                    };
                    self.check_item(p, date, visit, *oi);
                    let Some(sk) = self.shikibetsu_of(r, p, visit, Some(*oi)) else { continue };
                    let injection = (300..=331).contains(&p.aggregate_out);
                    last_shikibetsu = Some((sk, injection));
                    if p.bundled_test != 0 && r.bundle_for(p.bundled_test).is_some() {
                        bundled.entry(p.bundled_test).or_default().push((*oi, p));
                    } else {
                        match points_of(p) {
                            Some(pts) => {
                                let mut unit = Inst {
                                    date,
                                    visit,
                                    shikibetsu: sk,
                                    lines: vec![self.pline(p, "点数表 所定点数 (マスター項番12)", *qty)],
                                    points: pts,
                                    count: *count,
                                };
                                let mark = self.insts.len();
                                self.age_additions(r, p, &mut unit, visit, Some(*oi));
                                self.insts.insert(mark, unit);
                            }
                            None => self.point_kind_warning(p, visit, Some(*oi)),
                        }
                    }
                    self.order_drugs(drugs, sk, injection, date, visit, *oi);
                    self.order_materials(materials, sk, date, visit, *oi);
                }
                OrderIn::Loose { drugs, materials } => match last_shikibetsu {
                    Some((sk, injection)) => {
                        self.order_drugs(drugs, sk, injection, date, visit, *oi);
                        self.order_materials(materials, sk, date, visit, *oi);
                    }
                    None => self.warn(
                        "W_LOOSE_ITEM",
                        Some(visit),
                        Some(*oi),
                        None,
                        "先行する診療行為がないため、薬剤・材料の診療識別が決まりません。算定しません(診療行為のオーダーの drugs / materials に書いてください)"
                            .into(),
                        "no preceding procedure in this visit to take the 診療識別 from; not billed (list drugs/materials on the procedure order)".into(),
                    ),
                },
                OrderIn::Prescription { .. } => {}
            }
        }
        for (group, list) in bundled {
            self.bundle(r, group, list, date, visit);
        }
    }

    /// 包括 by item count (D007 注 血液化学検査 etc.; master 項番16 包括対象検査): once per day,
    /// from the first step the unit is billed at the step's points whatever the items' sum.
    fn bundle(&mut self, r: &'static Rules, group: u8, mut list: Vec<(usize, &'a Procedure)>, date: Date, visit: usize) {
        let Some(b) = r.bundle_for(group) else { return };
        // Distinct items (the same item twice the same day counts once).
        let mut seen: Vec<&str> = Vec::new();
        list.retain(|(_, p)| {
            let new = !seen.contains(&p.common.code.as_str());
            seen.push(&p.common.code);
            new
        });
        let n = list.len();
        let step = b.steps.iter().rev().find(|(min, _)| n >= *min).map(|(_, pts)| *pts);
        match step {
            Some(pts) => {
                let Some(sk) = list.first().and_then(|(_, p)| r.shikibetsu.get(&p.aggregate_out)).map(String::as_str) else {
                    return;
                };
                let lines = list
                    .iter()
                    .map(|(_, p)| {
                        let mut l = self.pline(p, "D007 注 包括 (包括対象検査, 項目数による所定点数)", None);
                        if self.opts.detail {
                            l.explain.detail = format!("{n}項目 → {pts}点");
                        }
                        l
                    })
                    .collect();
                self.insts.push(Inst {
                    date,
                    visit,
                    shikibetsu: sk,
                    lines,
                    points: pts,
                    count: 1,
                });
            }
            None => {
                for (oi, p) in list {
                    let Some(pts) = points_of(p) else { continue };
                    let Some(sk) = r.shikibetsu.get(&p.aggregate_out).map(String::as_str) else {
                        continue;
                    };
                    let mut l = self.pline(p, "点数表 所定点数 (包括対象検査, 包括の項目数未満)", None);
                    if self.opts.detail {
                        l.explain.detail = format!("{n}項目 (< {})", b.steps.first().map(|s| s.0).unwrap_or(0));
                    }
                    let mut unit = Inst {
                        date,
                        visit,
                        shikibetsu: sk,
                        lines: vec![l],
                        points: pts,
                        count: 1,
                    };
                    let mark = self.insts.len();
                    self.age_additions(r, p, &mut unit, visit, Some(oi));
                    self.insts.insert(mark, unit);
                }
            }
        }
    }

    fn drug_line(&self, d: &Drug, qty: Decimal, rule: &'static str, detail: String) -> Line {
        Line {
            max_count: 0,
            code: d.common.code.clone(),
            name: d.common.name.clone(),
            kind: LineKind::Drug,
            quantity: Some(qty),
            explain: self.explain(d.common.source, rule, detail),
        }
    }

    fn resolve_drugs(&mut self, list: &[ItemIn<'_>], date: Date, visit: usize, order: usize) -> Vec<(&'a Drug, Decimal)> {
        let mut out = Vec::with_capacity(list.len());
        for it in list {
            match self.lookup_drug(it.code, date) {
                Some(d) => out.push((d, it.qty)),
                None => self.explain_missing(it.code, date, visit, Some(order), "医薬品", "drug"),
            }
        }
        out
    }

    /// Drugs used with a procedure: one unit per order; ≤ 15円 → 1点 for 注射 (G100 注1), not
    /// billable elsewhere (J300, K940, D500, E300 …).
    fn order_drugs(&mut self, list: &[ItemIn<'_>], sk: &'static str, injection: bool, date: Date, visit: usize, order: usize) {
        if list.is_empty() {
            return;
        }
        let drugs = self.resolve_drugs(list, date, visit, order);
        if drugs.is_empty() {
            return;
        }
        let yen: Decimal = drugs.iter().map(|(d, q)| d.price * *q).sum();
        let (small, rule) = if injection {
            (SmallDrug::OnePoint, "G100 薬剤 (1回分の薬価, 15円以下は1点)")
        } else {
            (SmallDrug::NotBillable, "J300/D500/E300等 薬剤 (15円以下は算定不可)")
        };
        let pts = rules::drug_points(yen, small);
        if pts == 0 {
            // Not billable: recorded in the warnings so the omission is explained.
            self.warn(
                "W_DRUG_NOT_BILLABLE",
                Some(visit),
                Some(order),
                None,
                format!("薬剤 {yen}円 は15円以下のため算定できません"),
                format!("drugs of {yen} yen (≤ 15 yen) are not billable with this procedure"),
            );
            return;
        }
        let detail = if self.opts.detail { format!("{yen}円 → {pts}点") } else { String::new() };
        let lines = drugs.iter().map(|(d, q)| self.drug_line(d, *q, rule, detail.clone())).collect();
        self.insts.push(Inst {
            date,
            visit,
            shikibetsu: sk,
            lines,
            points: pts,
            count: 1,
        });
    }

    /// 特定保険医療材料: 材料価格 ÷ 10, 四捨五入; one unit per material.
    fn order_materials(&mut self, list: &[ItemIn<'_>], sk: &'static str, date: Date, visit: usize, order: usize) {
        for it in list {
            let Some(m): Option<&Material> = self.lookup_material(it.code, date) else {
                self.explain_missing(it.code, date, visit, Some(order), "特定器材", "material");
                continue;
            };
            let yen = m.price * it.qty;
            let pts = rules::material_points(yen);
            if pts <= 0 {
                continue;
            }
            let line = Line {
                max_count: 0,
                code: m.common.code.clone(),
                name: m.common.name.clone(),
                kind: LineKind::Material,
                quantity: Some(it.qty),
                explain: self.explain(
                    m.common.source,
                    "特定保険医療材料 (材料価格÷10, 四捨五入)",
                    if self.opts.detail {
                        format!("{}円×{} = {yen}円 → {pts}点", m.price, fmt_qty(it.qty))
                    } else {
                        String::new()
                    },
                ),
            };
            self.insts.push(Inst {
                date,
                visit,
                shikibetsu: sk,
                lines: vec![line],
                points: pts,
                count: 1,
            });
        }
    }

    /// F 投薬: 剤 units (F200), 7種類以上 (F200 注2), 調剤料 (F000), 処方料 (F100), 処方箋料 (F400).
    fn prescriptions(&mut self, r: &'static Rules, vi: usize) {
        let v = &self.v.visits[vi];
        let (date, visit) = (v.date, v.index);
        struct Rx<'a, 'u> {
            order: usize,
            dispensing: Dispensing,
            category: Category,
            mult: i64,
            temporary: bool,
            usage: Option<&'u str>,
            drugs: Vec<(&'a Drug, Decimal)>,
            yen: Decimal,
        }
        let mut rxs: Vec<Rx<'a, 'i>> = Vec::new();
        for (oi, o) in &v.orders {
            let OrderIn::Prescription {
                dispensing,
                category,
                mult,
                temporary,
                usage,
                drugs,
            } = o
            else {
                continue;
            };
            let ds = self.resolve_drugs(drugs, date, visit, *oi);
            for (d, _) in &ds {
                // 項番28 剤形: 1 内用, 4 注射, 6 外用.
                let ok = match category {
                    Category::Internal | Category::AsNeeded => d.form == 1,
                    Category::External => d.form == 6,
                };
                if !ok {
                    let c = d.common.code.clone();
                    let f = d.form;
                    self.warn(
                        "W_DRUG_FORM",
                        Some(visit),
                        Some(*oi),
                        Some(&c),
                        format!("{c} の剤形({f})が処方区分と合いません"),
                        format!("{c}: 剤形 {f} does not match the prescription category"),
                    );
                }
            }
            if ds.is_empty() {
                continue;
            }
            let yen: Decimal = ds.iter().map(|(d, q)| d.price * *q).sum();
            // 剤 grouping (F200): orders of the same visit with the same 用法 (`usage`), category,
            // dispensing and days form one 剤 — the 15円 rule then applies to their sum.
            if let Some(u) = usage {
                if let Some(x) = rxs
                    .iter_mut()
                    .find(|x| x.usage == Some(*u) && x.dispensing == *dispensing && x.category == *category && x.mult == *mult && x.temporary == *temporary)
                {
                    x.drugs.extend(ds);
                    x.yen += yen;
                    continue;
                }
            }
            rxs.push(Rx {
                order: *oi,
                dispensing: *dispensing,
                category: *category,
                mult: *mult,
                temporary: *temporary,
                usage: *usage,
                drugs: ds,
                yen,
            });
        }
        if rxs.is_empty() {
            return;
        }
        let rx = &r.rx;
        // F200 注2 / F100 2 / F400 2: 種類数 of 内服薬 in one 処方 (per dispensing mode); 臨時 ≤ 14日 excluded;
        // a 剤 whose 1日分 ≤ 205円 counts as 1 種類.
        let kinds = |mode: Dispensing| -> usize {
            rxs.iter()
                .filter(|x| x.dispensing == mode && x.category == Category::Internal && !(x.temporary && x.mult <= rx.temporary_max_days as i64))
                .map(|x| if x.yen <= rx.one_kind_max_yen { 1 } else { x.drugs.len() })
                .sum()
        };
        let seven_in = kinds(Dispensing::InHouse) >= rx.seven_kinds;
        let seven_out = kinds(Dispensing::Outside) >= rx.seven_kinds;
        for x in &rxs {
            if x.dispensing != Dispensing::InHouse {
                continue;
            }
            let (sk, unit_ja) = match x.category {
                Category::Internal => (&r.drug_shikibetsu.internal, "1剤1日分"),
                Category::AsNeeded => (&r.drug_shikibetsu.as_needed, "1回分"),
                Category::External => (&r.drug_shikibetsu.external, "1調剤分"),
            };
            // F200 薬剤: 15円 rule on the 剤's yen per unit (内服 1日分, 屯服 1回分, 外用 1調剤).
            let mut pts = rules::drug_points(x.yen, SmallDrug::OnePoint);
            let mut detail = if self.opts.detail {
                format!("{unit_ja} {}円 → {pts}点", x.yen)
            } else {
                String::new()
            };
            let mut rule = "F200 薬剤 (15円ルール)";
            if seven_in && x.category == Category::Internal {
                let before = pts;
                pts = rules::reduced_points(pts, rx.seven_kinds_drug_percent);
                if self.opts.detail {
                    detail = format!("{detail}; 7種類以上 {before}点×{}% → {pts}点", rx.seven_kinds_drug_percent);
                }
                rule = "F200 注2 薬剤 7種類以上の内服薬 (100分の90)";
            }
            let lines = x.drugs.iter().map(|(d, q)| self.drug_line(d, *q, rule, detail.clone())).collect();
            self.insts.push(Inst {
                date,
                visit,
                shikibetsu: sk.as_str(),
                lines,
                points: pts,
                count: x.mult,
            });
            let _ = x.order;
        }
        let in_house = rxs.iter().any(|x| x.dispensing == Dispensing::InHouse);
        let outside = rxs.iter().any(|x| x.dispensing == Dispensing::Outside);
        if in_house && outside {
            self.warn(
                "W_RX_MIXED",
                Some(visit),
                None,
                None,
                "同じ受診で院内処方と院外処方が混在しています(処方料と処方箋料の両方を算定しました)".into(),
                "in-house and outside prescriptions in one visit (both 処方料 and 処方箋料 billed)".into(),
            );
        }
        if in_house {
            // F000 調剤料 1 イ 内服薬・浸煎薬・屯服薬 / ロ 外用薬 — 1回の処方につき.
            if rxs.iter().any(|x| x.dispensing == Dispensing::InHouse && x.category != Category::External) {
                self.simple(r, &rx.dispensing_internal, "F000 調剤料 1 イ 内服薬・屯服薬 (1処方につき)", date, visit);
            }
            if rxs.iter().any(|x| x.dispensing == Dispensing::InHouse && x.category == Category::External) {
                self.simple(r, &rx.dispensing_external, "F000 調剤料 1 ロ 外用薬 (1処方につき)", date, visit);
            }
            // F100 処方料 (2: 7種類以上の内服薬 / 3: その他) + 注 乳幼児加算 (3歳未満, 年齢加算).
            let (code, rule) = if seven_in {
                (&rx.prescribing_7, "F100 処方料 2 (7種類以上の内服薬)")
            } else {
                (&rx.prescribing, "F100 処方料 3")
            };
            self.simple_with_age(r, code, rule, date, visit);
        }
        if outside {
            // F400 処方箋料 (2: 7種類以上 / 3: その他) + 注 乳幼児加算.
            let (code, rule) = if seven_out {
                (&rx.slip_7, "F400 処方箋料 2 (7種類以上の内服薬)")
            } else {
                (&rx.slip, "F400 処方箋料 3")
            };
            self.simple_with_age(r, code, rule, date, visit);
        }
    }

    fn simple_unit(&mut self, r: &'static Rules, code: &str, rule: &'static str, date: Date, visit: usize) -> Option<(Inst, &'a Procedure)> {
        let Some(p) = self.proc_at(code, date) else {
            self.explain_missing(code, date, visit, None, "自動算定項目", "automatic item");
            return None;
        };
        let Some(pts) = points_of(p) else {
            self.point_kind_warning(p, visit, None);
            return None;
        };
        let sk = self.shikibetsu_of(r, p, visit, None)?;
        Some((
            Inst {
                date,
                visit,
                shikibetsu: sk,
                lines: vec![self.pline(p, rule, None)],
                points: pts,
                count: 1,
            },
            p,
        ))
    }

    fn simple(&mut self, r: &'static Rules, code: &str, rule: &'static str, date: Date, visit: usize) {
        if let Some((u, _)) = self.simple_unit(r, code, rule, date, visit) {
            self.insts.push(u);
        }
    }

    fn simple_with_age(&mut self, r: &'static Rules, code: &str, rule: &'static str, date: Date, visit: usize) {
        if let Some((mut u, p)) = self.simple_unit(r, code, rule, date, visit) {
            let mark = self.insts.len();
            self.age_additions(r, p, &mut u, visit, None);
            self.insts.insert(mark, u);
        }
    }

    /// Month-level items: D026 等 判断料 (月1回 per 検査等実施判断グループ), F500 調剤技術基本料 (月1回).
    fn month_items(&mut self) {
        let v = self.v;
        // 判断料: items with 項番50 = 1 make the 判断料 of their group (項番51) billable once a month,
        // on the first day such an item was done. An explicitly ordered 判断料 is not doubled.
        let mut first: BTreeMap<u8, (Date, usize)> = BTreeMap::new();
        let mut ordered: Vec<&str> = Vec::new();
        for (vpos, vis) in v.visits.iter().enumerate() {
            for (pos, (_, o)) in vis.orders.iter().enumerate() {
                if let OrderIn::Procedure { code, .. } = o {
                    ordered.push(code);
                    if let Some(p) = self.resolved.get(vpos).and_then(|r| r.get(pos)).copied().flatten() {
                        if p.judgement_kind == 1 && p.judgement_group != 0 {
                            first.entry(p.judgement_group).or_insert((vis.date, vis.index));
                        }
                    }
                }
            }
        }
        let mut by_date: Vec<(u8, Date, usize)> = first.into_iter().map(|(g, (d, i))| (g, d, i)).collect();
        by_date.sort_by_key(|(g, d, _)| (*d, *g));
        for (g, date, visit) in by_date {
            let Some(r) = self.t.rules_on(date) else {
                continue;
            };
            let Some(code) = r.judgement.get(&g) else {
                self.warn(
                    "W_JUDGEMENT",
                    Some(visit),
                    None,
                    None,
                    format!("検査等実施判断グループ {g} の判断料は表にありません"),
                    format!("no 判断料 known for 検査等実施判断グループ {g}"),
                );
                continue;
            };
            if ordered.contains(&code.as_str()) {
                continue;
            }
            if let Some(p) = self.proc_at(code, date) {
                if p.judgement_kind != 2 || p.judgement_group != g {
                    let c = code.clone();
                    self.warn(
                        "W_TABLE",
                        Some(visit),
                        None,
                        Some(&c),
                        format!("{c} はマスター上 グループ{g}の判断料ではありません"),
                        format!("{c} is not the 判断料 of group {g} in the master"),
                    );
                }
            }
            self.simple(r, code, "D026 等 判断料 (月1回, 検査等実施判断グループ, 自動算定)", date, visit);
        }
        // F500 調剤技術基本料 2 (その他): 月1回, 常勤薬剤師 and 院内処方.
        if self.input.institution.pharmacist {
            let first_rx = v.visits.iter().find(|vis| {
                vis.orders.iter().any(|(_, o)| {
                    matches!(
                        o,
                        OrderIn::Prescription {
                            dispensing: Dispensing::InHouse,
                            ..
                        }
                    )
                })
            });
            if let Some(vis) = first_rx {
                if let Some(r) = self.t.rules_on(vis.date) {
                    let code = r.rx.basic.clone();
                    if !ordered.contains(&code.as_str()) {
                        self.simple(r, &code, "F500 調剤技術基本料 2 (月1回, 自動算定)", vis.date, vis.index);
                    }
                }
            }
        }
    }

    /// 項番36 上限回数: warn when a code is billed more often in the month (the limit's period
    /// is read as 1月; the 電子点数表 算定回数テーブル will refine this).
    fn month_limits(&mut self) {
        let mut counts: BTreeMap<&str, (i64, u16)> = BTreeMap::new();
        for u in &self.insts {
            for l in &u.lines {
                if l.kind == LineKind::Procedure && l.max_count > 0 {
                    counts.entry(l.code.as_str()).or_insert((0, l.max_count)).0 += u.count;
                }
            }
        }
        let mut found = Vec::new();
        for (code, (n, max)) in counts {
            if n > max as i64 {
                found.push((code.to_string(), n, max));
            }
        }
        for (code, n, max) in found {
            self.warn(
                "W_MAX_COUNT",
                None,
                None,
                Some(&code),
                format!("{code} が月{n}回です(上限回数 {max})"),
                format!("{code} billed {n} times this month (limit {max})"),
            );
        }
    }
}

/// Calculate one patient-month. Errors: input that cannot be calculated (every problem, each
/// naming its field, e.g. `visits[1].orders[2].days`). Master problems are warnings.
pub fn calculate(store: &Store, input: &PatientMonth) -> Result<Outcome, CalcError> {
    calculate_with(store, input, Options::default())
}

/// [`calculate`] with options.
pub fn calculate_with(store: &Store, input: &PatientMonth, opts: Options) -> Result<Outcome, CalcError> {
    calculate_in(store, None, input, opts)
}

/// The calculation, looking codes up in `index` when given (see [`crate::Engine`]).
pub(crate) fn calculate_in<'a>(store: &'a Store, index: Option<&'a Index<'a>>, input: &PatientMonth, opts: Options) -> Result<Outcome, CalcError> {
    let valid = validate(input)?;
    let t = tables::tables();
    let resolved: Vec<Vec<Option<&Procedure>>> = valid
        .visits
        .iter()
        .map(|vis| {
            vis.orders
                .iter()
                .map(|(_, o)| {
                    if let OrderIn::Procedure { code, .. } = o {
                        match index {
                            Some(ix) => ix.procedure(code, vis.date),
                            None => store.procedure(code, vis.date),
                        }
                    } else {
                        None
                    }
                })
                .collect()
        })
        .collect();
    // Days on which something flagged 外来管理加算区分 = 1 (項番56) is billed.
    let mut killed: Vec<Date> = Vec::new();
    for (vis, rs) in valid.visits.iter().zip(&resolved) {
        if rs.iter().flatten().any(|p| p.outpatient_mgmt == 1) {
            killed.push(vis.date);
        }
    }
    // Without an index (one-off calculations) names are made per explained line instead.
    let files: &[Arc<str>] = index.map(|i| i.files.as_slice()).unwrap_or(&[]);
    let mut c = Calc {
        store,
        index,
        opts,
        files,
        resolved,
        cache: Vec::with_capacity(16),
        t,
        v: &valid,
        input,
        insts: Vec::with_capacity(32),
        warnings: Vec::new(),
    };
    for vi in 0..valid.visits.len() {
        c.run_visit(vi, &killed);
    }
    c.month_items();
    c.month_limits();
    // 初診料 more than once in the month (a production engine's E3003): allowed only after the
    // previous episode ended (A000 通知), which the input cannot tell — warn.
    let initials: Vec<usize> = valid
        .visits
        .iter()
        .filter(|v| v.consultation == Consultation::Initial)
        .map(|v| v.index)
        .collect();
    if initials.len() > 1 {
        for &vi in &initials[1..] {
            c.warn(
                "W_INITIAL_TWICE",
                Some(vi),
                None,
                None,
                "同じ月に初診料が2回以上あります(前の傷病が治癒した後の初診か確認してください)".into(),
                "初診料 more than once in the month (check that the earlier episode had ended)".into(),
            );
        }
    }
    Ok(assemble(valid.month, &valid, c.insts, c.warnings, input.visits.len()))
}

fn assemble(month: YearMonth, valid: &Valid<'_>, insts: Vec<Inst>, warnings: Vec<Warning>, n_visits: usize) -> Outcome {
    let mut day_points: BTreeMap<Date, i64> = BTreeMap::new();
    let mut visit_points: Vec<Option<(Date, i64)>> = vec![None; n_visits];
    for v in &valid.visits {
        if let Some(slot) = visit_points.get_mut(v.index) {
            *slot = Some((v.date, 0));
        }
        day_points.entry(v.date).or_insert(0);
    }
    // Merge identical units (same 診療識別, same lines and quantities, same points) across days.
    let mut units: Vec<(Date, Unit)> = Vec::with_capacity(insts.len());
    for i in insts {
        let total = i.points.saturating_mul(i.count);
        *day_points.entry(i.date).or_insert(0) += total;
        if let Some(Some((_, p))) = visit_points.get_mut(i.visit) {
            *p += total;
        }
        let day = i.date.day();
        let same = |u: &Unit| {
            u.points == i.points
                && u.shinryo_shikibetsu == i.shikibetsu
                && u.lines.len() == i.lines.len()
                && u.lines
                    .iter()
                    .zip(&i.lines)
                    .all(|(a, b)| a.code == b.code && a.quantity == b.quantity && a.kind == b.kind)
        };
        match units.iter_mut().find(|(_, u)| same(u)) {
            Some((_, u)) => {
                u.count += i.count;
                *u.days.entry(day).or_insert(0) += i.count;
            }
            None => {
                let mut days = BTreeMap::new();
                days.insert(day, i.count);
                units.push((
                    i.date,
                    Unit {
                        shinryo_shikibetsu: i.shikibetsu.to_string(),
                        lines: i.lines,
                        points: i.points,
                        count: i.count,
                        days,
                    },
                ));
            }
        }
    }
    // Receipt order: by 診療識別, then first day, then creation order (stable sort).
    units.sort_by(|a, b| a.1.shinryo_shikibetsu.cmp(&b.1.shinryo_shikibetsu).then(a.0.cmp(&b.0)));
    let units: Vec<Unit> = units.into_iter().map(|(_, u)| u).collect();
    let total_points = units.iter().map(Unit::total).sum();
    Outcome {
        month: format!("{:04}-{:02}", month.year, month.month),
        total_points,
        days: day_points
            .into_iter()
            .map(|(d, p)| DayPoints {
                date: d.to_string(),
                points: p,
            })
            .collect(),
        visits: visit_points
            .into_iter()
            .enumerate()
            .filter_map(|(i, x)| {
                x.map(|(d, p)| VisitPoints {
                    visit: i,
                    date: d.to_string(),
                    points: p,
                })
            })
            .collect(),
        units,
        warnings,
    }
}
