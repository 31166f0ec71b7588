//! The result of a calculation: UKE 点数・回数算定単位 ("units"), per-day and per-visit points,
//! warnings. Serialises to the JSON contract of `santei calc --json`.

use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

fn ser_qty<S: serde::Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&d.normalize().to_string()),
        None => s.serialize_none(),
    }
}

fn ser_arc_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// What kind of master row a line is (UKE record: SI / IY / TO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    Procedure,
    Drug,
    Material,
}

impl LineKind {
    pub fn record(self) -> &'static str {
        match self {
            LineKind::Procedure => "SI",
            LineKind::Drug => "IY",
            LineKind::Material => "TO",
        }
    }
}

/// Why a line is there: the rule (点数表 section) and the master row it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Explain {
    /// 点数表 section and rule, e.g. "A001 注8 外来管理加算 (自動算定)".
    pub rule: &'static str,
    /// Master file the row came from (as recorded in the store).
    #[serde(serialize_with = "ser_arc_str")]
    pub master_file: Arc<str>,
    /// 1-based line in that file.
    pub master_line: u32,
    /// Arithmetic, when there is some (e.g. "10.10円×3 = 30.30円 → 3点").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub kind: LineKind,
    /// 数量 (drug quantity per day/dose/dispensing; material quantity; procedure 数量データ).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_qty")]
    pub quantity: Option<Decimal>,
    pub explain: Explain,
    /// Master 項番36 上限回数 (0 = none), for the month-limit check.
    #[serde(skip)]
    pub max_count: u16,
}

/// One UKE 点数・回数算定単位.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub shinryo_shikibetsu: String,
    pub lines: Vec<Line>,
    /// Points of one 回.
    pub points: i64,
    /// 回数 over the month (= Σ days).
    pub count: i64,
    /// Day of month → 回数 that day.
    pub days: BTreeMap<u32, i64>,
}

impl Unit {
    pub fn total(&self) -> i64 {
        self.points * self.count
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DayPoints {
    pub date: String,
    pub points: i64,
}

/// Points of one input visit (in input order): the copay engine applies rounding per visit.
#[derive(Debug, Clone, Serialize)]
pub struct VisitPoints {
    /// 0-based index of the visit in the input.
    pub visit: usize,
    pub date: String,
    pub points: i64,
}

/// A non-fatal finding. `visit`/`order` are 0-based input indexes when the finding is about one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    pub message_ja: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub month: String,
    pub total_points: i64,
    pub days: Vec<DayPoints>,
    pub visits: Vec<VisitPoints>,
    pub units: Vec<Unit>,
    pub warnings: Vec<Warning>,
}

fn shikibetsu_name(s: &str) -> &'static str {
    match s {
        "11" => "初診",
        "12" => "再診",
        "13" => "医学管理",
        "14" => "在宅",
        "21" => "投薬 内服",
        "22" => "投薬 屯服",
        "23" => "投薬 外用",
        "24" => "投薬 調剤",
        "25" => "投薬 処方",
        "26" => "投薬 麻毒",
        "27" => "投薬 調基",
        "28" => "投薬 その他",
        "31" => "注射 皮下筋肉内",
        "32" => "注射 静脈内",
        "33" => "注射 その他",
        "40" => "処置",
        "50" => "手術",
        "54" => "麻酔",
        "60" => "検査・病理",
        "70" => "画像診断",
        "80" => "その他",
        _ => "",
    }
}

impl Outcome {
    /// JSON for `--json`; `explain` keeps the per-line provenance.
    pub fn to_json(&self, explain: bool) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if !explain {
            if let Some(units) = v.get_mut("units").and_then(|u| u.as_array_mut()) {
                for u in units {
                    if let Some(lines) = u.get_mut("lines").and_then(|l| l.as_array_mut()) {
                        for l in lines {
                            if let Some(o) = l.as_object_mut() {
                                o.remove("explain");
                            }
                        }
                    }
                }
            }
        }
        v
    }

    /// A readable receipt-style breakdown grouped by 診療識別 (Japanese).
    pub fn render_text(&self, explain: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "診療年月 {}  合計 {}点", self.month, self.total_points);
        let mut last = "";
        for u in &self.units {
            if u.shinryo_shikibetsu != last {
                last = &u.shinryo_shikibetsu;
                let _ = writeln!(s, "\n[{}] {}", u.shinryo_shikibetsu, shikibetsu_name(&u.shinryo_shikibetsu));
            }
            for (i, l) in u.lines.iter().enumerate() {
                let q = l.quantity.map(|q| format!(" {}", q.normalize())).unwrap_or_default();
                if i + 1 == u.lines.len() {
                    let days: Vec<String> = u
                        .days
                        .iter()
                        .map(|(d, n)| if *n == 1 { format!("{d}日") } else { format!("{d}日×{n}") })
                        .collect();
                    let _ = writeln!(
                        s,
                        "  {} {}{}  {}点 × {}  = {}点  ({})",
                        l.code,
                        l.name,
                        q,
                        u.points,
                        u.count,
                        u.total(),
                        days.join(" ")
                    );
                } else {
                    let _ = writeln!(s, "  {} {}{}", l.code, l.name, q);
                }
                if explain {
                    let e = &l.explain;
                    let _ = writeln!(
                        s,
                        "      ← {} [{}:{}]{}",
                        e.rule,
                        e.master_file,
                        e.master_line,
                        if e.detail.is_empty() { String::new() } else { format!(" {}", e.detail) }
                    );
                }
            }
        }
        let _ = writeln!(s, "\n日別");
        for d in &self.days {
            let _ = writeln!(s, "  {}  {}点", d.date, d.points);
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "\n警告");
            for w in &self.warnings {
                let at = match (w.visit, w.order) {
                    (Some(v), Some(o)) => format!("visits[{v}].orders[{o}]: "),
                    (Some(v), None) => format!("visits[{v}]: "),
                    _ => String::new(),
                };
                let _ = writeln!(s, "  [{}] {}{}", w.code, at, w.message_ja);
            }
        }
        s
    }
}
