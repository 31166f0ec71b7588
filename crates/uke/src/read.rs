//! Streaming reader: bytes → records (field checks against the layout table) → receipts.
//! Memory is bounded by one receipt (plus the diagnostics, which are capped).

use crate::diag::Diagnostic;
use crate::layout::{check_value, layout};
use crate::lex::{Lexed, Lexer, RawRecord};
use crate::model::*;
use santei_core::date::{parse_uke_date, YearMonth};
use std::io::BufRead;

/// Findings kept per file; beyond this one U014 note is added and the rest are counted only.
pub const MAX_DIAGNOSTICS: usize = 1000;

/// What the reader yields, in file order.
#[derive(Debug)]
pub enum Event {
    Header(Ir),
    Receipt(Box<Receipt>),
    Trailer(Go),
}

/// Date-like fields: (record, 項番, is year-month). 記録条件仕様 第1章 3(3)ウ(エ): 西暦
/// `YYYYMM` / `YYYYMMDD`; files made before 2020-04 use 和暦 `GYYMM` / `GYYMMDD`.
const DATE_FIELDS: &[(&str, usize, bool)] = &[
    ("IR", 8, true),
    ("RE", 4, true),
    ("RE", 7, false),
    ("RE", 9, false),
    ("SY", 3, false),
    ("TR", 4, true),
    ("TR", 7, false),
    ("TR", 9, false),
];

/// 数字 fields that are amounts/counts (not codes), by layout name.
fn is_quantity(name: &str) -> bool {
    matches!(name, "点数" | "回数" | "合計点数" | "診療実日数" | "総件数" | "総合計点数" | "医療保険" | "公費" | "使用量" | "数量データ" | "単価" | "合計金額")
        || name.ends_with("日の情報")
}

fn canonical_number(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let int_ok = int == "0" || !int.starts_with('0');
    let frac_ok = !v.contains('.') || (!frac.is_empty() && !frac.ends_with('0'));
    v.is_empty() || (int_ok && frac_ok)
}

/// Position of a record kind inside a receipt (第1章 3(3)ア(オ) 記録順).
fn rank(id: &str) -> Option<u8> {
    Some(match id {
        "RE" => 0,
        "HO" => 1,
        "KO" => 2,
        "SN" => 3,
        "JD" => 4,
        "MF" => 5,
        "GR" => 6,
        "SY" => 7,
        "SI" | "IY" | "TO" | "CO" => 8,
        "SJ" => 9,
        "TI" | "TR" | "TS" => 10,
        _ => return None,
    })
}

pub struct UkeReader<R> {
    lex: Lexer<R>,
    diags: Vec<Diagnostic>,
    pub errors: u64,
    pub warnings: u64,
    dropped: u64,
    seen_first: bool,
    seen_ir: bool,
    seen_go: bool,
    fatal: bool,
    wareki_noted: bool,
    cur: Option<Receipt>,
    cur_rank: u8,
    in_donor: bool,
    queue: std::collections::VecDeque<Event>,
    finished: bool,
    /// Records read (lines with a record).
    pub records: u64,
}

