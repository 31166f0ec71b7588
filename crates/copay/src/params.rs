//! Dated parameters (`params/*.toml`): every rate, ceiling and date the engine uses.
//!
//! The files are embedded with `include_str!` and parsed at startup; [`Params::from_toml`] loads
//! another copy (e.g. one with the 2026-08 values added) from text.

use crate::kouhi::KouhiRegistry;
use crate::model::{AgeClass, IncomeClass};
use santei_core::date::{Date, YearMonth};
use santei_core::InputError;

pub const EMBEDDED_COPAY: &str = include_str!("../params/copay.toml");
pub const EMBEDDED_KOUHI: &str = include_str!("../params/kouhi_national.toml");
const FILE: &str = "params/copay.toml";

/// An effective-dated value: `(from, Some(v))` = v from that date; `(from, None)` = not in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dated {
    entries: Vec<(Date, Option<i64>)>,
}

/// Result of a dated lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// No entry on or before the date: the parameter is not known for it.
    Unknown,
    /// Known not to be in force on the date.
    Off,
    On(i64),
}

impl Dated {
    pub fn at(&self, d: Date) -> At {
        let mut r = At::Unknown;
        for (from, v) in &self.entries {
            if *from <= d {
                r = match v {
                    Some(x) => At::On(*x),
                    None => At::Off,
                };
            } else {
                break;
            }
        }
        r
    }
    pub fn entries(&self) -> &[(Date, Option<i64>)] {
        &self.entries
    }
    fn parse(v: &toml::Value, field: &str) -> Result<Self, InputError> {
        let t = v.as_table().ok_or_else(|| perr(field, "日付→値の表が必要です", "expected a table of date = value"))?;
        let mut entries = Vec::new();
        for (k, v) in t {
            let d = santei_core::date::parse_iso(k).ok_or_else(|| perr(field, &format!("日付「{k}」が不正です"), &format!("bad date key {k:?}")))?;
            let val = match v {
                toml::Value::Integer(i) => Some(*i),
                toml::Value::Boolean(false) => None,
                _ => return Err(perr(field, "値は整数か false です", "value must be an integer or false")),
            };
            entries.push((d, val));
        }
        entries.sort_by_key(|e| e.0);
        if entries.is_empty() {
            return Err(perr(field, "値がありません", "no values"));
        }
        Ok(Dated { entries })
    }
}

fn perr(field: &str, ja: &str, en: &str) -> InputError {
    InputError::new("P001", FILE, ja.to_string(), en.to_string()).field(field.to_string())
}

/// 高額療養費 parameters for one 所得区分.
#[derive(Clone, Debug)]
pub struct KougakuClass {
    pub class: IncomeClass,
    pub ages: u8,
    pub base: Dated,
    pub threshold: Option<Dated>,
    pub excess_percent: Option<Dated>,
    pub outpatient: Option<Dated>,
    pub many_times: Option<Dated>,
}

/// All parameters, parsed.
#[derive(Clone, Debug)]
pub struct Params {
    pub valid_through: Date,
    pub yen_per_point: Dated,
    pub rounding_unit: Dated,
    pub rates: Vec<(String, Dated)>,
    pub classes: Vec<KougakuClass>,
    pub reached_75_divisor: Dated,
    pub gassan_under70_min: Dated,
    pub tokutei_kyufu_map: Vec<(IncomeClass, IncomeClass)>,
    pub hairyo_increase_cap: Dated,
    pub hairyo_base_percent: Dated,
    pub tokutei_standard: Dated,
    pub tokutei_high_income_dialysis: Dated,
    pub kouhi: KouhiRegistry,
    /// Age boundaries (`[age]`).
    pub age_preschool_until: Dated,
    pub age_school_year_end_month: Dated,
    pub age_school_year_end_day: Dated,
    pub age_elderly_from: Dated,
    pub age_late_elderly_from: Dated,
    /// 法別番号 of health insurance (保険者番号 check).
    pub insurance_houbetsu: Vec<String>,
}

/// Age boundaries resolved for a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeParams {
    pub preschool_until: i32,
    /// (month, day) of the school year's last day.
    pub school_year_end: (u32, u32),
    pub elderly_from: i32,
    pub late_elderly_from: i32,
}

/// Values of one class resolved for a month (plain integers: the split's hot path).
#[derive(Clone, Copy, Debug, Default)]
pub struct ClassValues {
    pub ages: u8,
    pub base: i64,
    /// (threshold, percent) of the 1% formula.
    pub excess: Option<(i64, i64)>,
    pub outpatient: Option<i64>,
    pub many_times: Option<i64>,
}

