//! Writer: typed model → UKE bytes (記録条件仕様 第1章 3(3): CSV, CRLF after every record, EOF
//! 0x1A after the last CRLF, Shift_JIS, no quotes).

#![allow(clippy::result_large_err)] // InputError is the workspace-wide error type (santei-core).

use crate::model::*;
use santei_core::InputError;
use std::io::Write;
use std::path::Path;

fn line(out: &mut Vec<u8>, fields: &[String], what: &str) -> Result<(), InputError> {
    for (i, f) in fields.iter().enumerate() {
        if f.contains([',', '"', '\r', '\n', '\u{1A}']) {
            return Err(InputError::new(
                "U501",
                "",
                format!("{what}の{}番目の項目に使用できない文字(, \" 改行)があります", i + 1),
                format!("{what} field {} contains a forbidden character (comma, quote, line break)", i + 1),
            )
            .field((i + 1).to_string()));
        }
    }
    let text = fields.join(",");
    let bytes = santei_core::sjis::encode(&text).map_err(|c| {
        InputError::new(
            "U502",
            "",
            format!("{what}にShift_JISで表せない文字「{c}」があります"),
            format!("{what} contains a character with no Shift_JIS form: {c:?}"),
        )
    })?;
    out.extend_from_slice(&bytes);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Serialize a claim file. Records are written in the spec order (RE, HO, KO, SN, JD, MF, GR, SY,
/// 摘要, SJ, 臓器提供者) with every field present; totals are written as they are in the model
/// (call [`ClaimFile::recompute_totals`] first for a model built in memory).
pub fn write_file(f: &ClaimFile) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::with_capacity(256 + f.receipts.len() * 1024);
    line(&mut out, &f.ir.to_fields(), "IR")?;
    for r in &f.receipts {
        let what = format!("RE {}", r.re.receipt_no.as_str());
        line(&mut out, &r.re.to_fields(), &what)?;
        if let Some(h) = &r.ho {
            line(&mut out, &h.to_fields(), &what)?;
        }
        for k in &r.ko {
            line(&mut out, &k.to_fields(), &what)?;
        }
        for s in &r.sn {
            line(&mut out, &s.to_fields(), &what)?;
        }
        for j in &r.jd {
            line(&mut out, &j.to_fields(), &what)?;
        }
        for m in &r.mf {
            line(&mut out, &m.to_fields(), &what)?;
        }
        for g in &r.gr {
            line(&mut out, &g.fields, &what)?;
        }
        for s in &r.sy {
            line(&mut out, &s.to_fields(), &what)?;
        }
        for it in &r.items {
            line(&mut out, &it.to_fields(), &what)?;
        }
        for s in &r.sj {
            line(&mut out, &s.to_fields(), &what)?;
        }
        for o in &r.organ_donor {
            line(&mut out, &o.fields, &what)?;
        }
    }
    line(&mut out, &f.go.to_fields(), "GO")?;
    out.push(0x1A);
    Ok(out)
}

/// Write bytes to `path` atomically: a temporary file in the same directory, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
