//! Line splitting with bounded memory, EOF (0x1A) handling, strict Shift_JIS decoding and CSV
//! field splitting (記録条件仕様 第1章 3(3)ウ レコード形式 / エ 文字の符号).

use crate::diag::Diagnostic;
use std::io::BufRead;

/// Longest line kept in memory. The longest legal 医科 record (TO with 商品名 300 bytes and three
/// 100-byte comments, or SJ with 2400 bytes) is far below this; longer lines are reported and
/// skipped without being buffered.
pub const MAX_LINE: usize = 16 * 1024;

/// A record as read: line number and its fields (field 0 = record identifier), decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawRecord {
    pub line: u64,
    pub fields: Vec<String>,
}

impl RawRecord {
    pub fn id(&self) -> &str {
        self.fields.first().map(String::as_str).unwrap_or("")
    }
}

/// How the byte stream ended (for file-level checks).
#[derive(Debug, Default, Clone, Copy)]
pub struct EndState {
    pub saw_eof_mark: bool,
    pub bytes: u64,
}

pub(crate) struct Lexer<R> {
    r: R,
    buf: Vec<u8>,
    pub line_no: u64,
    pub end: EndState,
    finished: bool,
    warned_lf: bool,
    /// The last line had no line terminator.
    pub truncated: bool,
    /// First line ending in a bare LF (reported once).
    pub lf_line: Option<u64>,
}

pub(crate) enum Lexed {
    Record(RawRecord),
    Problem(Diagnostic),
}

impl<R: BufRead> Lexer<R> {
    pub fn new(r: R) -> Self {
        Lexer { r, buf: Vec::with_capacity(1024), line_no: 0, end: EndState::default(), finished: false, warned_lf: false, truncated: false, lf_line: None }
    }

    /// Read the next physical line into `self.buf` (without the terminator). Returns
    /// `Ok(None)` at end of input, `Ok(Some((too_long, ending)))` otherwise.
    fn read_line(&mut self) -> std::io::Result<Option<(bool, &'static str)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut got_any = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !got_any {
                    return Ok(None);
                }
                return Ok(Some((too_long, "")));
            }
            got_any = true;
            let (chunk, found) = match avail.iter().position(|&b| b == b'\n') {
                Some(p) => (&avail[..p + 1], true),
                None => (avail, false),
            };
            let n = chunk.len();
            if self.buf.len() + n <= MAX_LINE + 2 {
                self.buf.extend_from_slice(chunk);
            } else {
                too_long = true;
            }
            self.end.bytes += n as u64;
            self.r.consume(n);
            if found {
                let ending = if self.buf.ends_with(b"\r\n") {
                    self.buf.truncate(self.buf.len() - 2);
                    "\r\n"
                } else {
                    if self.buf.ends_with(b"\n") {
                        self.buf.truncate(self.buf.len() - 1);
                    }
                    "\n"
                };
                return Ok(Some((too_long, ending)));
            }
        }
    }

    pub fn next(&mut self) -> Option<Lexed> {
        if self.finished {
            return None;
        }
        let (too_long, ending) = match self.read_line() {
            Ok(Some(x)) => x,
            Ok(None) => {
                self.finished = true;
                return None;
            }
            Err(e) => {
                self.finished = true;
                return Some(Lexed::Problem(Diagnostic::error(
                    "U011",
                    format!("読み込みエラー: {e}"),
                    format!("read error: {e}"),
                )));
            }
        };
        self.line_no += 1;
        let line = self.line_no;
        // EOF code (第1章 3(3)ア(ク)): one 0x1A byte after the last CRLF.
        if let Some(p) = self.buf.iter().position(|&b| b == 0x1A) {
            if p == 0 && self.buf.len() == 1 && ending.is_empty() {
                self.end.saw_eof_mark = true;
                self.finished = true;
                // Anything after 0x1A would have been part of this line.
                return None;
            }
            self.finished = true;
            self.end.saw_eof_mark = true;
            if p + 1 == self.buf.len() && ending.is_empty() && !too_long {
                // `…,99<1A>`: the last record lost its CRLF; keep the record, report truncation.
                self.buf.truncate(p);
                self.truncated = true;
                return Some(self.decode_split(line));
            }
            return Some(Lexed::Problem(
                Diagnostic::error("U008", "EOFコード(1A)の位置が不正、またはEOFコードの後にデータがあります",
                    "EOF code (0x1A) misplaced or followed by data").at(line, ""),
            ));
        }
        if too_long {
            return Some(Lexed::Problem(
                Diagnostic::error("U005", format!("行が長すぎます({MAX_LINE}バイト超)"), format!("line longer than {MAX_LINE} bytes")).at(line, ""),
            ));
        }
        if ending.is_empty() {
            // Truncated: the last record has no CRLF (第1章 3(3)ウ(ア)).
            self.finished = true;
            let rec = self.decode_split(line);
            // Report truncation; still hand the record on so totals can be checked.
            self.truncated = true;
            return Some(rec);
        }
        if ending == "\n" && !self.warned_lf {
            self.warned_lf = true;
            self.lf_line = Some(line);
        }
        Some(self.decode_split(line))
    }

    fn decode_split(&mut self, line: u64) -> Lexed {
        // Strict CP932 with santei-core's UTF-8 detection, one line at a time (streaming).
        let text = match santei_core::sjis::decode(&self.buf, "") {
            Ok(t) => t,
            Err(e) if e.code == "E_ENCODING_UTF8" => {
                return Lexed::Problem(
                    Diagnostic::error("U004", "文字コードがUTF-8です。Shift_JISで記録してください", "line is UTF-8; UKE files are Shift_JIS").at(line, ""),
                )
            }
            Err(_) => {
                return Lexed::Problem(
                    Diagnostic::error("U003", "Shift_JISとして読めないバイト列があります", "invalid Shift_JIS byte sequence").at(line, ""),
                )
            }
        };
        if text.contains('"') {
            let id: String = text.chars().take(2).collect();
            return Lexed::Problem(
                Diagnostic::error("U103", "引用符(\")は使用できません", "quote characters (\") are not allowed").at(line, &id),
            );
        }
        Lexed::Record(RawRecord { line, fields: text.split(',').map(str::to_string).collect() })
    }
}
