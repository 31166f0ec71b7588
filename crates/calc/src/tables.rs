//! Dated rule tables embedded from `data/*.toml` and parsed once: the mappings the master does
//! not carry (which code is the 時間外加算 of 初診料, the 判断料 of each group, the 包括 steps,
//! the 集計先 → 診療識別 map, national holidays). Points never live here.

use rust_decimal::Decimal;
use santei_core::date::{parse_iso, Date};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const RULES_TOML: &str = include_str!("../data/rules.toml");
const HOLIDAYS_TOML: &str = include_str!("../data/holidays.toml");

#[derive(Debug, Deserialize)]
struct RulesFile {
    version: Vec<RawVersion>,
}

#[derive(Debug, Deserialize)]
struct RawVersion {
    from: String,
    initial: String,
    revisit: String,
    outpatient_mgmt: String,
    outpatient_mgmt_max_beds: u32,
    time: BTreeMap<String, TimeCodes>,
    clock: RawClock,
    rx: RawRx,
    shikibetsu: BTreeMap<String, String>,
    drug_shikibetsu: DrugShikibetsu,
    judgement: BTreeMap<String, String>,
    #[serde(default)]
    bundle: Vec<Bundle>,
}

/// Codes of the time additions of one base (初診料 or 再診料).
#[derive(Debug, Clone, Deserialize)]
pub struct TimeCodes {
    pub overtime: String,
    pub holiday: String,
    pub night: String,
    pub infant_overtime: String,
    pub infant_holiday: String,
    pub infant_night: String,
    pub early_late: String,
}

#[derive(Debug, Deserialize)]
struct RawClock {
    night_from: String,
    night_until: String,
    early_late_weekday_from: String,
    early_late_saturday_from: String,
    early_late_until: String,
    early_late_min_weekly_hours: u32,
    year_end_from: String,
    year_end_until: String,
}

