//! The patient-month input: the `santei calc` JSON (santei-calc ignores the fields it does not know)
//! plus `insurance`, `kouhi`, and the claim fields (institution phone, patient name/kana/sex/id,
//! diagnoses). See `crates/engine/README.md` for the schema.

use santei_core::date::{parse_iso, Date, YearMonth};
use santei_core::InputError;
use serde_json::{Map, Value};

/// 本人 / 家族 (記録条件仕様 別表5 レセプト種別 4th digit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// 本人 (被保険者).
    SelfInsured,
    /// 家族 (被扶養者).
    Family,
}

/// The health-insurance card (保険証 / オン資 data) of the month.
#[derive(Clone, Debug, PartialEq)]
pub struct InsuranceInput {
    /// 保険者番号: 8 digits (社保・後期) or 6 digits (国保).
    pub insurer: String,
    /// 記号 (may be empty, e.g. 後期).
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番 (2 digits; SN record). Empty when unknown.
    pub branch: String,
    pub relation: Relation,
    /// 負担割合 %; derived from the birth date and the month when absent.
    pub rate_percent: Option<u32>,
    /// 所得区分 (santei-copay names: ア イ ウ エ オ 現役並みⅢ … 低所得Ⅰ).
    pub income_class: Option<santei_copay::IncomeClass>,
    pub multiple_high_cost: bool,
    /// Under 70: 限度額適用認定証 shown (or オン資 consent) — the ceiling applies at the window.
    pub limit_certified: bool,
    /// Collected this month at this window for `earlier_points` (care not in `visits`).
    pub already_collected_yen: i64,
    /// Points of this month's care on the same receipt that are not in `visits`.
    pub earlier_points: i64,
    /// マル長 (特定疾病療養受療証) monthly cap.
    pub tokutei_shippei_cap_yen: Option<i64>,
}

/// One 公費 (受給者証), in priority order (第1公費 first).
#[derive(Clone, Debug, PartialEq)]
pub struct KouhiInput {
    /// 公費負担者番号 (8 digits; 法別 = first two).
    pub futansha: String,
    /// 受給者番号 (7 digits; empty for 法別 30).
    pub jukyusha: String,
    pub houbetsu: u8,
    /// Patient share %; `None`: the national registry's default for the insurance rate, else
    /// "whatever is left" (no own rate).
    pub rate_percent: Option<u32>,
    pub monthly_cap_yen: Option<i64>,
    pub paid_elsewhere_yen: i64,
}

/// A diagnosis (SY record).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    pub code: String,
    pub start_date: Date,
    /// 転帰 (別表18): 1 継続, 2 治ゆ, 3 死亡, 4 中止.
    pub outcome: String,
    /// 修飾語コード (4 digits each).
    pub modifiers: Vec<String>,
    /// 傷病名称 (only for 未コード化傷病名 0000999).
    pub name: String,
    pub main: bool,
    pub comment: String,
}

/// Claim-only fields of the institution that santei-calc does not read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimExtras {
    pub phone: String,
}

/// One patient-month, parsed and validated.
#[derive(Clone, Debug)]
pub struct PatientMonthInput {
    /// Name used in error messages (file path or "input").
    pub source: String,
    pub calc: santei_calc::PatientMonth,
    pub month: YearMonth,
    pub birth_date: Date,
    pub insurance: Option<InsuranceInput>,
    pub kouhi: Vec<KouhiInput>,
    pub diagnoses: Vec<Diagnosis>,
    pub extras: ClaimExtras,
}

pub(crate) fn err(code: &'static str, file: &str, field: &str, ja: impl Into<String>, en: impl Into<String>) -> InputError {
    InputError::new(code, file, ja, en).field(field.to_string())
}

fn opt_str(o: &Map<String, Value>, key: &str, file: &str, at: &str, errors: &mut Vec<InputError>) -> Option<String> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        // numbers written without quotes are accepted for digit fields (e.g. "number": 123)
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(_) => {
            errors.push(err("E010", file, &format!("{at}{key}"), "文字列が必要です", "expected a string"));
            None
        }
    }
}