impl<R: BufRead> UkeReader<R> {
    pub fn new(r: R) -> Self {
        UkeReader {
            lex: Lexer::new(r),
            diags: Vec::new(),
            errors: 0,
            warnings: 0,
            dropped: 0,
            seen_first: false,
            seen_ir: false,
            seen_go: false,
            fatal: false,
            wareki_noted: false,
            cur: None,
            cur_rank: 0,
            in_donor: false,
            queue: Default::default(),
            finished: false,
            records: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.lex.end.bytes
    }

    /// `true` when reading stopped because the file is not a 医科 UKE file (e.g. dental).
    pub fn is_fatal(&self) -> bool {
        self.fatal
    }

    /// Take the findings collected so far.
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diags)
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        if d.is_error() {
            self.errors += 1;
        } else {
            self.warnings += 1;
        }
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        } else {
            self.dropped += 1;
        }
    }

    fn flush_receipt(&mut self) {
        if let Some(r) = self.cur.take() {
            self.queue.push_back(Event::Receipt(Box::new(r)));
        }
        self.in_donor = false;
    }

    fn check_fields(&mut self, rec: &RawRecord) {
        let id = rec.id().to_string();
        let Some(spec) = layout(&id) else { return };
        if rec.fields.len() != spec.len() {
            self.push(
                Diagnostic::error(
                    "U102",
                    format!("{id}レコードの項目数が{}です({}項目)", rec.fields.len(), spec.len()),
                    format!("{id} record has {} fields (expected {})", rec.fields.len(), spec.len()),
                )
                .at(rec.line, &id),
            );
        }
        for (i, (fs, val)) in spec.iter().zip(rec.fields.iter()).enumerate().skip(1) {
            let no = i + 1;
            if let Some(&(_, _, ym)) = DATE_FIELDS.iter().find(|(r, n, _)| *r == id && *n == no) {
                if val.is_empty() {
                    continue;
                }
                let ok = if ym { YearMonth::parse_uke(val).is_some() } else { parse_uke_date(val).is_some() };
                if !ok {
                    self.push(
                        Diagnostic::error("U208", format!("日付が不正です: {val}"), format!("invalid date: {val}"))
                            .at(rec.line, &id)
                            .field(no, fs.name),
                    );
                } else if val.len() == if ym { 5 } else { 7 } && !self.wareki_noted {
                    self.wareki_noted = true;
                    self.push(
                        Diagnostic::warning(
                            "U012",
                            "和暦(GYYMMDD)の旧形式の日付です(令和2年4月以降は西暦)",
                            "old 和暦 (GYYMMDD) date format (西暦 since 2020-04); reported once per file",
                        )
                        .at(rec.line, &id)
                        .field(no, fs.name),
                    );
                }
                continue;
            }
            // 数字 可変 quantities drop leading zeros and trailing decimal zeros
            // (第1章 3(3)ウ(ウ) 記録例: 001 → 1, 1.10 → 1.1); codes such as 主傷病 01 are exempt.
            if fs.mode == crate::layout::Mode::Numeric && !fs.fixed && is_quantity(fs.name) && !canonical_number(val) {
                self.push(
                    Diagnostic::warning("U216", format!("数字項目の記録が正規形ではありません: {val}"), format!("number not in canonical form (no leading zeros / trailing decimal zeros): {val}"))
                        .at(rec.line, &id)
                        .field(no, fs.name),
                );
            }
            for (code, ja, en) in check_value(fs, val) {
                let d = if code == "U213" { Diagnostic::warning(code, ja, en) } else { Diagnostic::error(code, ja, en) };
                self.push(d.at(rec.line, &id).field(no, fs.name));
            }
        }
        for d in crate::check::code_checks(rec) {
            self.push(d);
        }
    }

    fn handle(&mut self, rec: RawRecord) {
        self.records += 1;
        let id = rec.id().to_string();
        if !self.seen_first {
            self.seen_first = true;
            // 記録条件仕様 (歯科) files begin with UK; 医科 files with IR (第1章 3(3)ア(エ)).
            if id == "UK" || (id == "IR" && rec.fields.get(3).map(String::as_str) == Some("3")) {
                self.fatal = true;
                self.push(
                    Diagnostic::error(
                        "U001",
                        "歯科のレセプト電算ファイルです。医科用ファイルのみ扱えます",
                        "this is a dental (歯科) UKE file; only 医科 files are supported",
                    )
                    .at(rec.line, &id),
                );
                return;
            }
            if layout(&id).is_none() {
                self.fatal = true;
                self.push(
                    Diagnostic::error("U002", "レセプト電算(UKE)ファイルではありません", "not a UKE file (unknown first record)")
                        .at(rec.line, &id),
                );
                return;
            }
            if id != "IR" {
                self.push(
                    Diagnostic::error("U104", "先頭にIRレコードがありません", "the file does not start with an IR record").at(rec.line, &id),
                );
            }
        }
        if layout(&id).is_none() {
            self.push(
                Diagnostic::error("U101", format!("未定義のレコード識別情報です: {id}"), format!("unknown record identifier: {id}"))
                    .at(rec.line, &id),
            );
            return;
        }
        self.check_fields(&rec);
        if self.seen_go {
            self.push(Diagnostic::error("U008", "GOレコードの後にレコードがあります", "record after the GO record").at(rec.line, &id));
            return;
        }
        match id.as_str() {
            "IR" => {
                if self.seen_ir {
                    self.push(Diagnostic::error("U106", "IRレコードが複数あります", "more than one IR record").at(rec.line, &id));
                } else {
                    self.seen_ir = true;
                    self.queue.push_back(Event::Header(Ir::from_raw(&rec)));
                }
            }
            "GO" => {
                self.flush_receipt();
                self.seen_go = true;
                self.queue.push_back(Event::Trailer(Go::from_raw(&rec)));
            }
            "RE" => {
                self.flush_receipt();
                self.cur = Some(Receipt { re: Re::from_raw(&rec), ..Default::default() });
                self.cur_rank = 0;
            }
            _ => self.add_to_receipt(&id, rec),
        }
    }

    fn add_to_receipt(&mut self, id: &str, rec: RawRecord) {
        let Some(r) = rank(id) else { return };
        if self.cur.is_none() {
            self.push(
                Diagnostic::error("U105", "REレコードより前にレセプトのレコードがあります", "receipt record before any RE record")
                    .at(rec.line, id),
            );
            return;
        }
        if r == 10 {
            self.in_donor = true;
        }
        let donor = self.in_donor;
        if r < self.cur_rank && !donor {
            self.push(
                Diagnostic::error(
                    "U104",
                    format!("{id}レコードの記録順が誤っています"),
                    format!("{id} record out of order (記録順 RE, HO, KO, SN, JD, MF, GR, SY, SI/IY/TO/CO, SJ)"),
                )
                .at(rec.line, id),
            );
        } else {
            self.cur_rank = r;
        }
        let mut dup_ho = false;
        if let Some(c) = self.cur.as_mut() {
            if donor {
                c.organ_donor.push(rec);
                return;
            }
            match id {
                "HO" if c.ho.is_some() => dup_ho = true,
                "HO" => c.ho = Some(Ho::from_raw(&rec)),
                "KO" => c.ko.push(Ko::from_raw(&rec)),
                "SN" => c.sn.push(Sn::from_raw(&rec)),
                "JD" => c.jd.push(Jd::from_raw(&rec)),
                "MF" => c.mf.push(Mf::from_raw(&rec)),
                "GR" => c.gr.push(rec.clone()),
                "SY" => c.sy.push(Sy::from_raw(&rec)),
                "SI" => c.items.push(Item::Si(Si::from_raw(&rec))),
                "IY" => c.items.push(Item::Iy(Iy::from_raw(&rec))),
                "TO" => c.items.push(Item::To(To::from_raw(&rec))),
                "CO" => c.items.push(Item::Co(Co::from_raw(&rec))),
                "SJ" => c.sj.push(Sj::from_raw(&rec)),
                _ => {}
            }
        }
        if dup_ho {
            self.push(Diagnostic::error("U106", "HOレコードが複数あります", "more than one HO record in a receipt").at(rec.line, id));
        }
    }

    fn finish(&mut self) {
        self.finished = true;
        self.flush_receipt();
        if self.fatal {
            return;
        }
        if !self.seen_first {
            self.push(Diagnostic::error("U013", "ファイルが空です", "empty file"));
            return;
        }
        let last = self.lex.line_no;
        if let Some(l) = self.lex.lf_line.take() {
            self.push(Diagnostic::error("U006", "改行コードがCRLFではありません", "line ends with LF only (CRLF required)").at(l, ""));
        }
        if self.lex.truncated {
            self.push(Diagnostic::error("U009", "最終レコードに改行コードがありません(途中で切れています)", "last record has no CRLF (file truncated)").at(last, ""));
        }
        if !self.seen_go {
            self.push(Diagnostic::error("U010", "GOレコードがありません(途中で切れています)", "no GO record (file truncated)").at(last, ""));
        }
        if !self.lex.end.saw_eof_mark {
            self.push(Diagnostic::error("U007", "EOFコード(1A)がありません", "no EOF code (0x1A) at the end").at(last, ""));
        }
        if self.dropped > 0 {
            let n = self.dropped;
            let d = Diagnostic::warning("U014", format!("ほかに{n}件の指摘を省略しました"), format!("{n} more findings not listed"));
            self.diags.push(d);
        }
    }

    /// Next event, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            if self.finished {
                return None;
            }
            if self.fatal {
                self.finish();
                continue;
            }
            match self.lex.next() {
                None => self.finish(),
                Some(Lexed::Problem(d)) => self.push(d),
                Some(Lexed::Record(rec)) => self.handle(rec),
            }
        }
    }
}

