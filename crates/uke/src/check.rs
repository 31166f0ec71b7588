//! The checker: structural, arithmetic and (with a [`CodeCatalog`]) master checks.
//! Streams: one receipt in memory at a time.

use crate::catalog::{CodeCatalog, CodeKind};
use crate::diag::{Diagnostic, Severity};
use crate::digits::luhn_ok;
use crate::lex::RawRecord;
use crate::model::*;
use crate::read::{Event, UkeReader};
use santei_core::date::{parse_uke_date, Date, YearMonth};
use serde::Serialize;
use std::io::BufRead;
use std::path::Path;

/// Options of a check run.
#[derive(Default, Clone, Copy)]
pub struct CheckOptions<'a> {
    pub catalog: Option<&'a dyn CodeCatalog>,
}

/// Result for one file (the `files[]` element of `santei uke check --json`).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub receipts: u64,
    /// Σ 主保険 合計点数 as recorded (HO, or the first KO for 公費単独).
    pub total_points: u64,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    #[serde(skip)]
    pub bytes: u64,
    #[serde(skip)]
    pub records: u64,
    /// Total findings (lists are capped at [`crate::read::MAX_DIAGNOSTICS`]).
    #[serde(skip)]
    pub error_count: u64,
}

impl FileReport {
    pub fn ok(&self) -> bool {
        self.error_count == 0
    }
}

fn err(code: &'static str, ja: String, en: String, line: u64, rec: &str) -> Diagnostic {
    Diagnostic::error(code, ja, en).at(line, rec)
}

fn warn(code: &'static str, ja: String, en: String, line: u64, rec: &str) -> Diagnostic {
    Diagnostic::warning(code, ja, en).at(line, rec)
}

/// Per-record code checks (called by the reader for each record).
pub(crate) fn code_checks(rec: &RawRecord) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let id = rec.id();
    let f = |n: usize| rec.fields.get(n - 1).map(String::as_str).unwrap_or("");
    let bad = |out: &mut Vec<Diagnostic>, n: usize, name: &str, what_ja: &str, what_en: &str| {
        out.push(
            Diagnostic::error("U209", format!("{what_ja}が不正です: {}", f(n)), format!("invalid {what_en}: {}", f(n)))
                .at(rec.line, id)
                .field(n, name),
        );
    };
    match id {
        "IR"
            // 別表1 審査支払機関コード: 1 社会保険診療報酬支払基金, 2 国民健康保険団体連合会.
            if !matches!(f(2), "1" | "2") => {
                bad(&mut out, 2, "審査支払機関", "審査支払機関", "審査支払機関 (別表1)");
            }
        "RE" => {
            // 別表5 レセプト種別: 1 (医科) + 1..4 + 1..5 + 0..9.
            let shape = matches!(f(3).as_bytes(), [b'1', b'1'..=b'4', b'1'..=b'5', b'0'..=b'9']);
            if !shape && !f(3).is_empty() {
                bad(&mut out, 3, "レセプト種別", "レセプト種別", "レセプト種別 (別表5)");
            }
            // 別表6 男女区分: 1 男, 2 女.
            if !matches!(f(6), "1" | "2") {
                bad(&mut out, 6, "男女区分", "男女区分", "sex (別表6)");
            }
        }
        "HO" => {
            // 保険者番号: 8 digits, or 6 digits (国保) right-aligned with spaces (第1章 3(4)ウ(ア));
            // check digit DOMAIN §4.1 / §7.
            let v = f(2).trim_start_matches(' ');
            if !v.is_empty() && (!matches!(v.len(), 6 | 8) || !luhn_ok(v)) {
                out.push(
                    err("U210", format!("保険者番号の検証番号が不正です: {}", f(2)), format!("insurer number fails its check digit: {}", f(2)), rec.line, id)
                        .field(2, "保険者番号"),
                );
            }
        }
        "KO" => {
            // 公費負担者番号 8 digits with check digit; 地方単独 programs may use numbers without
            // one (DOMAIN §4.1 ⚠) → warning only for 法別 80–99 (地方単独 range used by prefectures).
            let v = f(2);
            if !(v.is_empty() || v.len() == 8 && luhn_ok(v)) {
                let local = v.len() == 8 && matches!(v.as_bytes().first(), Some(b'8'..=b'9'));
                let sev = if local { Severity::Warning } else { Severity::Error };
                out.push(
                    Diagnostic::new(sev, if local { "U211" } else { "U210" },
                        format!("公費負担者番号の検証番号が不正です: {v}"), format!("公費 payer number fails its check digit: {v}"))
                    .at(rec.line, id)
                    .field(2, "負担者番号"),
                );
            }
            // 受給者番号: 7 digits zero-padded (第1章 3(4)ウ(イ)), check digit (DOMAIN §4.1).
            let r = f(3);
            if !(r.is_empty() || r.len() == 7 && luhn_ok(r)) {
                out.push(
                    Diagnostic::warning("U211", format!("受給者番号の検証番号が不正です: {r}"), format!("公費 recipient number fails its check digit: {r}"))
                        .at(rec.line, id)
                        .field(3, "受給者番号"),
                );
            }
        }
        "SY"
            // 別表18 転帰区分: 1 継続, 2 治ゆ, 3 死亡, 4 中止.
            if !matches!(f(4), "1" | "2" | "3" | "4") => {
                bad(&mut out, 4, "転帰区分", "転帰区分", "転帰区分 (別表18)");
            }
        "SI" | "IY" | "TO" | "CO" => {
            // 別表20 診療識別 (may be omitted on continuation lines).
            if !f(2).is_empty() && !SHIKIBETSU.contains(&f(2)) {
                bad(&mut out, 2, "診療識別", "診療識別", "診療識別 (別表20)");
            }
            // 別表21 負担区分.
            if futan_payers(f(3)).is_none() {
                bad(&mut out, 3, "負担区分", "負担区分", "負担区分 (別表21)");
            }
            if f(4).is_empty() {
                out.push(err("U201", "コードが記録されていません".into(), "code is empty".into(), rec.line, id).field(4, "コード"));
            }
        }
        _ => {}
    }
    out
}

