//! Parameters: dated lookups and refusals; 公費 registry checked against the 国公費マスタ in place;
//! the prefectural importer over all 47 tables.

mod common;

use santei_copay::kouhi::{import_chitan_dir, import_national_csv, Kogaku, LocalModel};
use santei_copay::params::At;
use santei_copay::Params;
use santei_core::date::{Date, YearMonth};

#[test]
fn dated_values_and_refusals() {
    let p = Params::embedded().unwrap();
    let d = |y, m, dd| Date::from_ymd_opt(y, m, dd).unwrap();
    // 配慮措置: in force 2022-10-01 … 2025-09-30 only
    assert_eq!(p.hairyo_increase_cap.at(d(2022, 9, 30)), At::Unknown);
    assert_eq!(p.hairyo_increase_cap.at(d(2022, 10, 1)), At::On(3000));
    assert_eq!(p.hairyo_increase_cap.at(d(2025, 9, 30)), At::On(3000));
    assert_eq!(p.hairyo_increase_cap.at(d(2025, 10, 1)), At::Off);
    assert!(p.month(YearMonth::new(2025, 9).unwrap()).unwrap().hairyo.is_some());
    assert!(p.month(YearMonth::new(2025, 10).unwrap()).unwrap().hairyo.is_none());
    // a month with no parameters, and a month after the known limits (2026-08 change): clear errors
    let e = p.month(YearMonth::new(2010, 1).unwrap()).unwrap_err();
    assert_eq!(e.code, "C001");
    assert!(e.message_ja.contains("パラメータ") && e.message_en.contains("no"));
    let e = p.month(YearMonth::new(2026, 8).unwrap()).unwrap_err();
    assert_eq!(e.code, "C002");
    assert!(p.month(YearMonth::new(2026, 7).unwrap()).is_ok());
}

#[test]
fn national_registry_matches_the_master() {
    let p = Params::embedded().unwrap();
    for h in [10u8, 12, 15, 16, 21, 28, 38, 51, 52, 54] {
        assert!(p.kouhi.get(h).is_some(), "national program {h} missing");
    }
    // the rules the engine depends on (国公費マスタ 項目18, 15-1)
    assert_eq!(p.kouhi.get(10).unwrap().kogaku, Kogaku::TokuteiKyufu);
    assert_eq!(p.kouhi.get(15).unwrap().kogaku, Kogaku::TokuteiKyufu);
    assert_eq!(p.kouhi.get(54).unwrap().kogaku, Kogaku::TokuteiShippei);
    assert!(p.kouhi.get(54).unwrap().shared_cap);
    assert!(!p.kouhi.get(10).unwrap().shared_cap);
    let Some(csv) = common::shared_path("data/kouhi/R06_kokkouhi_240401.csv") else { return };
    let from_csv = import_national_csv(&csv).unwrap();
    assert_eq!(from_csv.len(), p.kouhi.programs.len());
    for prog in &p.kouhi.programs {
        let c = from_csv.iter().find(|c| c.houbetsu == prog.houbetsu).unwrap();
        assert_eq!(c, prog, "params/kouhi_national.toml differs from the master for {:02}", prog.houbetsu);
    }
}

#[test]
fn chitan_tables_all_47() {
    let Some(dir) = common::shared_path("data/kouhi/chitan") else { return };
    let imp = import_chitan_dir(&dir).unwrap();
    assert_eq!(imp.files, 47);
    let modelled = imp.programs.iter().filter(|p| matches!(p.outpatient_model, LocalModel::Payer { .. })).count();
    eprintln!("chitan: {} files, {} programs read, {} columns rejected, {} with a modelled outpatient burden", imp.files, imp.programs.len(), imp.rejected.len(), modelled);
    for (k, n) in imp.unsupported_kinds() {
        eprintln!("  unsupported: {k}: {n}");
    }
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for (_, _, why) in &imp.rejected {
        let key = why.rsplit_once("/ ").map_or(why.as_str(), |x| x.1).split(':').next().unwrap_or("").trim().to_string();
        match reasons.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 += 1,
            None => reasons.push((key, 1)),
        }
    }
    for (k, n) in &reasons {
        eprintln!("  rejected: {k}: {n}");
    }
    assert!(imp.programs.len() > 1500, "most columns read");
    assert!(modelled > 500);
    // Tokyo マル障 (負担有): 1割, 外来 monthly cap 18,000 (13_東京都.csv column 4)
    let t = imp.programs.iter().find(|p| p.prefecture == "13_東京都" && p.insurance_number == "180").unwrap();
    assert_eq!(t.outpatient_model, LocalModel::Payer { rate_percent: Some(10), monthly_cap_yen: Some(18000) });
    assert_eq!(t.inpatient_model, LocalModel::Unsupported(vec!["1日上限額/回数 (cap or count per day)"]));
}