fn opt_int(o: &Map<String, Value>, key: &str, file: &str, at: &str, min: i64, max: i64, errors: &mut Vec<InputError>) -> Option<i64> {
    let f = format!("{at}{key}");
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(x) if (min..=max).contains(&x) => Some(x),
            Some(x) => {
                errors.push(err("E011", file, &f, format!("{x} は範囲 {min}〜{max} の外です"), format!("{x} is outside {min}..={max}")));
                None
            }
            None => {
                errors.push(err("E011", file, &f, "整数が必要です", "expected an integer"));
                None
            }
        },
    }
}

fn opt_bool(o: &Map<String, Value>, key: &str, file: &str, at: &str, errors: &mut Vec<InputError>) -> Option<bool> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(err("E012", file, &format!("{at}{key}"), "真偽値 (true/false) が必要です", "expected true or false"));
            None
        }
    }
}

/// Upper bound for yen amounts in the input (a month's money; guards against overflow).
const MAX_YEN: i64 = 1_000_000_000_000;
/// Upper bound for points carried in from outside the input.
const MAX_POINTS: i64 = 100_000_000;

fn parse_insurance(v: &Value, file: &str, errors: &mut Vec<InputError>) -> Option<InsuranceInput> {
    let Some(o) = v.as_object() else {
        errors.push(err("E001", file, "insurance", "insurance はオブジェクトです", "insurance must be an object"));
        return None;
    };
    let at = "insurance.";
    let insurer = opt_str(o, "insurer", file, at, errors);
    if insurer.is_none() && !errors.iter().any(|e| e.field.as_deref() == Some("insurance.insurer")) {
        errors.push(err("E002", file, "insurance.insurer", "保険者番号 insurer がありません", "insurance.insurer (保険者番号) is missing"));
    }
    let relation = match opt_str(o, "relation", file, at, errors).as_deref() {
        None | Some("self") => Relation::SelfInsured,
        Some("family") => Relation::Family,
        Some(x) => {
            errors.push(err("E003", file, "insurance.relation", format!("本人/家族の区分「{x}」は self か family です"), format!("relation {x:?} must be \"self\" or \"family\"")));
            Relation::SelfInsured
        }
    };
    let income_class = match opt_str(o, "income_class", file, at, errors) {
        None => None,
        Some(s) => match santei_copay::IncomeClass::parse(&s) {
            Some(c) => Some(c),
            None => {
                errors.push(err("E004", file, "insurance.income_class", format!("未知の所得区分「{s}」"), format!("unknown income class {s:?}")));
                None
            }
        },
    };
    let branch = opt_str(o, "branch", file, at, errors).unwrap_or_default();
    if !branch.is_empty() && (branch.len() > 2 || !branch.bytes().all(|b| b.is_ascii_digit())) {
        errors.push(err("E005", file, "insurance.branch", format!("枝番「{branch}」は2桁の数字です"), format!("branch {branch:?} must be 1–2 digits")));
    }
    Some(InsuranceInput {
        insurer: insurer.unwrap_or_default(),
        symbol: opt_str(o, "symbol", file, at, errors).unwrap_or_default(),
        number: opt_str(o, "number", file, at, errors).unwrap_or_default(),
        branch: if branch.len() == 1 { format!("0{branch}") } else { branch },
        relation,
        rate_percent: opt_int(o, "rate_percent", file, at, 0, 100, errors).map(|x| x as u32),
        income_class,
        multiple_high_cost: opt_bool(o, "multiple_high_cost", file, at, errors).unwrap_or(false),
        limit_certified: opt_bool(o, "limit_certified", file, at, errors).unwrap_or(false),
        already_collected_yen: opt_int(o, "already_collected_yen", file, at, 0, MAX_YEN, errors).unwrap_or(0),
        earlier_points: opt_int(o, "earlier_points", file, at, 0, MAX_POINTS, errors).unwrap_or(0),
        tokutei_shippei_cap_yen: opt_int(o, "tokutei_shippei_cap_yen", file, at, 0, MAX_YEN, errors),
    })
}

