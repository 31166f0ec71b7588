//! Age class from dates (DOMAIN.md §3.1). The ages and the school-year end are parameters
//! (`[age]` in params/copay.toml); only the rules are here.
//!
//! 年齢計算ニ関スル法律: a person reaches age n at the end of the day before the n-th birthday
//! (so the "day of reaching" is that day before). For 29 Feb the day of reaching in a common year is 28 Feb.

use crate::model::{AgeClass, IncomeClass};
use crate::params::{AgeParams, Params};
use chrono::{Datelike, Duration};
use santei_core::date::{Date, YearMonth};
use santei_core::InputError;

/// The day on which one reaches age `n` (年齢計算ニ関スル法律: the day before the n-th birthday).
pub fn day_of_reaching(birth: Date, n: i32) -> Date {
    let eve = birth - Duration::days(1);
    let y = eve.year() + n;
    // 29 Feb in a common year: the day before 1 Mar, i.e. the last day of February.
    Date::from_ymd_opt(y, eve.month(), eve.day()).unwrap_or_else(|| YearMonth::of(Date::from_ymd_opt(y, eve.month(), 1).expect("1st exists")).last_day())
}

/// The n-th "birthday" as the day after reaching (29 Feb birthdays fall on 1 Mar in common years).
pub fn birthday(birth: Date, n: i32) -> Date {
    day_of_reaching(birth, n) + Duration::days(1)
}

/// Last day of 義務教育就学前 (健康保険法 第74条第1項第1号 「6歳に達する日以後の最初の3月31日以前」):
/// the first school-year end on or after the day of reaching the preschool age.
/// `None` only when the parameters' school-year end is not a date in that year.
pub fn preschool_until(a: &AgeParams, birth: Date) -> Option<Date> {
    let r = day_of_reaching(birth, a.preschool_until);
    let (m, d) = a.school_year_end;
    let end = Date::from_ymd_opt(r.year(), m, d)?;
    if r <= end {
        Some(end)
    } else {
        Date::from_ymd_opt(r.year() + 1, m, d)
    }
}

/// First day of 70–74 (健康保険法 第74条第1項第2号/第3号: 「70歳に達する日の属する月の翌月以後」):
/// the first day of the month after the month of reaching 70 — for someone born on the 1st the day
/// of reaching is the last day of the previous month, so it is the birthday month itself.
pub fn from_70(a: &AgeParams, birth: Date) -> Date {
    YearMonth::of(day_of_reaching(birth, a.elderly_from)).next().first_day()
}

/// First day of 後期高齢者医療 (高齢者医療確保法 第50条: 「75歳以上の者」, from the 75th birthday).
pub fn from_75(a: &AgeParams, birth: Date) -> Date {
    birthday(birth, a.late_elderly_from)
}

/// Age class on a date; `preschool` is true until [`preschool_until`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeOn {
    pub class: AgeClass,
    pub preschool: bool,
}

pub fn age_class_on(params: &Params, birth: Date, on: Date) -> Result<AgeOn, InputError> {
    if on < birth {
        return Err(InputError::new("C005", "input", format!("{on} は生年月日 {birth} より前です"), format!("{on} is before the birth date {birth}")).field("birth_date"));
    }
    let a = params.ages(on)?;
    Ok(if on >= from_75(&a, birth) {
        AgeOn { class: AgeClass::From75, preschool: false }
    } else if on >= from_70(&a, birth) {
        AgeOn { class: AgeClass::From70To74, preschool: false }
    } else {
        let until = preschool_until(&a, birth).ok_or_else(|| {
            InputError::new("P002", "params/copay.toml", "age.school_year_end_* が日付になりません", "age.school_year_end_* is not a valid date").field("age.school_year_end_day")
        })?;
        AgeOn { class: AgeClass::Under70, preschool: on <= until }
    })
}

/// 75歳到達月: the month of the 75th birthday, unless born on the 1st (then the old insurance ends
/// with the previous month and there is no split month) — DOMAIN.md §3.3 ✔ [S44][S20].
pub fn reached_75_in(params: &Params, birth: Date, month: YearMonth) -> Result<bool, InputError> {
    let a = params.ages(month.first_day())?;
    Ok(birth.day() != 1 && YearMonth::of(from_75(&a, birth)) == month)
}

/// The copay rate (%) on a date from the parameters' `rates` table (健康保険法 第74条, 高齢者医療確保法 第67条).
/// `Ok(None)` when the parameters have no rate for that date and class.
pub fn copay_rate(params: &Params, birth: Date, on: Date, income: Option<IncomeClass>) -> Result<Option<i64>, InputError> {
    let a = age_class_on(params, birth, on)?;
    let name = match (a.class, income) {
        (AgeClass::Under70, _) if a.preschool => "preschool",
        (AgeClass::Under70, _) => "under70",
        (AgeClass::From70To74, Some(c)) if c.is_genekinami() => "70to74_genekinami",
        (AgeClass::From70To74, _) => "70to74",
        (AgeClass::From75, Some(c)) if c.is_genekinami() => "75plus_genekinami",
        (AgeClass::From75, Some(IncomeClass::IppanII)) => "75plus_ippan2",
        (AgeClass::From75, _) => "75plus",
    };
    Ok(params.rate(name, on))
}
