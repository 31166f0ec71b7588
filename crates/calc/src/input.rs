//! The input contract: one patient-month (see crates/calc/README.md). Unknown fields (insurance,
//! 公費, …) are accepted and ignored. Numbers are kept as exact decimals (a JSON number or a
//! string), validated later with the visit and order index in the message.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PatientMonth {
    #[serde(default)]
    pub institution: Institution,
    #[serde(default)]
    pub patient: Patient,
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub diagnoses: Vec<serde_json::Value>,
    #[serde(default)]
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Institution {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub prefecture: String,
    #[serde(default)]
    pub name: String,
    /// "clinic" (診療所) or "hospital" (病院).
    #[serde(default = "clinic")]
    pub kind: String,
    #[serde(default)]
    pub beds: u32,
    /// Posted hours per day key (mon … sun, holiday): [["09:00","12:30"], …].
    #[serde(default)]
    pub posted_hours: BTreeMap<String, Vec<(String, String)>>,
    /// 常勤薬剤師 (調剤技術基本料).
    #[serde(default)]
    pub pharmacist: bool,
}

fn clinic() -> String {
    "clinic".into()
}

impl Default for Institution {
    fn default() -> Self {
        Institution {
            code: String::new(),
            prefecture: String::new(),
            name: String::new(),
            kind: clinic(),
            beds: 0,
            posted_hours: BTreeMap::new(),
            pharmacist: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Patient {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub birth_date: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Visit {
    #[serde(default)]
    pub date: String,
    /// "HH:MM" of reception; without it no time addition is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// "initial" | "revisit" | "none".
    #[serde(default = "none")]
    pub consultation: String,
    #[serde(default)]
    pub orders: Vec<Order>,
}

fn none() -> String {
    "none".into()
}

/// One order. `type`: "procedure" (any 診療行為: 検査, 処置, 注射, 画像, 医学管理 …; aliases
/// "test", "injection", "imaging", "treatment", "management"), "prescription", "material".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Order {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Procedure: 数量 recorded on the line; material: quantity in its unit.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_num")]
    pub quantity: Option<Num>,
    /// Procedure: 回数 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_num")]
    pub count: Option<Num>,
    /// Prescription: "in_house" | "outside".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispensing: Option<String>,
    /// Prescription: "internal" | "as_needed" | "external".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// 内服: days.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_num")]
    pub days: Option<Num>,
    /// 屯服: times (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_num")]
    pub times: Option<Num>,
    /// 臨時の投薬 (for the 7種類 count of F200 注2).
    #[serde(default)]
    pub temporary: bool,
    /// 用法 (e.g. "1日3回毎食後"): prescription orders of one visit with the same usage, category,
    /// dispensing and days form one 剤.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// Prescription drugs, or drugs used with a procedure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drugs: Vec<Item>,
    /// Materials used with a procedure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Item>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Item {
    #[serde(default)]
    pub code: String,
    #[serde(default, deserialize_with = "de_num")]
    pub quantity: Option<Num>,
}

/// An exact number from JSON (number or string); `Bad` keeps the raw text for the error message.
#[derive(Debug, Clone, PartialEq)]
pub enum Num {
    Ok(Decimal),
    Bad(String),
}

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Num::Ok(d) => s.serialize_str(&d.normalize().to_string()),
            Num::Bad(t) => s.serialize_str(t),
        }
    }
}

impl From<Decimal> for Num {
    fn from(d: Decimal) -> Self {
        Num::Ok(d)
    }
}
impl From<i64> for Num {
    fn from(d: i64) -> Self {
        Num::Ok(Decimal::from(d))
    }
}

fn de_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Num>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.map(|v| {
        let text = match &v {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.trim().to_string(),
            other => return Num::Bad(other.to_string()),
        };
        // Exponent forms (1e3) from JSON floats: fall back to scientific parsing.
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(x) => Num::Ok(x),
            Err(_) => Num::Bad(text),
        }
    }))
}

impl PatientMonth {
    /// Parse the JSON text of one patient-month.
    pub fn from_json(text: &str) -> Result<PatientMonth, serde_json::Error> {
        serde_json::from_str(text)
    }
}