impl<R: BufRead> Iterator for UkeReader<R> {
    type Item = Event;
    fn next(&mut self) -> Option<Event> {
        self.next_event()
    }
}

/// Read a whole file into the model. Returns the model and every finding of the reader
/// (layout, encoding, order); `Err` only when the file is not a 医科 UKE file at all.
#[allow(clippy::result_large_err)]
pub fn read_bytes(bytes: &[u8]) -> Result<(ClaimFile, Vec<Diagnostic>), Diagnostic> {
    read(std::io::BufReader::new(bytes))
}

/// As [`read_bytes`], from any reader.
#[allow(clippy::result_large_err)]
pub fn read<R: BufRead>(r: R) -> Result<(ClaimFile, Vec<Diagnostic>), Diagnostic> {
    let mut rd = UkeReader::new(r);
    let mut f = ClaimFile::default();
    while let Some(e) = rd.next_event() {
        match e {
            Event::Header(ir) => f.ir = ir,
            Event::Receipt(r) => f.receipts.push(*r),
            Event::Trailer(go) => f.go = go,
        }
    }
    let diags = rd.take_diagnostics();
    if rd.is_fatal() {
        let d = diags.into_iter().find(|d| d.is_error()).unwrap_or_else(|| Diagnostic::error("U002", "UKEファイルではありません", "not a UKE file"));
        return Err(d);
    }
    Ok((f, diags))
}
