//! Dates. SSK masters and current UKE files use 西暦 `YYYYMMDD` / `YYYYMM`; UKE files for
//! care before 2020-04 (and some other systems) use 和暦 `GYYMMDD` / `GYYMM` where G is the
//! 元号 code (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和) — 記録条件仕様 旧別表4.

pub use chrono::NaiveDate as Date;
use chrono::Datelike;

/// The "no end" date used by SSK masters for 廃止年月日 (`99999999`).
pub const OPEN_END: Date = match Date::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("constant date"),
};

/// First day of each 元号 (元号コード 1..=5), used to convert 和暦 years.
const ERAS: [(u8, i32, u32, u32); 5] = [
    (1, 1868, 1, 25), // 明治 (as used by registries: 明治元年 = 1868)
    (2, 1912, 7, 30), // 大正
    (3, 1926, 12, 25), // 昭和
    (4, 1989, 1, 8),  // 平成
    (5, 2019, 5, 1),  // 令和
];

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYYMMDD` → date. `99999999` → [`OPEN_END`]. Anything else invalid → `None`.
pub fn parse_ymd(s: &str) -> Option<Date> {
    if s.len() != 8 || !digits(s) {
        return None;
    }
    if s == "99999999" {
        return Some(OPEN_END);
    }
    let y = s[0..4].parse().ok()?;
    let m = s[4..6].parse().ok()?;
    let d = s[6..8].parse().ok()?;
    Date::from_ymd_opt(y, m, d)
}

/// `YYYY-MM-DD` (ISO) → date.
pub fn parse_iso(s: &str) -> Option<Date> {
    Date::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A year and month (診療年月).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(YearMonth { year, month })
    }
    pub fn of(d: Date) -> Self {
        YearMonth { year: d.year(), month: d.month() }
    }
    pub fn first_day(self) -> Date {
        Date::from_ymd_opt(self.year, self.month, 1).unwrap_or(OPEN_END)
    }
    pub fn next(self) -> Self {
        if self.month == 12 {
            YearMonth { year: self.year + 1, month: 1 }
        } else {
            YearMonth { year: self.year, month: self.month + 1 }
        }
    }
    pub fn last_day(self) -> Date {
        self.next().first_day().pred_opt().unwrap_or(OPEN_END)
    }
    /// `YYYY-MM`.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !digits(y) || !digits(m) {
            return None;
        }
        Self::new(y.parse().ok()?, m.parse().ok()?)
    }
    /// `YYYYMM` (西暦) or `GYYMM` (和暦).
    pub fn parse_uke(s: &str) -> Option<Self> {
        match s.len() {
            6 if digits(s) => Self::new(s[0..4].parse().ok()?, s[4..6].parse().ok()?),
            5 if digits(s) => {
                let y = wareki_year(s.as_bytes()[0] - b'0', s[1..3].parse().ok()?)?;
                Self::new(y, s[3..5].parse().ok()?)
            }
            _ => None,
        }
    }
    pub fn to_uke(self) -> String {
        format!("{:04}{:02}", self.year, self.month)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// 和暦 (元号コード, 年) → 西暦 year.
pub fn wareki_year(era: u8, year: u32) -> Option<i32> {
    let &(_, start, _, _) = ERAS.iter().find(|e| e.0 == era)?;
    if year == 0 {
        return None;
    }
    Some(start + year as i32 - 1)
}

/// `GYYMMDD` (和暦, 7 digits) → date. Rejects dates before the era began.
pub fn parse_wareki_ymd(s: &str) -> Option<Date> {
    if s.len() != 7 || !digits(s) {
        return None;
    }
    let era = s.as_bytes()[0] - b'0';
    let y = wareki_year(era, s[1..3].parse().ok()?)?;
    let d = Date::from_ymd_opt(y, s[3..5].parse().ok()?, s[5..7].parse().ok()?)?;
    let &(_, sy, sm, sd) = ERAS.iter().find(|e| e.0 == era)?;
    (d >= Date::from_ymd_opt(sy, sm, sd)? || era == 1).then_some(d)
}

/// A UKE date in either form: `YYYYMMDD` (current) or `GYYMMDD` (old).
pub fn parse_uke_date(s: &str) -> Option<Date> {
    match s.len() {
        8 => parse_ymd(s),
        7 => parse_wareki_ymd(s),
        _ => None,
    }
}

/// Completed years of age on `on` for someone born on `birth` (年齢計算ニ関スル法律: one
/// becomes a year older at the end of the day before the birthday; for whole-day dates this
/// is the usual "birthday reached" rule, with 29 Feb birthdays aging on 1 Mar in common years).
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> Date {
        Date::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn seireki_and_wareki() {
        assert_eq!(parse_ymd("20240601"), Some(d(2024, 6, 1)));
        assert_eq!(parse_ymd("99999999"), Some(OPEN_END));
        assert_eq!(parse_ymd("20240631"), None);
        assert_eq!(parse_ymd("2024061"), None);
        // 平成30年11月 = 2018-11
        assert_eq!(YearMonth::parse_uke("43011"), YearMonth::new(2018, 11));
        assert_eq!(YearMonth::parse_uke("202505"), YearMonth::new(2025, 5));
        assert_eq!(parse_wareki_ymd("4301115"), Some(d(2018, 11, 15)));
        // 令和元年5月1日
        assert_eq!(parse_wareki_ymd("5010501"), Some(d(2019, 5, 1)));
        // 令和 did not exist on 2019-04-30
        assert_eq!(parse_wareki_ymd("5010430"), None);
        // 昭和55年1月15日
        assert_eq!(parse_uke_date("3550115"), Some(d(1980, 1, 15)));
        assert_eq!(parse_uke_date("9550115"), None);
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(2018, 6, 3), d(2024, 6, 2)), 5);
        assert_eq!(age_on(d(2018, 6, 3), d(2024, 6, 3)), 6);
        assert_eq!(age_on(d(2020, 2, 29), d(2021, 2, 28)), 0);
        assert_eq!(age_on(d(2020, 2, 29), d(2021, 3, 1)), 1);
    }

    #[test]
    fn month_bounds() {
        let ym = YearMonth::new(2024, 2).unwrap();
        assert_eq!(ym.last_day(), d(2024, 2, 29));
        assert_eq!(YearMonth::new(2024, 12).unwrap().next(), YearMonth::new(2025, 1).unwrap());
        assert_eq!(YearMonth::parse_iso("2024-06"), YearMonth::new(2024, 6));
        assert_eq!(YearMonth::parse_iso("2024-6"), None);
    }
}

/// Serde adapter storing a [`Date`] as its day number (compact and fast in binary snapshots).
pub mod serde_days {
    use super::Date;
    use chrono::Datelike;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        d.num_days_from_ce().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let n = i32::deserialize(d)?;
        Date::from_num_days_from_ce_opt(n).ok_or_else(|| serde::de::Error::custom("day number out of range"))
    }
}
