//! The claim tables of `data/claims.toml` (embedded, parsed once): 法別 of 後期/退職, SN start,
//! 特記事項 per 所得区分 (dated). Codes only — no money values.

use santei_core::date::{parse_iso, Date};
use santei_core::InputError;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const FILE: &str = "crates/engine/data/claims.toml";
pub const EMBEDDED: &str = include_str!("../data/claims.toml");

#[derive(Debug, Clone)]
pub struct TokkiVersion {
    pub from: Date,
    /// age class code → 所得区分 name → 特記事項 code.
    pub by_age: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone)]
pub struct Tables {
    pub kouki_houbetsu: Vec<String>,
    pub taishoku_houbetsu: Vec<String>,
    pub sn_from: Date,
    pub tokki: Vec<TokkiVersion>,
}

fn terr(field: &str, ja: &str, en: &str) -> InputError {
    InputError::new("E090", FILE, ja, en).field(field.to_string())
}

fn strings(v: Option<&toml::Value>, field: &str) -> Result<Vec<String>, InputError> {
    v.and_then(|a| a.as_array())
        .ok_or_else(|| terr(field, "文字列の配列が必要です", "expected an array of strings"))?
        .iter()
        .map(|s| s.as_str().map(str::to_string).ok_or_else(|| terr(field, "文字列が必要です", "expected a string")))
        .collect()
}

fn date(v: Option<&toml::Value>, field: &str) -> Result<Date, InputError> {
    v.and_then(|s| s.as_str()).and_then(parse_iso).ok_or_else(|| terr(field, "日付 YYYY-MM-DD が必要です", "expected a YYYY-MM-DD date"))
}

impl Tables {
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let t: toml::Table = text.parse().map_err(|e| InputError::new("E090", FILE, format!("TOML が読めません: {e}"), format!("cannot parse TOML: {e}")))?;
        let hb = t.get("houbetsu").and_then(|h| h.as_table()).ok_or_else(|| terr("houbetsu", "表がありません", "missing table"))?;
        let mut tokki = Vec::new();
        for (i, v) in t.get("tokki").and_then(|x| x.as_array()).ok_or_else(|| terr("tokki", "[[tokki]] がありません", "missing [[tokki]]"))?.iter().enumerate() {
            let f = format!("tokki[{i}]");
            let tab = v.as_table().ok_or_else(|| terr(&f, "表が必要です", "expected a table"))?;
            let mut by_age = BTreeMap::new();
            for (age, m) in tab.iter().filter(|(k, _)| k.as_str() != "from") {
                let m = m.as_table().ok_or_else(|| terr(&format!("{f}.{age}"), "表が必要です", "expected a table"))?;
                let mut inner = BTreeMap::new();
                for (class, code) in m {
                    let code = code.as_str().ok_or_else(|| terr(&format!("{f}.{age}.{class}"), "文字列が必要です", "expected a string"))?;
                    inner.insert(class.clone(), code.to_string());
                }
                by_age.insert(age.clone(), inner);
            }
            tokki.push(TokkiVersion { from: date(tab.get("from"), &format!("{f}.from"))?, by_age });
        }
        tokki.sort_by_key(|v| v.from);
        Ok(Tables {
            kouki_houbetsu: strings(hb.get("kouki"), "houbetsu.kouki")?,
            taishoku_houbetsu: strings(hb.get("taishoku"), "houbetsu.taishoku")?,
            sn_from: date(t.get("sn").and_then(|s| s.get("from")), "sn.from")?,
            tokki,
        })
    }

    /// The embedded tables (parsed once).
    pub fn embedded() -> Result<&'static Tables, InputError> {
        static T: OnceLock<Result<Tables, InputError>> = OnceLock::new();
        T.get_or_init(|| Tables::parse(EMBEDDED)).as_ref().map_err(Clone::clone)
    }

    /// 特記事項 code for an age class and 所得区分 on a date (`None`: no code in force).
    pub fn tokki(&self, on: Date, age: &str, class: &str) -> Option<&str> {
        self.tokki.iter().rev().find(|v| v.from <= on).and_then(|v| v.by_age.get(age)).and_then(|m| m.get(class)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_date_the_kouki_split() {
        let t = Tables::embedded().unwrap();
        let before = parse_iso("2022-09-01").unwrap();
        let after = parse_iso("2022-10-01").unwrap();
        assert_eq!(t.tokki(before, "75plus", "一般"), Some("29"));
        assert_eq!(t.tokki(after, "75plus", "一般"), Some("42"));
        assert_eq!(t.tokki(after, "75plus", "一般Ⅱ"), Some("41"));
        assert_eq!(t.tokki(after, "under70", "ウ"), Some("28"));
        assert_eq!(t.tokki(parse_iso("2010-01-01").unwrap(), "under70", "ウ"), None);
        assert_eq!(t.kouki_houbetsu, vec!["39"]);
    }
}
