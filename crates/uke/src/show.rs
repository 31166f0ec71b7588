//! Viewer: a receipt as text, roughly like a レセプト画面.

use crate::catalog::{CodeCatalog, CodeKind};
use crate::model::*;
use santei_core::date::{parse_uke_date, YearMonth};
use std::fmt::Write;

fn date(s: &str) -> String {
    parse_uke_date(s).map(|d| d.to_string()).unwrap_or_else(|| s.to_string())
}

/// 診療識別 (別表20) label.
pub fn shikibetsu_name(c: &str) -> &'static str {
    match c {
        "01" | "99" => "全体",
        "11" => "初診",
        "12" => "再診",
        "13" => "医学管理",
        "14" => "在宅",
        "21" => "内服",
        "22" => "屯服",
        "23" => "外用",
        "24" => "調剤",
        "25" => "処方",
        "26" => "麻毒",
        "27" => "調基",
        "28" => "投薬その他",
        "31" => "皮下筋肉内注射",
        "32" => "静脈内注射",
        "33" => "注射その他",
        "39" => "薬剤料減点",
        "40" => "処置",
        "50" => "手術",
        "54" => "麻酔",
        "60" => "検査・病理",
        "70" => "画像診断",
        "80" => "その他",
        "90" => "入院基本料",
        "92" => "特定入院料・その他",
        "97" => "食事・生活療養",
        _ => "",
    }
}

/// Render one receipt. `catalog` supplies names when available.
pub fn render_receipt(ir: &Ir, r: &Receipt, catalog: Option<&dyn CodeCatalog>) -> String {
    let mut s = String::new();
    let month = r.month();
    let on = month.map(YearMonth::first_day);
    let name = |kind: CodeKind, code: &str| -> String {
        match (catalog, on) {
            (Some(c), Some(d)) => c.lookup(kind, code, d).map(|e| e.name).unwrap_or_default(),
            _ => String::new(),
        }
    };
    let _ = writeln!(s, "━━ レセプト {} ━━ 種別 {} 診療年月 {} (請求 {} 医療機関 {} {})",
        r.re.receipt_no.as_str(), r.re.kind, month.map(|m| m.to_string()).unwrap_or_else(|| r.re.month.clone()),
        YearMonth::parse_uke(&ir.claim_month).map(|m| m.to_string()).unwrap_or_else(|| ir.claim_month.clone()), ir.institution_code, ir.name);
    let sex = match r.re.sex.as_str() { "1" => "男", "2" => "女", _ => "?" };
    let _ = writeln!(s, "患者  {} ({}) {} 生年月日 {} カルテ {} 特記 {}", r.re.name, r.re.kana_name, sex, date(&r.re.birth_date), r.re.karte_no, r.re.tokki);
    if let Some(h) = &r.ho {
        let _ = writeln!(s, "保険  {} 記号 {} 番号 {} 実日数 {} 合計 {}点 負担金額 {}", h.insurer_no.trim(), h.symbol, h.number, h.days.as_str(), h.points.as_str(), h.copay.as_str());
    }
    for (i, k) in r.ko.iter().enumerate() {
        let _ = writeln!(s, "公費{} {} 受給者 {} 実日数 {} 合計 {}点 負担金額 {}", i + 1, k.payer_no, k.recipient_no, k.days.as_str(), k.points.as_str(), k.copay.as_str());
    }
    for jd in &r.jd {
        let days: Vec<String> = jd.days.used().map(|d| d.to_string()).collect();
        let _ = writeln!(s, "受診日 (負担者{}) {}", jd.payer_kind, days.join(","));
    }
    let _ = writeln!(s, "── 傷病名");
    for sy in &r.sy {
        let n = if sy.code == "0000999" { sy.name.clone() } else { name(CodeKind::Disease, &sy.code) };
        let main = if sy.main == "01" { " (主)" } else { "" };
        let _ = writeln!(s, "  {} {}{} 開始 {} 転帰 {} {}", sy.code, n, main, date(&sy.start_date), sy.outcome, sy.modifiers);
    }
    let _ = writeln!(s, "── 摘要");
    let units = r.units();
    let mut cur = String::new();
    let mut unit_of = vec![None; r.items.len()];
    for (ui, u) in units.iter().enumerate() {
        for &i in &u.items {
            if let Some(slot) = unit_of.get_mut(i) {
                *slot = Some(ui);
            }
        }
    }
    for (i, it) in r.items.iter().enumerate() {
        let v = it.view();
        if !v.shikibetsu.is_empty() && v.shikibetsu != cur {
            cur = v.shikibetsu.to_string();
            let _ = writeln!(s, " [{} {}]", cur, shikibetsu_name(&cur));
        }
        match it {
            Item::Co(c) => {
                let n = name(CodeKind::Comment, &c.code);
                let _ = writeln!(s, "    * {} {}{}", c.code, n, c.text);
            }
            _ => {
                let kind = match it { Item::Iy(_) => CodeKind::Drug, Item::To(_) => CodeKind::Material, _ => CodeKind::Procedure };
                let qty = match it { Item::Iy(x) => x.quantity.as_str(), Item::To(x) => x.quantity.as_str(), Item::Si(x) => x.quantity.as_str(), _ => "" };
                let mut tail = String::new();
                if let Some(u) = unit_of.get(i).copied().flatten().and_then(|ui| units.get(ui)) {
                    if u.items.last() == Some(&i) {
                        tail = format!("  {} × {} = {}点", u.points.map(|p| p.to_string()).unwrap_or_else(|| "-".into()), u.count, u.amount());
                    }
                }
                let q = if qty.is_empty() { String::new() } else { format!(" 数量 {qty}") };
                let _ = writeln!(s, "    {} {} {}{}{}", v.id, v.code, name(kind, v.code), q, tail);
            }
        }
    }
    for sj in &r.sj {
        let _ = writeln!(s, "── 症状詳記 {} {}", sj.class, sj.text);
    }
    let t = r.computed_points();
    let _ = write!(s, "── 合計 医保 {}点", t[0]);
    for i in 0..r.ko.len().min(4) {
        let _ = write!(s, " / 第{}公費 {}点", i + 1, t.get(i + 1).copied().unwrap_or(0));
    }
    s.push('\n');
    s
}
