//! Pure rule functions (no master, no input): yen → points, master age codes, the clock.
//! Each cites the 点数表 section it implements.

use crate::tables::{Clock, Tables};
use chrono::{Datelike, Months, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};
use santei_core::date::{age_on, Date};

/// How a drug's yen becomes points when ≤ 15円.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallDrug {
    /// F200 薬剤 (投薬) 注1 / G100 薬剤 (注射) 注1: 薬価が15円以下である場合は1点.
    OnePoint,
    /// J300 (処置), K940 (手術), D500 (検査), E300 (画像) …: 薬価が15円以下の場合は算定できない.
    NotBillable,
}

/// F200 / G100 / J300 …: 使用薬剤の薬価 — 「薬価が15円を超える場合は、薬価から15円を控除した額を
/// 10円で除して得た点数につき1点未満の端数を切り上げて得た点数に1点を加算して得た点数」.
/// `yen` is the whole unit's yen (内服: 1剤1日分, 屯服: 1回分, 外用: 1調剤分, 注射: 1回分).
/// Exact decimal arithmetic; identical to 五捨五超入 of yen/10 (DOMAIN.md §1.2).
pub fn drug_points(yen: Decimal, small: SmallDrug) -> i64 {
    let fifteen = Decimal::from(15);
    if yen <= fifteen {
        return match small {
            SmallDrug::OnePoint if yen > Decimal::ZERO => 1,
            SmallDrug::OnePoint => 0,
            SmallDrug::NotBillable => 0,
        };
    }
    let steps = ((yen - fifteen) / Decimal::from(10)).ceil();
    decimal_to_i64(steps) + 1
}

/// 特定保険医療材料 (F300 / G300 / J400 / K950 / D600 / E400 …): 材料価格を10円で除して得た点数 —
/// 1点未満の端数は四捨五入 (DOMAIN.md §1.3).
pub fn material_points(yen: Decimal) -> i64 {
    decimal_to_i64((yen / Decimal::from(10)).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
}

/// F200 注2: 7種類以上の内服薬 → 所定点数の100分の90; 1点未満の端数は四捨五入 (通則 端数処理),
/// never below 1点 for a billable 剤.
/// ⚠ Whether the 90% is applied to the 剤's points (here) or to its yen before the 15円 rule
/// is not stated in ../shared; we follow the 告示 wording "所定点数の100分の90".
pub fn reduced_points(points: i64, percent: u32) -> i64 {
    if points <= 0 {
        return points;
    }
    let p = Decimal::from(points) * Decimal::from(percent) / Decimal::from(100);
    decimal_to_i64(p.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)).max(1)
}

pub fn decimal_to_i64(d: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    d.trunc().to_i64().unwrap_or(if d.is_sign_negative() { i64::MIN } else { i64::MAX })
}

/// The date from which someone born on `birth` is "at or above" a master age code
/// (項番41/42 下限年齢・上限年齢, 別紙: "00" none, NN years, AA 生後28日, AE 生後90日,
/// B3/B6/BF/BK… x歳に達した日の翌月1日 (x = base-36 digit), MG 未就学 = 6歳に達する日以後の最初の
/// 3月31日の翌日). None for "00"/unknown codes (no bound).
pub fn age_code_reached(code: &str, birth: Date) -> Option<Date> {
    match code {
        "" | "00" | "0" => None,
        "AA" => birth.checked_add_days(chrono::Days::new(28)),
        "AE" => birth.checked_add_days(chrono::Days::new(90)),
        "MG" => {
            // 6歳に達する日 = the day before the 6th birthday (年齢計算ニ関スル法律).
            let reach = years_reached(birth, 6)?;
            let y = if (reach.month(), reach.day()) <= (3, 31) {
                reach.year()
            } else {
                reach.year() + 1
            };
            Date::from_ymd_opt(y, 4, 1)
        }
        c if c.len() == 2 && c.starts_with('B') => {
            let x = c[1..].chars().next()?.to_digit(36)?;
            let reach = years_reached(birth, x)?;
            let first = Date::from_ymd_opt(reach.year(), reach.month(), 1)?;
            first.checked_add_months(Months::new(1))
        }
        c => {
            let n: u32 = c.parse().ok()?;
            // Completed years n is reached on the n-th birthday (age_on semantics; 29 Feb → 1 Mar).
            let mut d = birth.checked_add_months(Months::new(n.checked_mul(12)?))?;
            if age_on(birth, d) < n as i32 {
                d = d.succ_opt()?;
            }
            Some(d)
        }
    }
}

/// The day someone "reaches" age x in the legal sense (the day before the x-th birthday).
fn years_reached(birth: Date, x: u32) -> Option<Date> {
    let bd = age_code_reached(&format!("{x:02}"), birth)?;
    bd.pred_opt()
}

/// True when `on` lies in [lower, upper) of master age codes (upper exclusive; "00" = no bound).
pub fn age_in_range(lower: &str, upper: &str, birth: Date, on: Date) -> bool {
    let lo_ok = match age_code_reached(lower, birth) {
        Some(d) => on >= d,
        None => true,
    };
    let hi_ok = match age_code_reached(upper, birth) {
        Some(d) => on < d,
        None => true,
    };
    lo_ok && hi_ok
}

/// The time class of a visit (A000 注7 / 注9, A001 注5 / 注7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeClass {
    /// Within posted hours, no addition.
    Normal,
    /// 夜間・早朝等加算 (A000 注9 / A001 注7): within posted hours, in the 夜間・早朝等 window.
    EarlyLate,
    /// 時間外加算: outside posted hours.
    Overtime,
    /// 休日加算: outside posted hours on a 休日.
    Holiday,
    /// 深夜加算: outside posted hours, 22:00–06:00.
    Night,
}