fn parse_kouhi(v: &Value, file: &str, errors: &mut Vec<InputError>) -> Vec<KouhiInput> {
    let Some(arr) = v.as_array() else {
        errors.push(err("E020", file, "kouhi", "kouhi は配列です", "kouhi must be an array"));
        return Vec::new();
    };
    if arr.len() > santei_copay::split::MAX_KOUHI {
        errors.push(err("E021", file, "kouhi", "公費は4つまでです（第1〜第4公費）", "at most 4 kouhi (第1〜第4公費)"));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, k) in arr.iter().enumerate() {
        let at = format!("kouhi[{i}].");
        let Some(o) = k.as_object() else {
            errors.push(err("E022", file, &format!("kouhi[{i}]"), "オブジェクトが必要です", "expected an object"));
            continue;
        };
        let futansha = opt_str(o, "futansha", file, &at, errors).unwrap_or_default();
        let houbetsu = if futansha.len() == 8 && futansha.bytes().all(|b| b.is_ascii_digit()) { santei_copay::kouhi::parse_houbetsu(&futansha[..2]) } else { None };
        let Some(houbetsu) = houbetsu else {
            errors.push(err("E023", file, &format!("{at}futansha"), format!("公費負担者番号「{futansha}」は8桁の数字です"), format!("futansha (公費負担者番号) {futansha:?} must be 8 digits")));
            continue;
        };
        let jukyusha = opt_str(o, "jukyusha", file, &at, errors).unwrap_or_default();
        if !jukyusha.bytes().all(|b| b.is_ascii_digit()) || jukyusha.len() > 7 {
            errors.push(err("E024", file, &format!("{at}jukyusha"), format!("受給者番号「{jukyusha}」は7桁までの数字です"), format!("jukyusha (受給者番号) {jukyusha:?} must be up to 7 digits")));
        }
        out.push(KouhiInput {
            futansha,
            jukyusha,
            houbetsu,
            rate_percent: opt_int(o, "rate_percent", file, &at, 0, 100, errors).map(|x| x as u32),
            monthly_cap_yen: opt_int(o, "monthly_cap_yen", file, &at, 0, MAX_YEN, errors),
            paid_elsewhere_yen: opt_int(o, "paid_elsewhere_yen", file, &at, 0, MAX_YEN, errors).unwrap_or(0),
        });
    }
    out
}

fn parse_diagnoses(v: &[Value], file: &str, errors: &mut Vec<InputError>) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for (i, d) in v.iter().enumerate() {
        let at = format!("diagnoses[{i}].");
        let Some(o) = d.as_object() else {
            errors.push(err("E030", file, &format!("diagnoses[{i}]"), "オブジェクトが必要です", "expected an object"));
            continue;
        };
        let code = opt_str(o, "code", file, &at, errors).unwrap_or_default();
        if code.len() != 7 || !code.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(err("E031", file, &format!("{at}code"), format!("傷病名コード「{code}」は7桁の数字です"), format!("diagnosis code {code:?} must be 7 digits")));
        }
        let sd = opt_str(o, "start_date", file, &at, errors).unwrap_or_default();
        let start_date = parse_iso(&sd);
        if start_date.is_none() {
            errors.push(err("E032", file, &format!("{at}start_date"), format!("診療開始日「{sd}」は YYYY-MM-DD ではありません"), format!("start_date {sd:?} is not YYYY-MM-DD")));
        }
        // 転帰区分 (記録条件仕様 別表18): 1 継続, 2 治ゆ, 3 死亡, 4 中止（転医）.
        let outcome = match o.get("outcome") {
            None | Some(Value::Null) => "1".to_string(),
            Some(Value::String(s)) if ["1", "2", "3", "4"].contains(&s.as_str()) => s.clone(),
            Some(Value::Number(n)) if matches!(n.as_u64(), Some(1..=4)) => n.to_string(),
            Some(_) => {
                errors.push(err("E033", file, &format!("{at}outcome"), "転帰は 1〜4 です（別表18）", "outcome must be 1–4 (別表18)"));
                String::new()
            }
        };
        let mut modifiers = Vec::new();
        match o.get("modifiers") {
            None | Some(Value::Null) => {}
            Some(Value::Array(ms)) => {
                for (j, m) in ms.iter().enumerate() {
                    match m.as_str() {
                        Some(s) if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) => modifiers.push(s.to_string()),
                        _ => errors.push(err("E034", file, &format!("{at}modifiers[{j}]"), "修飾語コードは4桁の数字の文字列です", "a modifier code is a 4-digit string")),
                    }
                }
            }
            Some(_) => errors.push(err("E034", file, &format!("{at}modifiers"), "modifiers は配列です", "modifiers must be an array")),
        }
        // SY 修飾語コード: at most 20 bytes = 5 codes (記録条件仕様 SY 項番5).
        if modifiers.len() > 5 {
            errors.push(err("E035", file, &format!("{at}modifiers"), "修飾語は5つまでです", "at most 5 modifiers"));
        }
        out.push(Diagnosis {
            code,
            start_date: start_date.unwrap_or_default(),
            outcome,
            modifiers,
            name: opt_str(o, "name", file, &at, errors).unwrap_or_default(),
            main: opt_bool(o, "main", file, &at, errors).unwrap_or(false),
            comment: opt_str(o, "comment", file, &at, errors).unwrap_or_default(),
        });
    }
    out
}

