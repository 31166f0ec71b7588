//! Retention of patient records and claims: at least 5 years after completion
//! (保険医療機関及び保険医療養担当規則 第9条: 療養の給付の担当に関する帳簿及び書類その他の記録は
//! その完結の日から 3 年間、診療録は 5 年間 — santei keeps everything 5 years).
//!
//! The service calls [`check_deletion`] before deleting a patient record or a claim, and
//! audits a refusal (`audit::actions::RETENTION_REFUSED`).

use crate::error::{Result, SecError};
use chrono::{Datelike, NaiveDate};

/// Minimum retention in years after the record's completion (完結の日).
pub const RETENTION_YEARS: i32 = 5;

/// The first day on which a record completed on `completed` may be deleted.
pub fn deletable_from(completed: NaiveDate) -> NaiveDate {
    let y = completed.year() + RETENTION_YEARS;
    // 29 February + 5 years → 1 March (the period must be at least 5 full years).
    NaiveDate::from_ymd_opt(y, completed.month(), completed.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(y, 3, 1).unwrap_or(completed))
        .succ_opt()
        .unwrap_or(completed)
}

/// May a record completed on `completed` (None: not completed, e.g. an ongoing treatment) be
/// deleted on `today`?
pub fn check_deletion(completed: Option<NaiveDate>, today: NaiveDate) -> Result<()> {
    let Some(c) = completed else {
        return Err(SecError::conflict(
            "S501",
            "完結していない記録は削除できません(療担規則 第9条)",
            "a record that is not completed cannot be deleted (療担規則 第9条)",
        ));
    };
    let from = deletable_from(c);
    if today < from {
        return Err(SecError::conflict(
            "S502",
            format!("保存期間中のため削除できません(完結日 {c}、{from} 以降に削除可能。療担規則 第9条)"),
            format!("retention period not over: completed {c}, deletable from {from} (療担規則 第9条, 5 years)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }
    #[test]
    fn five_years() {
        assert_eq!(deletable_from(d(2020, 4, 30)), d(2025, 5, 1));
        assert_eq!(deletable_from(d(2020, 2, 29)), d(2025, 3, 2));
        assert!(check_deletion(Some(d(2020, 4, 30)), d(2025, 4, 30)).is_err());
        assert!(check_deletion(Some(d(2020, 4, 30)), d(2025, 5, 1)).is_ok());
        assert_eq!(
            check_deletion(None, d(2099, 1, 1)).unwrap_err().code,
            "S501"
        );
    }
}