struct FileState {
    expected_no: u64,
    sum_points: u64,
    sum_count: u64,
    claim_month: Option<YearMonth>,
}

/// Receipt-level checks. Pushes into `out`.
pub fn check_receipt(r: &Receipt, catalog: Option<&dyn CodeCatalog>, out: &mut Vec<Diagnostic>) {
    let line = r.re.line;
    let month = r.month();
    // 第1章 3(3)ア(カ) and 別表5: which payer records a レセプト種別 needs.
    if let [b'1', second @ b'0'..=b'9', third @ b'0'..=b'9', b'0'..=b'9'] = *r.re.kind.as_bytes() {
        let third = u64::from(third - b'0');
        let (need_ho, n_ko) = if second == b'2' { (false, third) } else { (true, third.saturating_sub(1)) };
        if need_ho != r.ho.is_some() || n_ko != r.ko.len() as u64 {
            out.push(err(
                "U107",
                format!("レセプト種別{}と保険者・公費レコード(HO {}件, KO {}件)が一致しません", r.re.kind, u8::from(r.ho.is_some()), r.ko.len()),
                format!("レセプト種別 {} does not match the payer records (HO {}, KO {})", r.re.kind, u8::from(r.ho.is_some()), r.ko.len()),
                line,
                "RE",
            ));
        }
    }
    // SN 資格確認 (第1章 3(4)ウ(ウ) 注3): 令和3年8月診療以前分は記録を省略する; 枝番 is 2 digits
    // zero-padded (枝番 記録内容3).
    let sn_from = YearMonth { year: 2021, month: 9 };
    for sn in &r.sn {
        if month.is_some_and(|m| m < sn_from) {
            out.push(Diagnostic::warning("U112", "令和3年8月診療以前分に資格確認レコードがあります", "SN record on a receipt for care before 2021-09").at(sn.line, "SN"));
        }
        if sn.branch.len() == 1 {
            out.push(Diagnostic::warning("U217", "枝番は2桁で記録します(先頭に0)", "枝番 must have 2 digits (zero-padded)").at(sn.line, "SN").field(7, "枝番"));
        }
    }
    // 第1章 3(3)ア(オ): SY 必須; SI/IY/TO 必須※1 (at least one of them).
    if r.sy.is_empty() {
        out.push(err("U108", "傷病名レコード(SY)がありません".into(), "no diagnosis (SY) record".into(), line, "RE"));
    }
    if !r.items.iter().any(|i| !matches!(i, Item::Co(_))) {
        out.push(err("U109", "摘要(SI/IY/TO)レコードがありません".into(), "no SI/IY/TO record".into(), line, "RE"));
    }
    // 第1章 3(3)ア(オ) 注1: at most 98 consecutive records with 診療識別 omitted.
    let mut run = 0usize;
    for it in &r.items {
        let v = it.view();
        run = if v.shikibetsu.is_empty() { run + 1 } else { 0 };
        if run == 99 {
            out.push(err("U111", "診療識別を省略したレコードが98を超えて連続しています".into(), "more than 98 consecutive records without 診療識別".into(), v.line, v.id));
        }
    }
    let last_day = month.map(|m| m.last_day());
    let dim = last_day.map(|d| chrono::Datelike::day(&d) as usize).unwrap_or(31);
    // Per line: 回数 = Σ 算定日情報 (第1章 3(4)オ(ア) 回数/算定日情報); days within the month.
    for it in &r.items {
        let v = it.view();
        let (Some(count), Some(days)) = (v.count, v.days) else { continue };
        let c = count.value().unwrap_or(0);
        if c != days.sum() {
            out.push(
                err("U301", format!("回数{}が算定日情報の合計{}と一致しません", c, days.sum()), format!("回数 {} ≠ Σ day fields {}", c, days.sum()), v.line, v.id)
                    .field(7, "回数"),
            );
        }
        if let Some(d) = days.used().find(|&d| d > dim) {
            out.push(err("U212", format!("{d}日は診療年月にありません"), format!("day {d} is not in the 診療年月"), v.line, v.id));
        }
    }
    for jd in &r.jd {
        if let Some(d) = jd.days.used().find(|&d| d > dim) {
            out.push(err("U212", format!("{d}日は診療年月にありません"), format!("day {d} is not in the 診療年月"), jd.line, "JD"));
        }
    }
    // Units (点数・回数算定単位).
    let units = r.units();
    let payer_mask: u8 = u8::from(r.ho.is_some()) | r.ko.iter().enumerate().take(4).fold(0u8, |m, (i, _)| m | (2 << i));
    for u in &units {
        if !u.closed {
            out.push(err("U303", "点数・回数算定単位の最終行に点数がありません".into(), "unit (点数・回数算定単位) has no 点数 on its last line".into(), u.last_line, ""));
        }
        for &i in &u.items {
            let Some(v) = r.items.get(i).map(Item::view) else { continue };
            if v.count.and_then(Num::value).unwrap_or(0) != u.count {
                out.push(err("U302", "同一算定単位内で回数が異なります".into(), "回数 differs between lines of one unit".into(), v.line, v.id).field(7, "回数"));
            }
            if v.futan != u.futan {
                out.push(err("U304", "同一算定単位内で負担区分が異なります".into(), "負担区分 differs between lines of one unit".into(), v.line, v.id).field(3, "負担区分"));
            }
        }
        if let Some(m) = futan_payers(&u.futan) {
            if m & !payer_mask != 0 {
                out.push(
                    err("U305", format!("負担区分{}の保険・公費がレセプトにありません", u.futan), format!("負担区分 {} bills a payer the receipt does not have", u.futan), u.last_line, "")
                        .field(3, "負担区分"),
                );
            }
        }
    }
    // HO/KO 合計点数 = Σ 点数×回数 of the units billed to them (別表21; DOMAIN §5.4).
    let t = r.computed_points();
    if let Some(h) = &r.ho {
        if h.points.value() != Some(t[0]) {
            out.push(
                err("U306", format!("保険者レコードの合計点数{}が明細の合計{}と一致しません", h.points.as_str(), t[0]),
                    format!("HO 合計点数 {} ≠ Σ 点数×回数 of 医保 units {}", h.points.as_str(), t[0]), h.line, "HO")
                .field(6, "合計点数"),
            );
        }
    }
    for (i, k) in r.ko.iter().enumerate().take(4) {
        let want = t.get(i + 1).copied().unwrap_or(0);
        if k.points.value() != Some(want) {
            out.push(
                err("U307", format!("第{}公費の合計点数{}が明細の合計{}と一致しません", i + 1, k.points.as_str(), want),
                    format!("KO #{} 合計点数 {} ≠ Σ 点数×回数 of its units {}", i + 1, k.points.as_str(), want), k.line, "KO")
                .field(6, "合計点数"),
            );
        }
    }
    // 診療実日数 vs JD 受診等区分 1 days (別表30) — warning: JD is optional and 実日数 has its own rules.
    let actual = |kind: &str| r.jd.iter().find(|j| j.payer_kind == kind).map(|j| j.days.0.iter().filter(|n| n.as_str() == "1").count() as u64);
    if let (Some(h), Some(n)) = (&r.ho, actual("1")) {
        if h.days.value() != Some(n) {
            out.push(
                Diagnostic::warning("U310", format!("診療実日数{}が受診日等レコードの日数{}と一致しません", h.days.as_str(), n),
                    format!("診療実日数 {} ≠ days marked 1 in JD {}", h.days.as_str(), n)).at(h.line, "HO").field(5, "診療実日数"),
            );
        }
    }
    for (i, k) in r.ko.iter().enumerate().take(4) {
        // JD 負担者種別 2..5 = 第1..4公費 (別表28).
        if let Some(n) = actual(&(i + 2).to_string()) {
            if k.days.value() != Some(n) {
                out.push(
                    Diagnostic::warning("U310", format!("第{}公費の診療実日数{}が受診日等レコードの日数{}と一致しません", i + 1, k.days.as_str(), n),
                        format!("KO #{} 診療実日数 {} ≠ days marked 1 in JD {}", i + 1, k.days.as_str(), n)).at(k.line, "KO").field(5, "診療実日数"),
                );
            }
        }
    }
    // 診療開始日 must not be after the 診療年月.
    for sy in &r.sy {
        if let (Some(d), Some(ld)) = (parse_uke_date(&sy.start_date), last_day) {
            if d > ld {
                out.push(
                    Diagnostic::warning("U214", "診療開始日が診療年月より後です", "診療開始日 is after the 診療年月").at(sy.line, "SY").field(3, "診療開始日"),
                );
            }
        }
    }
    if let (Some(cat), Some(m)) = (catalog, month) {
        catalog_checks(r, &units, cat, m, out);
    }
}

