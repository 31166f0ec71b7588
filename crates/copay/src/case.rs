//! The case format of `../shared/testdata/copay/README.md`: read a whole case or its `input` object,
//! and write the CLI's JSON result.

use crate::kouhi::parse_houbetsu;
use crate::model::{check_bills, check_patient, AgeClass, Bill, Care, IncomeClass, KouhiPayer, Patient};
use crate::split::{PayerId, Split};
use santei_core::date::YearMonth;
use santei_core::InputError;
use serde_json::{json, Map, Value};

/// A case's input, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseInput {
    pub patient: Patient,
    pub bills: Vec<Bill>,
}

fn err(file: &str, field: &str, ja: String, en: String) -> InputError {
    InputError::new("C100", file, ja, en).field(field.to_string())
}

fn req<'a>(o: &'a Map<String, Value>, key: &str, file: &str, at: &str) -> Result<&'a Value, InputError> {
    o.get(key).ok_or_else(|| err(file, &format!("{at}{key}"), format!("必須項目「{key}」がありません"), format!("required field {key:?} is missing")))
}

fn as_bool(v: Option<&Value>, file: &str, field: &str) -> Result<bool, InputError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(err(file, field, "真偽値が必要です".into(), "expected true or false".into())),
    }
}

fn as_int(v: &Value, file: &str, field: &str) -> Result<i64, InputError> {
    v.as_i64().ok_or_else(|| err(file, field, "整数が必要です".into(), "expected an integer".into()))
}

/// Parse a whole case (`{"id", …, "input": {…}}`) or just its `input` object.
pub fn parse_case(v: &Value, file: &str) -> Result<CaseInput, InputError> {
    let o = v.as_object().ok_or_else(|| err(file, "$", "JSON オブジェクトが必要です".into(), "expected a JSON object".into()))?;
    let input = match o.get("input") {
        Some(Value::Object(i)) => i,
        Some(_) => return Err(err(file, "input", "input はオブジェクトです".into(), "input must be an object".into())),
        None => o,
    };
    parse_input(input, file)
}

pub fn parse_input(o: &Map<String, Value>, file: &str) -> Result<CaseInput, InputError> {
    let patient = parse_patient(o, file)?;
    let bills = parse_bills(req(o, "bills", file, "")?, file, "bills")?;
    if bills.is_empty() {
        return Err(err(file, "bills", "bills が空です".into(), "bills is empty".into()));
    }
    Ok(CaseInput { patient, bills })
}

/// The patient fields of a case input (`month`, `age_class`, `income_class`, `copay_rate_percent`, `care`, flags).
pub fn parse_patient(o: &Map<String, Value>, file: &str) -> Result<Patient, InputError> {
    let ms = req(o, "month", file, "")?.as_str().unwrap_or("");
    let month = YearMonth::parse_iso(ms).ok_or_else(|| err(file, "month", format!("月「{ms}」は YYYY-MM 形式ではありません"), format!("month {ms:?} is not YYYY-MM")))?;
    let ac = req(o, "age_class", file, "")?.as_str().unwrap_or("");
    let age_class = AgeClass::parse(ac).ok_or_else(|| {
        err(file, "age_class", format!("未知の年齢区分「{ac}」（under70 / 70to74 / 75plus）"), format!("unknown age class {ac:?} (under70 / 70to74 / 75plus)"))
    })?;
    let income_class = match o.get("income_class") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(IncomeClass::parse(s).ok_or_else(|| err(file, "income_class", format!("未知の所得区分「{s}」"), format!("unknown income class {s:?}")))?),
        Some(_) => return Err(err(file, "income_class", "文字列が必要です".into(), "expected a string".into())),
    };
    let rate = as_int(req(o, "copay_rate_percent", file, "")?, file, "copay_rate_percent")?;
    if !(0..=100).contains(&rate) {
        return Err(err(file, "copay_rate_percent", "負担割合は 0〜100 です".into(), "copay_rate_percent must be 0..=100".into()));
    }
    let cs = req(o, "care", file, "")?.as_str().unwrap_or("");
    let care = Care::parse(cs).ok_or_else(|| err(file, "care", format!("未知の入外区分「{cs}」（inpatient / outpatient）"), format!("unknown care {cs:?} (inpatient / outpatient)")))?;
    let tokutei = match o.get("tokutei_shippei_cap_yen") {
        None | Some(Value::Null) => None,
        Some(v) => Some(as_int(v, file, "tokutei_shippei_cap_yen")?),
    };
    let patient = Patient {
        month,
        age_class,
        income_class,
        copay_rate_percent: rate as u32,
        care,
        multiple_high_cost: as_bool(o.get("multiple_high_cost"), file, "multiple_high_cost")?,
        reached_75_this_month: as_bool(o.get("reached_75_this_month"), file, "reached_75_this_month")?,
        hairyo_sochi: as_bool(o.get("hairyo_sochi"), file, "hairyo_sochi")?,
        tokutei_shippei_cap_yen: tokutei,
    };
    check_patient(&patient, file)?;
    Ok(patient)
}