impl PatientMonthInput {
    /// Parse a patient-month from JSON text. Every problem is collected (bilingual, field-named).
    pub fn from_json(text: &str, source: &str) -> Result<Self, Vec<InputError>> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            vec![InputError::new("E000", source, format!("JSON が正しくありません: {e}"), format!("malformed JSON: {e}")).at_line(e.line() as u64)]
        })?;
        Self::from_value(&v, source)
    }

    /// Parse a patient-month from a JSON value.
    pub fn from_value(v: &Value, source: &str) -> Result<Self, Vec<InputError>> {
        let file = source;
        let Some(o) = v.as_object() else {
            return Err(vec![err("E000", file, "$", "JSON オブジェクトが必要です", "expected a JSON object")]);
        };
        let calc: santei_calc::PatientMonth = serde_json::from_value(v.clone())
            .map_err(|e| vec![InputError::new("E000", file, format!("入力の形式が正しくありません: {e}"), format!("input does not match the calc format: {e}"))])?;
        let mut errors = Vec::new();
        let month = YearMonth::parse_iso(&calc.month);
        if month.is_none() {
            errors.push(err("E040", file, "month", format!("診療年月「{}」は YYYY-MM ではありません", calc.month), format!("month {:?} is not YYYY-MM", calc.month)));
        }
        let birth_date = parse_iso(&calc.patient.birth_date);
        if birth_date.is_none() {
            errors.push(err("E041", file, "patient.birth_date", format!("生年月日「{}」は YYYY-MM-DD ではありません", calc.patient.birth_date), format!("birth_date {:?} is not YYYY-MM-DD", calc.patient.birth_date)));
        }
        let insurance = match o.get("insurance") {
            None | Some(Value::Null) => None,
            Some(x) => parse_insurance(x, file, &mut errors),
        };
        let kouhi = match o.get("kouhi") {
            None | Some(Value::Null) => Vec::new(),
            Some(x) => parse_kouhi(x, file, &mut errors),
        };
        let diagnoses = parse_diagnoses(&calc.diagnoses, file, &mut errors);
        let phone = o.get("institution").and_then(|i| i.as_object()).map(|i| opt_str(i, "phone", file, "institution.", &mut errors).unwrap_or_default()).unwrap_or_default();
        match (month, birth_date) {
            (Some(month), Some(birth_date)) if errors.is_empty() => {
                Ok(PatientMonthInput { source: source.to_string(), calc, month, birth_date, insurance, kouhi, diagnoses, extras: ClaimExtras { phone } })
            }
            _ => Err(errors),
        }
    }

    /// Whether the input carries any payer (insurance or 公費): then the copay is computed.
    pub fn has_payer(&self) -> bool {
        self.insurance.is_some() || !self.kouhi.is_empty()
    }
}