fn catalog_checks(r: &Receipt, units: &[Unit], cat: &dyn CodeCatalog, m: YearMonth, out: &mut Vec<Diagnostic>) {
    let first = m.first_day();
    if !cat.covers(first) {
        out.push(warn(
            "U403",
            format!("マスターストアに{m}のデータがないため、コードの照合を省略しました"),
            format!("the master store has no data for {m}: code checks skipped"),
            r.re.line,
            "RE",
        ));
        return;
    }
    // The date a code must be valid on: the first day it is used, else the 1st of the month.
    let on = |days: Option<&Days>| -> Date {
        days.and_then(|d| d.used().next()).and_then(|d| chrono::NaiveDate::from_ymd_opt(m.year, m.month, d as u32)).unwrap_or(first)
    };
    let unknown = |kind: &str, code: &str, line: u64, rec: &str| {
        err("U401", format!("{kind}コード{code}は診療年月にマスターに存在しません"), format!("{kind} code {code} is not in the master for {m}"), line, rec)
    };
    for sy in &r.sy {
        // 0000999 = 未コード化傷病名 (name in field 6).
        if sy.code != "0000999" && cat.lookup(CodeKind::Disease, &sy.code, first).is_none() {
            out.push(unknown("傷病名", &sy.code, sy.line, "SY").field(2, "傷病名コード"));
        }
    }
    for it in &r.items {
        let v = it.view();
        let kind = match it {
            Item::Si(_) => CodeKind::Procedure,
            Item::Iy(_) => CodeKind::Drug,
            Item::To(_) => CodeKind::Material,
            Item::Co(_) => CodeKind::Comment,
        };
        if !v.code.is_empty() && cat.lookup(kind, v.code, on(v.days)).is_none() {
            out.push(unknown(v.id, v.code, v.line, v.id).field(4, "コード"));
        }
    }
    // Fixed-point items: a one-line SI unit without 数量データ must carry the master's points.
    for u in units {
        let [i] = u.items.as_slice() else { continue };
        let Some(Item::Si(si)) = r.items.get(*i) else { continue };
        if !si.quantity.is_empty() {
            continue;
        }
        if let (Some(e), Some(p)) = (cat.lookup(CodeKind::Procedure, &si.code, on(Some(&si.days))), u.points) {
            if let Some(fp) = e.fixed_points {
                if fp != p {
                    out.push(
                        err("U402", format!("{}({})の点数{}がマスターの{}点と異なります", e.name, si.code, p, fp),
                            format!("{} ({}) has {} points, the master says {}", e.name, si.code, p, fp), si.line, "SI")
                        .field(6, "点数"),
                    );
                }
            }
        }
    }
}