/// An array of bills (`[{"points", "payers": [...]}]`); `name` is the field name for errors.
pub fn parse_bills(v: &Value, file: &str, name: &str) -> Result<Vec<Bill>, InputError> {
    let bs = v.as_array().ok_or_else(|| err(file, name, "配列が必要です".into(), "expected an array".into()))?;
    let mut bills = Vec::with_capacity(bs.len());
    for (i, b) in bs.iter().enumerate() {
        let at = format!("{name}[{i}].");
        let bo = b.as_object().ok_or_else(|| err(file, &format!("{name}[{i}]"), "オブジェクトが必要です".into(), "expected an object".into()))?;
        let points = as_int(req(bo, "points", file, &at)?, file, &format!("{at}points"))?;
        let ps = req(bo, "payers", file, &at)?.as_array().ok_or_else(|| err(file, &format!("{at}payers"), "配列が必要です".into(), "expected an array".into()))?;
        let mut bill = Bill { points, insurance: false, kouhi: Vec::new() };
        for (j, p) in ps.iter().enumerate() {
            let pat = format!("{at}payers[{j}].");
            let po = p.as_object().ok_or_else(|| err(file, &format!("{at}payers[{j}]"), "オブジェクトが必要です".into(), "expected an object".into()))?;
            match req(po, "kind", file, &pat)?.as_str() {
                Some("insurance") => {
                    if j != 0 {
                        return Err(err(file, &format!("{pat}kind"), "保険は最初の支払者です".into(), "insurance must be the first payer".into()));
                    }
                    bill.insurance = true;
                }
                Some("kouhi") => {
                    let hv = req(po, "houbetsu", file, &pat)?;
                    let hs = hv.as_str().unwrap_or("");
                    let houbetsu = parse_houbetsu(hs).ok_or_else(|| err(file, &format!("{pat}houbetsu"), format!("法別番号「{hv}」は2桁の数字の文字列です"), format!("houbetsu {hv} must be a 2-digit string")))?;
                    let rate_percent = match po.get("rate_percent") {
                        None | Some(Value::Null) => None,
                        Some(v) => {
                            let r = as_int(v, file, &format!("{pat}rate_percent"))?;
                            if !(0..=100).contains(&r) {
                                return Err(err(file, &format!("{pat}rate_percent"), "0〜100 です".into(), "must be 0..=100".into()));
                            }
                            Some(r as u32)
                        }
                    };
                    let monthly_cap_yen = match po.get("monthly_cap_yen") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(as_int(v, file, &format!("{pat}monthly_cap_yen"))?),
                    };
                    let paid_elsewhere_yen = match po.get("paid_elsewhere_yen") {
                        None | Some(Value::Null) => 0,
                        Some(v) => as_int(v, file, &format!("{pat}paid_elsewhere_yen"))?,
                    };
                    bill.kouhi.push(KouhiPayer { houbetsu, rate_percent, monthly_cap_yen, paid_elsewhere_yen });
                }
                _ => return Err(err(file, &format!("{pat}kind"), "kind は insurance か kouhi です".into(), "kind must be \"insurance\" or \"kouhi\"".into())),
            }
        }
        bills.push(bill);
    }
    check_bills(&bills, file).map_err(|e| {
        let f = e.field.clone().unwrap_or_default();
        e.field(f.replacen("bills", name, 1))
    })?;
    Ok(bills)
}

/// A window request: the patient fields of a case input plus `visits: [{"date", "bills"}]`,
/// optional `earlier_bills` and `already_collected_yen`.
pub fn parse_window(v: &Value, file: &str) -> Result<crate::window::WindowRequest, InputError> {
    let o = v.as_object().ok_or_else(|| err(file, "$", "JSON オブジェクトが必要です".into(), "expected a JSON object".into()))?;
    let patient = parse_patient(o, file)?;
    let earlier_bills = match o.get("earlier_bills") {
        None | Some(Value::Null) => Vec::new(),
        Some(b) => parse_bills(b, file, "earlier_bills")?,
    };
    let already_collected_yen = match o.get("already_collected_yen") {
        None | Some(Value::Null) => 0,
        Some(x) => as_int(x, file, "already_collected_yen")?,
    };
    let vs = req(o, "visits", file, "")?.as_array().ok_or_else(|| err(file, "visits", "配列が必要です".into(), "expected an array".into()))?;
    let mut visits = Vec::with_capacity(vs.len());
    for (i, vv) in vs.iter().enumerate() {
        let vo = vv.as_object().ok_or_else(|| err(file, &format!("visits[{i}]"), "オブジェクトが必要です".into(), "expected an object".into()))?;
        let ds = req(vo, "date", file, &format!("visits[{i}]."))?.as_str().unwrap_or("");
        let date = santei_core::date::parse_iso(ds).ok_or_else(|| err(file, &format!("visits[{i}].date"), format!("日付「{ds}」は YYYY-MM-DD ではありません"), format!("date {ds:?} is not YYYY-MM-DD")))?;
        let bills = parse_bills(req(vo, "bills", file, &format!("visits[{i}]."))?, file, &format!("visits[{i}].bills"))?;
        visits.push(crate::window::Visit { date, bills });
    }
    Ok(crate::window::WindowRequest { patient, earlier_bills, already_collected_yen, visits })
}

/// The CLI contract: `{"patient_total_yen", "payers": [{"payer", "charged_yen"?, "pays_yen", "remaining_after_yen"}]}`.
pub fn split_to_json(s: &Split) -> Value {
    let payers: Vec<Value> = s
        .payers
        .iter()
        .map(|p| match p.payer {
            PayerId::Insurance => json!({"payer": p.payer.label(), "pays_yen": p.pays_yen, "remaining_after_yen": p.remaining_after_yen}),
            PayerId::Kouhi(_) => json!({"payer": p.payer.label(), "charged_yen": p.charged_yen, "pays_yen": p.pays_yen, "remaining_after_yen": p.remaining_after_yen}),
        })
        .collect();
    json!({"patient_total_yen": s.patient_total_yen, "payers": payers})
}
