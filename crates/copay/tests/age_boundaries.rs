//! Age class boundaries (DOMAIN.md §3.1), one test per boundary, dates worked out by hand.

use santei_copay::age::*;
use santei_copay::AgeClass;
use santei_core::date::{Date, YearMonth};

fn d(y: i32, m: u32, dd: u32) -> Date {
    Date::from_ymd_opt(y, m, dd).unwrap()
}

fn p() -> santei_copay::Params {
    santei_copay::Params::embedded().unwrap()
}

fn a() -> santei_copay::params::AgeParams {
    p().ages(d(2024, 1, 1)).unwrap()
}

fn class_on(b: Date, on: Date) -> AgeOn {
    age_class_on(&p(), b, on).unwrap()
}

#[test]
fn preschool_ends_on_the_march_31_after_reaching_6() {
    // born 2018-04-02: reaches 6 on 2024-04-01 → 未就学 through 2025-03-31
    assert_eq!(preschool_until(&a(), d(2018, 4, 2)).unwrap(), d(2025, 3, 31));
    assert!(class_on(d(2018, 4, 2), d(2025, 3, 31)).preschool);
    assert!(!class_on(d(2018, 4, 2), d(2025, 4, 1)).preschool);
    // born 2018-04-01: reaches 6 on 2024-03-31 → through 2024-03-31 (same school year as 3/31 births)
    assert_eq!(preschool_until(&a(), d(2018, 4, 1)).unwrap(), d(2024, 3, 31));
    assert!(!class_on(d(2018, 4, 1), d(2024, 4, 1)).preschool);
    // born 2018-03-31: reaches 6 on 2024-03-30 → through 2024-03-31
    assert_eq!(preschool_until(&a(), d(2018, 3, 31)).unwrap(), d(2024, 3, 31));
    // born 2018-12-25 → reaches 6 2024-12-24 → through 2025-03-31
    assert_eq!(preschool_until(&a(), d(2018, 12, 25)).unwrap(), d(2025, 3, 31));
}

#[test]
fn seventy_starts_the_month_after_the_birthday_month() {
    // born 1954-06-15: 70th birthday 2024-06-15 → 70–74 from 2024-07-01
    let b = d(1954, 6, 15);
    assert_eq!(from_70(&a(), b), d(2024, 7, 1));
    assert_eq!(class_on(b, d(2024, 6, 30)).class, AgeClass::Under70);
    assert_eq!(class_on(b, d(2024, 7, 1)).class, AgeClass::From70To74);
}

#[test]
fn seventy_born_on_the_first_starts_that_month() {
    // born 1954-06-01: reaches 70 on 2024-05-31 → from 2024-06-01 (the birthday month)
    let b = d(1954, 6, 1);
    assert_eq!(from_70(&a(), b), d(2024, 6, 1));
    assert_eq!(class_on(b, d(2024, 5, 31)).class, AgeClass::Under70);
    assert_eq!(class_on(b, d(2024, 6, 1)).class, AgeClass::From70To74);
    // born on the 2nd: reaches 70 on the 1st of the birthday month → the month after
    assert_eq!(from_70(&a(), d(1954, 6, 2)), d(2024, 7, 1));
}

#[test]
fn seventy_five_from_the_birthday_itself() {
    let b = d(1949, 6, 15);
    assert_eq!(from_75(&a(), b), d(2024, 6, 15));
    assert_eq!(class_on(b, d(2024, 6, 14)).class, AgeClass::From70To74);
    assert_eq!(class_on(b, d(2024, 6, 15)).class, AgeClass::From75);
    assert!(reached_75_in(&p(), b, YearMonth::new(2024, 6).unwrap()).unwrap());
    assert!(!reached_75_in(&p(), b, YearMonth::new(2024, 7).unwrap()).unwrap());
    // born on the 1st: insurer changes on the 1st, no split month → no halving
    assert!(!reached_75_in(&p(), d(1949, 6, 1), YearMonth::new(2024, 6).unwrap()).unwrap());
}

#[test]
fn leap_day_birthdays() {
    // born 1952-02-29: reaches 70 on 2022-02-28 → 70–74 from 2022-03-01; 75th "birthday" 2027-03-01
    let b = d(1952, 2, 29);
    assert_eq!(day_of_reaching(b, 70), d(2022, 2, 28));
    assert_eq!(from_70(&a(), b), d(2022, 3, 1));
    assert_eq!(from_75(&a(), b), d(2027, 3, 1));
    // born 2000-03-01: reaches 70 on 2070-02-28 (day before 1 March in a common year)
    assert_eq!(day_of_reaching(d(2000, 3, 1), 70), d(2070, 2, 28));
}

#[test]
fn rates_from_dates_and_parameters() {
    let p = p();
    use santei_copay::IncomeClass::*;
    let b = d(1954, 6, 15);
    assert_eq!(copay_rate(&p, b, d(2024, 6, 30), None).unwrap(), Some(30));
    assert_eq!(copay_rate(&p, b, d(2024, 7, 1), Some(Ippan)).unwrap(), Some(20));
    assert_eq!(copay_rate(&p, b, d(2024, 7, 1), Some(GenekiI)).unwrap(), Some(30));
    let old = d(1945, 1, 10);
    assert_eq!(copay_rate(&p, old, d(2024, 6, 1), Some(Ippan)).unwrap(), Some(10));
    assert_eq!(copay_rate(&p, old, d(2024, 6, 1), Some(IppanII)).unwrap(), Some(20));
    // 一般Ⅱ (2割) did not exist before 2022-10-01
    assert_eq!(copay_rate(&p, old, d(2022, 9, 30), Some(IppanII)).unwrap(), None);
}

#[test]
fn before_birth_is_an_error() {
    assert!(age_class_on(&p(), d(2020, 1, 1), d(2019, 12, 31)).is_err());
}