/// Check one file from a reader.
pub fn check_reader<R: BufRead>(r: R, path: &str, opts: &CheckOptions) -> FileReport {
    let mut rd = UkeReader::new(r);
    let mut st = FileState { expected_no: 1, sum_points: 0, sum_count: 0, claim_month: None };
    let mut extra: Vec<Diagnostic> = Vec::new();
    let mut extra_errors = 0u64;
    let mut receipts = 0u64;
    let mut ir_volume = String::new();
    let mut push = |d: Diagnostic, extra: &mut Vec<Diagnostic>| {
        if d.is_error() {
            extra_errors += 1;
        }
        if extra.len() < crate::read::MAX_DIAGNOSTICS {
            extra.push(d);
        }
    };
    while let Some(ev) = rd.next_event() {
        match ev {
            Event::Header(ir) => {
                st.claim_month = YearMonth::parse_uke(&ir.claim_month);
                ir_volume = ir.volume;
            }
            Event::Receipt(rc) => {
                receipts += 1;
                let mut ds = Vec::new();
                check_receipt(&rc, opts.catalog, &mut ds);
                // レセプト番号: 1, 2, 3 … in file order (第1章 3(4)イ).
                if rc.re.receipt_no.value() != Some(st.expected_no) {
                    ds.push(
                        Diagnostic::warning("U110", format!("レセプト番号{}が連番({})ではありません", rc.re.receipt_no.as_str(), st.expected_no),
                            format!("receipt number {} is not the next in sequence ({})", rc.re.receipt_no.as_str(), st.expected_no))
                        .at(rc.re.line, "RE").field(2, "レセプト番号"),
                    );
                }
                st.expected_no = rc.re.receipt_no.value().unwrap_or(st.expected_no) + 1;
                if let (Some(cm), Some(m)) = (st.claim_month, rc.month()) {
                    if m > cm {
                        ds.push(
                            Diagnostic::warning("U215", "診療年月が請求年月より後です", "診療年月 is after the 請求年月").at(rc.re.line, "RE").field(4, "診療年月"),
                        );
                    }
                }
                st.sum_points = st.sum_points.saturating_add(rc.main_points());
                st.sum_count += rc.claim_count();
                for d in ds {
                    push(d, &mut extra);
                }
            }
            Event::Trailer(go) => {
                // GO 総件数 / 総合計点数 (第1章 3(4)ク and its 注 table): checked for a single-volume
                // file (IR マルチボリューム "00", GO "99"); other volumes carry partial or no totals.
                if ir_volume == "00" && go.volume == "99" {
                    if go.total_points.value() != Some(st.sum_points) {
                        push(
                            err("U308", format!("総合計点数{}がレセプトの主保険点数の合計{}と一致しません", go.total_points.as_str(), st.sum_points),
                                format!("GO 総合計点数 {} ≠ Σ 主保険 points {}", go.total_points.as_str(), st.sum_points), go.line, "GO")
                            .field(3, "総合計点数"),
                            &mut extra,
                        );
                    }
                    if go.total_count.value() != Some(st.sum_count) {
                        push(
                            err("U309", format!("総件数{}がレセプト件数{}と一致しません", go.total_count.as_str(), st.sum_count),
                                format!("GO 総件数 {} ≠ claim count {} (1 per HO + 1 per KO)", go.total_count.as_str(), st.sum_count), go.line, "GO")
                            .field(2, "総件数"),
                            &mut extra,
                        );
                    }
                }
            }
        }
    }
    let mut all = rd.take_diagnostics();
    all.extend(extra);
    all.sort_by_key(|d| d.line.unwrap_or(u64::MAX));
    let (errors, warnings): (Vec<_>, Vec<_>) = all.into_iter().partition(Diagnostic::is_error);
    FileReport {
        path: path.to_string(),
        receipts,
        total_points: st.sum_points,
        errors,
        warnings,
        bytes: rd.bytes_read(),
        records: rd.records,
        error_count: rd.errors + extra_errors,
    }
}

/// Check one file in memory.
pub fn check_bytes(bytes: &[u8], path: &str, opts: &CheckOptions) -> FileReport {
    check_reader(bytes, path, opts)
}

/// Check one file on disk (streamed).
pub fn check_path(path: &Path, opts: &CheckOptions) -> FileReport {
    let shown = path.display().to_string();
    match std::fs::File::open(path) {
        Ok(f) => check_reader(std::io::BufReader::with_capacity(64 * 1024, f), &shown, opts),
        Err(e) => FileReport {
            path: shown,
            receipts: 0,
            total_points: 0,
            errors: vec![Diagnostic::error("U011", format!("ファイルを開けません: {e}"), format!("cannot open file: {e}"))],
            warnings: vec![],
            bytes: 0,
            records: 0,
            error_count: 1,
        },
    }
}
