//! Raw merged rows → typed records ([`crate::model`]). Numeric fields are validated here; an
//! error names the file and line of the row the version came from and the 項番.

use crate::history::{valid_to, History, RawVersion};
use crate::layout::{self, Layout};
use crate::model::*;
use csv::StringRecord;
use rust_decimal::Decimal;
use santei_core::InputError;

pub struct Cx<'a> {
    pub files: &'a [String],
    pub row: &'a StringRecord,
    pub source: Source,
}

impl Cx<'_> {
    fn err(&self, col: usize, v: &str, what_ja: &str, what_en: &str) -> InputError {
        let file = self.files.get(self.source.file as usize).map(String::as_str).unwrap_or("?");
        InputError::new(
            "E_FIELD",
            file,
            format!("項番{}の値「{v}」が不正です({what_ja})", col + 1),
            format!("invalid value '{v}' in 項番{} ({what_en})", col + 1),
        )
        .at_line(self.source.line as u64)
        .field(format!("項番{}", col + 1))
    }
    pub fn s(&self, col: usize) -> String {
        self.row.get(col).unwrap_or("").to_string()
    }
    fn num<T: std::str::FromStr + Default>(&self, col: usize) -> Result<T, InputError> {
        let v = self.row.get(col).unwrap_or("").trim();
        if v.is_empty() {
            return Ok(T::default());
        }
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(col, v, "数字", "digits"));
        }
        v.parse().map_err(|_| self.err(col, v, "範囲外", "out of range"))
    }
    pub fn u8(&self, col: usize) -> Result<u8, InputError> {
        self.num(col)
    }
    pub fn u16(&self, col: usize) -> Result<u16, InputError> {
        self.num(col)
    }
    pub fn u32(&self, col: usize) -> Result<u32, InputError> {
        self.num(col)
    }
    pub fn u64(&self, col: usize) -> Result<u64, InputError> {
        self.num(col)
    }
    pub fn dec(&self, col: usize) -> Result<Decimal, InputError> {
        match santei_core::money::parse_decimal(self.row.get(col).unwrap_or("")) {
            None => Ok(Decimal::ZERO),
            Some(Ok(d)) => Ok(d),
            Some(Err(())) => Err(self.err(col, self.row.get(col).unwrap_or(""), "数値", "a decimal number")),
        }
    }
}

fn common(l: &Layout, v: &RawVersion, code: &str, to: santei_core::date::Date) -> Common {
    Common {
        code: code.to_string(),
        name: v.row.get(l.name).unwrap_or("").to_string(),
        kana: v.row.get(l.kana).unwrap_or("").to_string(),
        valid_from: v.from,
        valid_to: to,
        change: v.change,
        source: v.source,
    }
}

/// Compile every version of every code; output sorted by (code, valid_from).
pub fn compile<T>(
    kind: Kind,
    hist: &History,
    files: &[String],
    make: impl Fn(Common, &Cx) -> Result<T, InputError>,
) -> Result<Vec<T>, InputError> {
    let l = layout::of(kind);
    let mut codes: Vec<&String> = hist.codes.keys().collect();
    codes.sort();
    let mut out = Vec::with_capacity(hist.codes.len());
    for code in codes {
        let versions = &hist.codes[code];
        for (i, v) in versions.iter().enumerate() {
            let to = valid_to(l, versions, i);
            if to < v.from {
                continue; // abolished before it began (e.g. withdrawn before taking effect)
            }
            let cx = Cx { files, row: &v.row, source: v.source };
            out.push(make(common(l, v, code, to), &cx)?);
        }
    }
    Ok(out)
}

