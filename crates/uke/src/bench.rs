//! Throughput benchmark: build a synthetic file of about `lines` lines by repeating a receipt,
//! then read + check it from disk (streamed).

use crate::check::{check_path, CheckOptions};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// The receipt repeated by the benchmark (DOMAIN.md §5.5 example, 11 lines).
const RECEIPT: &[&str] = &[
    "RE,{n},1112,202505,山田　太郎,1,19800115,,,,,,,00001,,,,,,,,,,,,,,,,,,,,,,,ヤマダタロウ,",
    "HO,01130012,12345678,123,2,554,,,,,,,,,",
    "SN,1,01,,,,00,,",
    "JD,1,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,",
    "MF,00,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    "SY,4659007,20250508,1,,,01,",
    "SI,11,1,111000110,,291,1,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,,,,,,,,",
    "SI,12,1,112007410,,75,1,,,,,,,,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,",
    "SI,12,1,112011010,,52,1,,,,,,,,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,",
    "IY,21,1,620098801,3,3,10,,,,,,,,,,,,,,5,,,,,,,5,,,,,,,,,,,,,,,,",
    "SI,24,1,120000710,,11,2,,,,,,,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,",
    "SI,25,1,120001210,,42,2,,,,,,,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,",
];

/// Write the synthetic file; returns (receipts, bytes).
pub fn generate(path: &Path, lines: u64) -> std::io::Result<(u64, u64)> {
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(f);
    let enc = |s: &str| santei_core::sjis::encode(s).unwrap_or_default();
    let mut bytes = 0u64;
    let mut put = |w: &mut std::io::BufWriter<std::fs::File>, s: &str| -> std::io::Result<()> {
        let b = enc(s);
        bytes += b.len() as u64 + 2;
        w.write_all(&b)?;
        w.write_all(b"\r\n")
    };
    put(&mut w, "IR,1,13,1,1234567,,テスト内科クリニック,202506,00,03-1234-5678")?;
    let n = (lines.saturating_sub(2) / RECEIPT.len() as u64).max(1);
    for i in 1..=n {
        for l in RECEIPT {
            put(&mut w, &l.replace("{n}", &i.to_string()))?;
        }
    }
    put(&mut w, &format!("GO,{},{},99", n, n * 554))?;
    w.write_all(&[0x1A])?;
    w.flush()?;
    Ok((n, bytes + 1))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub lines: u64,
    pub receipts: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub receipts_per_s: f64,
    pub errors: u64,
}

/// Generate a file of about `lines` lines in `dir` and time `check_path` on it.
pub fn run(dir: &Path, lines: u64) -> std::io::Result<BenchReport> {
    let path = dir.join("bench_RECEIPTC.UKE");
    let (_, bytes) = generate(&path, lines)?;
    let t = Instant::now();
    let rep = check_path(&path, &CheckOptions::default());
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    let _ = std::fs::remove_file(&path);
    Ok(BenchReport {
        lines: rep.records,
        receipts: rep.receipts,
        bytes,
        seconds: secs,
        mb_per_s: bytes as f64 / 1e6 / secs,
        receipts_per_s: rep.receipts as f64 / secs,
        errors: rep.error_count,
    })
}