/// 休日 for 休日加算 (A000 注7 通知): 日曜日, 国民の祝日に関する法律第3条に規定する休日
/// (incl. 振替休日・国民の休日), and 12月29日から1月3日まで.
pub fn is_kyujitsu(t: &Tables, clock: &Clock, d: Date) -> bool {
    d.weekday() == Weekday::Sun || t.is_national_holiday(d) || in_year_end(clock, d)
}

fn in_year_end(clock: &Clock, d: Date) -> bool {
    let md = (d.month(), d.day());
    if clock.year_end_from <= clock.year_end_until {
        clock.year_end_from <= md && md <= clock.year_end_until
    } else {
        md >= clock.year_end_from || md <= clock.year_end_until
    }
}

/// 深夜 = 22:00–06:00 (A000 注7 通知).
pub fn is_night(clock: &Clock, minute: u32) -> bool {
    if clock.night_from > clock.night_until {
        minute >= clock.night_from || minute < clock.night_until
    } else {
        minute >= clock.night_from && minute < clock.night_until
    }
}

/// 夜間・早朝等 (A000 注9 通知): 午後6時（土曜日は正午）から午前8時まで, 休日, 深夜.
pub fn in_early_late_window(clock: &Clock, kyujitsu: bool, weekday: Weekday, minute: u32) -> bool {
    if kyujitsu || is_night(clock, minute) {
        return true;
    }
    let from = if weekday == Weekday::Sat {
        clock.early_late_saturday_from
    } else {
        clock.early_late_weekday_from
    };
    minute >= from || minute < clock.early_late_until
}

/// Classify a visit. `within_posted`: the visit time lies in the institution's posted hours of
/// that day; `early_late_allowed`: the facility may take 夜間・早朝等加算 (診療所, ≥30h/week).
/// A000 注7 / A001 注5: outside posted hours → 深夜 (22–06) > 休日 > 時間外 (only one, the highest).
/// A000 注9 / A001 注7: inside posted hours in the window → 夜間・早朝等 (never with 時間外等).
pub fn classify(t: &Tables, clock: &Clock, d: Date, minute: u32, within_posted: bool, early_late_allowed: bool) -> TimeClass {
    let kyu = is_kyujitsu(t, clock, d);
    if within_posted {
        if early_late_allowed && in_early_late_window(clock, kyu, d.weekday(), minute) {
            TimeClass::EarlyLate
        } else {
            TimeClass::Normal
        }
    } else if is_night(clock, minute) {
        TimeClass::Night
    } else if kyu {
        TimeClass::Holiday
    } else {
        TimeClass::Overtime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn d(s: &str) -> Date {
        santei_core::date::parse_iso(s).unwrap()
    }

    #[test]
    fn fifteen_yen_rule() {
        // DOMAIN.md §1.2 worked examples.
        assert_eq!(drug_points(dec("207.00"), SmallDrug::OnePoint), 21);
        assert_eq!(drug_points(dec("35.00"), SmallDrug::OnePoint), 3);
        assert_eq!(drug_points(dec("105.20"), SmallDrug::OnePoint), 11);
        assert_eq!(drug_points(dec("30.30"), SmallDrug::OnePoint), 3);
        assert_eq!(drug_points(dec("12.00"), SmallDrug::OnePoint), 1);
        assert_eq!(drug_points(dec("12.00"), SmallDrug::NotBillable), 0);
        assert_eq!(drug_points(dec("25.10"), SmallDrug::NotBillable), 3);
        assert_eq!(drug_points(dec("15.00"), SmallDrug::OnePoint), 1);
        assert_eq!(drug_points(dec("15.01"), SmallDrug::OnePoint), 2);
        assert_eq!(drug_points(dec("25.00"), SmallDrug::OnePoint), 2);
        assert_eq!(drug_points(dec("25.01"), SmallDrug::OnePoint), 3);
    }

    #[test]
    fn materials_half_up() {
        assert_eq!(material_points(dec("1260")), 126);
        assert_eq!(material_points(dec("4179")), 418);
        assert_eq!(material_points(dec("165")), 17);
        assert_eq!(material_points(dec("164.99")), 16);
    }

    #[test]
    fn ninety_percent() {
        assert_eq!(reduced_points(3, 90), 3);
        assert_eq!(reduced_points(15, 90), 14); // 13.5 → 14
        assert_eq!(reduced_points(1, 90), 1);
    }

    #[test]
    fn age_codes() {
        let b = d("2018-06-15");
        assert_eq!(age_code_reached("06", b), Some(d("2024-06-15")));
        assert!(age_in_range("00", "06", b, d("2024-06-14")));
        assert!(!age_in_range("00", "06", b, d("2024-06-15")));
        assert_eq!(age_code_reached("AA", b), Some(d("2018-07-13")));
        // 3歳に達した日 (2021-06-14) の翌月1日.
        assert_eq!(age_code_reached("B3", b), Some(d("2021-07-01")));
        // 6歳に達する日 2024-06-14 → 最初の3月31日 2025-03-31 → 就学 2025-04-01.
        assert_eq!(age_code_reached("MG", b), Some(d("2025-04-01")));
        // Born 1 April: reaches 6 on 31 March → 就学 the next day.
        assert_eq!(age_code_reached("MG", d("2018-04-01")), Some(d("2024-04-01")));
        assert_eq!(age_code_reached("06", d("2020-02-29")), Some(d("2026-03-01")));
        assert_eq!(age_code_reached("00", b), None);
    }
}