/// 医科診療行為マスター 項番 → [`Procedure`].
pub fn procedure(common: Common, c: &Cx) -> Result<Procedure, InputError> {
    let mut age_additions = Vec::new();
    for i in 0..4 {
        let base = 99 + i * 3;
        let code = c.s(base + 2);
        if !code.is_empty() && code.bytes().any(|b| b != b'0') {
            age_additions.push(AgeAddition { lower: c.s(base), upper: c.s(base + 1), code });
        }
    }
    Ok(Procedure {
        base_name: c.s(112),
        unit_code: c.u16(7)?,
        unit_name: c.s(9),
        point_kind: c.u8(10)?,
        points: c.dec(11)?,
        inout: c.u8(12)?,
        kouki: c.u8(13)?,
        aggregate_out: c.u16(14)?,
        aggregate_in: c.u16(65)?,
        bundled_test: c.u8(15)?,
        hospital_clinic: c.u8(18)?,
        disease_related: c.u8(24)?,
        real_days: c.u8(26)?,
        days_times: c.u8(27)?,
        drug_related: c.u8(28)?,
        step_kind: c.u8(29)?,
        step_lower: c.u64(30)?,
        step_upper: c.u64(31)?,
        step_value: c.u64(32)?,
        step_points: c.dec(33)?,
        step_error: c.u8(34)?,
        max_count: c.u16(35)?,
        max_count_error: c.u8(36)?,
        addition_code: c.s(37),
        addition_seq: c.s(38),
        general_age: c.u8(39)?,
        age_lower: c.s(40),
        age_upper: c.s(41),
        time_kind: c.u8(42)?,
        standard_kind: c.u8(43)?,
        standard_code: c.u16(44)?,
        infant_procedure: c.u8(45)?,
        judgement_kind: c.u8(49)?,
        judgement_group: c.u8(50)?,
        decrease_target: c.u8(51)?,
        outpatient_mgmt: c.u8(55)?,
        general_addition_base: c.u8(61)?,
        bundle_decrease: c.u16(62)?,
        notice_kind1: c.u8(67)?,
        notice_kind2: c.u8(68)?,
        bed_kind: c.u8(70)?,
        table_no: format!("{}-{}-{}-{}-{}-{}", c.s(84), c.s(89), c.s(90), c.s(91), c.s(92), c.s(93)),
        notice_no: format!("{}-{}-{}-{}-{}-{}", c.s(85), c.s(94), c.s(95), c.s(96), c.s(97), c.s(98)),
        section: c.s(116),
        age_additions,
        common,
    })
}

/// 医薬品マスター 項番 → [`Drug`].
pub fn drug(common: Common, c: &Cx) -> Result<Drug, InputError> {
    Ok(Drug {
        base_name: c.s(34),
        unit_code: c.u16(7)?,
        unit_name: c.s(9),
        price_kind: c.u8(10)?,
        price: c.dec(11)?,
        narcotic: c.u8(13)?,
        neurolytic: c.u8(14)?,
        biological: c.u8(15)?,
        generic: c.u8(16)?,
        contrast: c.u8(19)?,
        injection_volume: c.u32(20)?,
        listing_kind: c.u8(21)?,
        form: c.u8(27)?,
        yj_code: c.s(31),
        generic_code: c.s(36),
        generic_name: c.s(37),
        generic_rx_addition: c.s(38),
        selective: if c.row.len() > 41 { c.u8(41)? } else { 0 },
        common,
    })
}

/// 特定器材マスター 項番 → [`Material`].
pub fn material(common: Common, c: &Cx) -> Result<Material, InputError> {
    Ok(Material {
        base_name: c.s(36),
        unit_code: c.u16(7)?,
        unit_name: c.s(9),
        price_kind: c.u8(10)?,
        price: c.dec(11)?,
        age_addition: c.u8(13)?,
        age_lower: c.s(14),
        age_upper: c.s(15),
        oxygen_kind: c.u8(20)?,
        material_kind: c.u8(21)?,
        max_price: c.dec(22)?,
        max_points: c.dec(23)?,
        notice_table: c.s(30),
        notice_section: c.s(31),
        common,
    })
}

/// コメントマスター 項番 → [`Comment`].
pub fn comment(common: Common, c: &Cx) -> Result<Comment, InputError> {
    let mut edit = Vec::new();
    for i in 0..4 {
        let (pos, len) = (c.u16(9 + i * 2)?, c.u16(10 + i * 2)?);
        if pos != 0 || len != 0 {
            edit.push((pos, len));
        }
    }
    Ok(Comment { pattern: c.u8(3)?, edit, selective: c.u8(19)?, common })
}

/// 傷病名マスター 項番 → [`Disease`].
pub fn disease(common: Common, c: &Cx) -> Result<Disease, InputError> {
    Ok(Disease {
        successor: c.s(3),
        short_name: c.s(7),
        management_no: c.s(10),
        adoption: c.u8(11)?,
        exchange_code: c.s(12),
        icd10_1: c.s(15),
        icd10_2: c.s(16),
        standalone_forbidden: c.u8(18)?,
        non_insurance: c.u8(19)?,
        specific_disease: c.u8(20)?,
        nanbyo_outpatient: c.u8(42)?,
        common,
    })
}

/// 修飾語マスター 項番 → [`Modifier`].
pub fn modifier(common: Common, c: &Cx) -> Result<Modifier, InputError> {
    Ok(Modifier { management_no: c.s(16), exchange_code: c.s(17), modifier_kind: c.s(18), common })
}