/// Every parameter resolved for one month.
#[derive(Clone, Debug)]
pub struct MonthParams {
    pub month: YearMonth,
    pub yen_per_point: i64,
    pub unit_yen: i64,
    pub classes: [Option<ClassValues>; 12],
    pub reached_75_divisor: i64,
    pub gassan_under70_min: i64,
    pub tokutei_kyufu_map: [Option<IncomeClass>; 12],
    /// (base_percent, increase_cap) when the 2割 配慮措置 is in force.
    pub hairyo: Option<(i64, i64)>,
}

impl Params {
    /// The parameters shipped with santei.
    pub fn embedded() -> Result<Self, InputError> {
        Self::from_toml(EMBEDDED_COPAY, EMBEDDED_KOUHI)
    }

    pub fn from_toml(copay: &str, kouhi: &str) -> Result<Self, InputError> {
        let t: toml::Table = copay.parse().map_err(|e| InputError::new("P000", FILE, format!("TOML が読めません: {e}"), format!("cannot parse TOML: {e}")))?;
        let get = |path: &str| -> Result<&toml::Value, InputError> {
            let mut cur: Option<&toml::Value> = None;
            let mut tab = &t;
            for (i, part) in path.split('.').enumerate() {
                let v = tab.get(part).ok_or_else(|| perr(path, "項目がありません", "missing item"))?;
                cur = Some(v);
                if i + 1 < path.split('.').count() {
                    tab = v.as_table().ok_or_else(|| perr(path, "表が必要です", "expected a table"))?;
                }
            }
            Ok(cur.unwrap())
        };
        let dated = |path: &str| -> Result<Dated, InputError> { Dated::parse(get(path)?, path) };
        let vt = get("meta.valid_through")?.as_str().and_then(santei_core::date::parse_iso).ok_or_else(|| perr("meta.valid_through", "日付が必要です", "expected a date"))?;
        let mut rates = Vec::new();
        for (k, v) in get("rates")?.as_table().ok_or_else(|| perr("rates", "表が必要です", "expected a table"))? {
            rates.push((k.clone(), Dated::parse(v, &format!("rates.{k}"))?));
        }
        let mut classes = Vec::new();
        for (k, v) in get("kougaku")?.as_table().ok_or_else(|| perr("kougaku", "表が必要です", "expected a table"))? {
            let f = format!("kougaku.{k}");
            let class = IncomeClass::parse(k).ok_or_else(|| perr(&f, "未知の所得区分です", "unknown income class"))?;
            let ct = v.as_table().ok_or_else(|| perr(&f, "表が必要です", "expected a table"))?;
            let mut ages = 0u8;
            for a in ct.get("age").and_then(|a| a.as_array()).ok_or_else(|| perr(&f, "age がありません", "missing age"))? {
                ages |= a.as_str().and_then(AgeClass::parse).ok_or_else(|| perr(&f, "age が不正です", "bad age class"))?.bit();
            }
            let hh = ct.get("household").and_then(|h| h.as_table()).ok_or_else(|| perr(&f, "household がありません", "missing household"))?;
            let opt = |tab: &toml::Table, key: &str| -> Result<Option<Dated>, InputError> {
                tab.get(key).map(|v| Dated::parse(v, &format!("{f}.{key}"))).transpose()
            };
            let base = opt(hh, "base")?.ok_or_else(|| perr(&f, "household.base がありません", "missing household.base"))?;
            let threshold = opt(hh, "threshold")?;
            let excess_percent = opt(hh, "excess_percent")?;
            if threshold.is_some() != excess_percent.is_some() {
                return Err(perr(&f, "threshold と excess_percent は対で指定します", "threshold and excess_percent go together"));
            }
            classes.push(KougakuClass { class, ages, base, threshold, excess_percent, outpatient: opt(ct, "outpatient")?, many_times: opt(ct, "many_times")? });
        }
        let mut tokutei_kyufu_map = Vec::new();
        for (k, v) in get("tokutei_kyufu.class_map")?.as_table().ok_or_else(|| perr("tokutei_kyufu.class_map", "表が必要です", "expected a table"))? {
            let from = IncomeClass::parse(k).ok_or_else(|| perr("tokutei_kyufu.class_map", "未知の所得区分です", "unknown income class"))?;
            let to = v.as_str().and_then(IncomeClass::parse).ok_or_else(|| perr("tokutei_kyufu.class_map", "未知の所得区分です", "unknown income class"))?;
            tokutei_kyufu_map.push((from, to));
        }
        Ok(Params {
            valid_through: vt,
            yen_per_point: dated("points.yen_per_point")?,
            rounding_unit: dated("rounding.unit_yen")?,
            rates,
            classes,
            reached_75_divisor: dated("reached_75.divisor")?,
            gassan_under70_min: dated("gassan.under70_min_yen")?,
            tokutei_kyufu_map,
            hairyo_increase_cap: dated("hairyo.increase_cap")?,
            hairyo_base_percent: dated("hairyo.base_percent")?,
            tokutei_standard: dated("tokutei_shippei.standard")?,
            tokutei_high_income_dialysis: dated("tokutei_shippei.high_income_dialysis")?,
            kouhi: KouhiRegistry::from_toml(kouhi)?,
            age_preschool_until: dated("age.preschool_until_age")?,
            age_school_year_end_month: dated("age.school_year_end_month")?,
            age_school_year_end_day: dated("age.school_year_end_day")?,
            age_elderly_from: dated("age.elderly_from_age")?,
            age_late_elderly_from: dated("age.late_elderly_from_age")?,
            insurance_houbetsu: get("numbers.insurance_houbetsu")?
                .as_array()
                .ok_or_else(|| perr("numbers.insurance_houbetsu", "配列が必要です", "expected an array"))?
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| perr("numbers.insurance_houbetsu", "文字列が必要です", "expected strings")))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Resolve every parameter for a month (the first day of the month is the reference date).
    pub fn month(&self, month: YearMonth) -> Result<MonthParams, InputError> {
        let d = month.first_day();
        let no = |what: &str| {
            InputError::new(
                "C001",
                "input",
                format!("{month} の{what}のパラメータがありません（推測はしません）"),
                format!("no {what} parameters for {month} (santei does not guess)"),
            )
            .field("month")
        };
        if d > self.valid_through {
            return Err(InputError::new(
                "C002",
                "input",
                format!("{month} の高額療養費の限度額は未公表のため計算できません（{} まで対応）", self.valid_through),
                format!("the 高額療養費 limits for {month} are not in the parameters (known through {})", self.valid_through),
            )
            .field("month"));
        }
        let need = |x: &Dated, what: &str| match x.at(d) {
            At::On(v) => Ok(v),
            _ => Err(no(what)),
        };
        let mut classes = [None; 12];
        for c in &self.classes {
            let base = match c.base.at(d) {
                At::On(v) => v,
                _ => continue, // class not in force this month (e.g. 一般Ⅱ before 2022-10)
            };
            let opt = |x: &Option<Dated>| x.as_ref().and_then(|x| if let At::On(v) = x.at(d) { Some(v) } else { None });
            let excess = match (opt(&c.threshold), opt(&c.excess_percent)) {
                (Some(t), Some(p)) => Some((t, p)),
                _ => None,
            };
            classes[c.class.index()] = Some(ClassValues { ages: c.ages, base, excess, outpatient: opt(&c.outpatient), many_times: opt(&c.many_times) });
        }
        let mut map = [None; 12];
        for (f, t) in &self.tokutei_kyufu_map {
            map[f.index()] = Some(*t);
        }
        let hairyo = match self.hairyo_increase_cap.at(d) {
            At::On(cap) => Some((need(&self.hairyo_base_percent, "配慮措置")?, cap)),
            _ => None,
        };
        Ok(MonthParams {
            month,
            yen_per_point: need(&self.yen_per_point, "点数単価")?,
            unit_yen: need(&self.rounding_unit, "端数処理")?,
            classes,
            reached_75_divisor: need(&self.reached_75_divisor, "75歳到達月")?,
            gassan_under70_min: need(&self.gassan_under70_min, "合算")?,
            tokutei_kyufu_map: map,
            hairyo,
        })
    }

    /// The age boundaries in force on a date.
    pub fn ages(&self, d: Date) -> Result<AgeParams, InputError> {
        let get = |x: &Dated, what: &str| match x.at(d) {
            At::On(v) => Ok(v),
            _ => Err(InputError::new("C004", "input", format!("{d} の年齢区分パラメータ（{what}）がありません"), format!("no age parameter {what} for {d}")).field("date")),
        };
        Ok(AgeParams {
            preschool_until: get(&self.age_preschool_until, "preschool_until_age")? as i32,
            school_year_end: (get(&self.age_school_year_end_month, "school_year_end_month")? as u32, get(&self.age_school_year_end_day, "school_year_end_day")? as u32),
            elderly_from: get(&self.age_elderly_from, "elderly_from_age")? as i32,
            late_elderly_from: get(&self.age_late_elderly_from, "late_elderly_from_age")? as i32,
        })
    }

    /// A named copay rate (`rates.<name>` in the parameter file) on a date.
    pub fn rate(&self, name: &str, d: Date) -> Option<i64> {
        self.rates.iter().find(|(k, _)| k == name).and_then(|(_, v)| if let At::On(x) = v.at(d) { Some(x) } else { None })
    }
}