/// Clock rules, times in minutes after midnight.
#[derive(Debug, Clone)]
pub struct Clock {
    pub night_from: u32,
    pub night_until: u32,
    pub early_late_weekday_from: u32,
    pub early_late_saturday_from: u32,
    pub early_late_until: u32,
    pub early_late_min_weekly_minutes: u32,
    /// (month, day) inclusive, wrapping the new year.
    pub year_end_from: (u32, u32),
    pub year_end_until: (u32, u32),
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawRx {
    pub dispensing_internal: String,
    pub dispensing_external: String,
    pub prescribing: String,
    pub prescribing_7: String,
    pub basic: String,
    pub slip: String,
    pub slip_7: String,
    pub seven_kinds: usize,
    pub one_kind_max_yen: Decimal,
    pub temporary_max_days: u32,
    pub seven_kinds_drug_percent: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DrugShikibetsu {
    pub internal: String,
    pub as_needed: String,
    pub external: String,
}

/// One 包括 step table: for `group` (master 項番16), `steps` = (min items, points), ascending.
#[derive(Debug, Clone, Deserialize)]
pub struct Bundle {
    pub group: u8,
    pub steps: Vec<(usize, i64)>,
}

/// One dated version of the rule tables.
#[derive(Debug, Clone)]
pub struct Rules {
    pub from: Date,
    pub initial: String,
    pub revisit: String,
    pub outpatient_mgmt: String,
    pub outpatient_mgmt_max_beds: u32,
    pub time_initial: TimeCodes,
    pub time_revisit: TimeCodes,
    pub clock: Clock,
    pub rx: RawRx,
    pub shikibetsu: BTreeMap<u16, String>,
    pub drug_shikibetsu: DrugShikibetsu,
    pub judgement: BTreeMap<u8, String>,
    pub bundle: Vec<Bundle>,
}

/// All tables.
#[derive(Debug)]
pub struct Tables {
    /// Oldest first.
    pub versions: Vec<Rules>,
    /// Sorted.
    pub holidays: Vec<Date>,
    pub holiday_names: BTreeMap<Date, String>,
    pub holidays_from: Date,
    pub holidays_to: Date,
}

#[derive(Debug, Deserialize)]
struct HolidaysFile {
    from: String,
    to: String,
    dates: Vec<(String, String)>,
}

fn hhmm(s: &str) -> Result<u32, String> {
    parse_hhmm(s).ok_or_else(|| format!("bad time {s:?}"))
}

/// "HH:MM" (00:00–24:00) → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

fn mmdd(s: &str) -> Result<(u32, u32), String> {
    let (m, d) = s.split_once('-').ok_or_else(|| format!("bad MM-DD {s:?}"))?;
    Ok((
        m.parse().map_err(|_| format!("bad MM-DD {s:?}"))?,
        d.parse().map_err(|_| format!("bad MM-DD {s:?}"))?,
    ))
}

fn build() -> Result<Tables, String> {
    let raw: RulesFile = toml::from_str(RULES_TOML).map_err(|e| format!("data/rules.toml: {e}"))?;
    let mut versions = Vec::new();
    for v in raw.version {
        let from = parse_iso(&v.from).ok_or_else(|| format!("data/rules.toml: bad from {:?}", v.from))?;
        let c = &v.clock;
        let clock = Clock {
            night_from: hhmm(&c.night_from)?,
            night_until: hhmm(&c.night_until)?,
            early_late_weekday_from: hhmm(&c.early_late_weekday_from)?,
            early_late_saturday_from: hhmm(&c.early_late_saturday_from)?,
            early_late_until: hhmm(&c.early_late_until)?,
            early_late_min_weekly_minutes: c.early_late_min_weekly_hours * 60,
            year_end_from: mmdd(&c.year_end_from)?,
            year_end_until: mmdd(&c.year_end_until)?,
        };
        let mut shikibetsu = BTreeMap::new();
        for (k, s) in v.shikibetsu {
            shikibetsu.insert(k.parse::<u16>().map_err(|_| format!("data/rules.toml: bad 集計先 {k:?}"))?, s);
        }
        let mut judgement = BTreeMap::new();
        for (k, s) in v.judgement {
            judgement.insert(k.parse::<u8>().map_err(|_| format!("data/rules.toml: bad 判断グループ {k:?}"))?, s);
        }
        let time_initial = v.time.get("initial").cloned().ok_or("data/rules.toml: time.initial missing")?;
        let time_revisit = v.time.get("revisit").cloned().ok_or("data/rules.toml: time.revisit missing")?;
        versions.push(Rules {
            from,
            initial: v.initial,
            revisit: v.revisit,
            outpatient_mgmt: v.outpatient_mgmt,
            outpatient_mgmt_max_beds: v.outpatient_mgmt_max_beds,
            time_initial,
            time_revisit,
            clock,
            rx: v.rx,
            shikibetsu,
            drug_shikibetsu: v.drug_shikibetsu,
            judgement,
            bundle: v.bundle,
        });
    }
    versions.sort_by_key(|v| v.from);
    if versions.is_empty() {
        return Err("data/rules.toml: no version".into());
    }
    let h: HolidaysFile = toml::from_str(HOLIDAYS_TOML).map_err(|e| format!("data/holidays.toml: {e}"))?;
    let mut holidays = Vec::new();
    let mut holiday_names = BTreeMap::new();
    for (d, n) in h.dates {
        let d = parse_iso(&d).ok_or_else(|| format!("data/holidays.toml: bad date {d:?}"))?;
        holidays.push(d);
        holiday_names.insert(d, n);
    }
    holidays.sort();
    Ok(Tables {
        versions,
        holidays,
        holiday_names,
        holidays_from: parse_iso(&h.from).ok_or("data/holidays.toml: bad from")?,
        holidays_to: parse_iso(&h.to).ok_or("data/holidays.toml: bad to")?,
    })
}

/// The embedded tables (parsed on first use). The data files are part of the build and
/// checked by the unit tests, so a parse failure is a build defect: it panics with the reason.
pub fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| match build() {
        Ok(t) => t,
        Err(e) => panic!("santei-calc embedded data is invalid: {e}"),
    })
}

impl Tables {
    /// The rule version in force on `date` (None before the first version).
    pub fn rules_on(&self, date: Date) -> Option<&Rules> {
        self.versions.iter().rev().find(|v| v.from <= date)
    }
    pub fn is_national_holiday(&self, date: Date) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }
    pub fn holidays_cover(&self, date: Date) -> bool {
        self.holidays_from <= date && date <= self.holidays_to
    }
}

impl Rules {
    pub fn bundle_for(&self, group: u8) -> Option<&Bundle> {
        self.bundle.iter().find(|b| b.group == group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        let t = tables();
        assert!(!t.versions.is_empty());
        let d = parse_iso("2024-06-03").unwrap();
        let r = t.rules_on(d).unwrap();
        assert_eq!(r.clock.night_from, 22 * 60);
        assert!(r.bundle_for(1).is_some());
        // 振替休日 and 国民の休日 samples.
        for s in ["2024-05-06", "2019-05-01", "2019-10-22", "2020-07-24", "2021-08-09", "2026-09-22"] {
            assert!(t.is_national_holiday(parse_iso(s).unwrap()), "{s}");
        }
        assert!(!t.is_national_holiday(parse_iso("2019-10-14").unwrap().succ_opt().unwrap()));
    }

    #[test]
    fn hhmm_parse() {
        assert_eq!(parse_hhmm("05:59"), Some(359));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("9:60"), None);
        assert_eq!(parse_hhmm("x"), None);
    }
}
