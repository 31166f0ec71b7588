//! UKE claims from patient-months (issue 5 items 4–5): points (santei-calc) + copay fields
//! (santei-copay) → `santei_uke::ClaimFile`, one per 審査支払機関.
//! "§" = 記録条件仕様（医科用）令和4年4月版; DOMAIN = `../shared/DOMAIN.md`.

use crate::copay::CopayOutcome;
use crate::input::{err, PatientMonthInput, Relation};
use crate::tables::Tables;
use crate::{Computed, EngineError};
use santei_copay::model::AgeClass;
use santei_core::date::YearMonth;
use santei_core::InputError;
use santei_master::Store;
use santei_uke::model::{Days, Go, Ho, Ir, Iy, Jd, Ko, Mf, Re, Si, Sn, Sy, To};
use santei_uke::{ClaimFile, Item, Num, Receipt};

/// 審査支払機関 (別表1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayerOffice {
    /// 社会保険診療報酬支払基金 (社保, and 公費単独).
    Shaho,
    /// 国民健康保険団体連合会 (国保, 退職, 後期).
    Kokuho,
}

impl PayerOffice {
    /// IR 審査支払機関 code (別表1: 1 社保, 2 国保).
    pub fn code(self) -> &'static str {
        match self {
            PayerOffice::Shaho => "1",
            PayerOffice::Kokuho => "2",
        }
    }
    /// Output sub-directory of `santei uke write`.
    pub fn dir_name(self) -> &'static str {
        match self {
            PayerOffice::Shaho => "shaho",
            PayerOffice::Kokuho => "kokuho",
        }
    }
}

/// The claim files of a month, before writing, with the non-fatal findings.
#[derive(Debug, Clone)]
pub struct Claims {
    pub files: Vec<(PayerOffice, ClaimFile)>,
    /// `source: message` lines (calc warnings, check digits, …).
    pub warnings: Vec<String>,
}

/// Which 審査支払機関 a receipt goes to, by 保険者番号 (DOMAIN §5.1, §7): 6 digits = 国保, 法別 of
/// 後期/退職 (data/claims.toml) → 国保連, other 8-digit numbers → 支払基金; 公費単独 → 支払基金.
pub fn office_of(t: &Tables, insurer: Option<&str>) -> PayerOffice {
    match insurer {
        Some(n) if n.len() == 6 => PayerOffice::Kokuho,
        Some(n) if n.len() == 8 && (t.kouki_houbetsu.iter().any(|h| n.starts_with(h.as_str())) || t.taishoku_houbetsu.iter().any(|h| n.starts_with(h.as_str()))) => PayerOffice::Kokuho,
        _ => PayerOffice::Shaho,
    }
}

/// 負担区分 (別表21) when every unit is billed to every payer: insurance (if any) + 公費 1..n.
fn futan_code(insurance: bool, n_kouhi: usize) -> Option<&'static str> {
    // 別表21: 1 医保単独; 2 医保+公1; 4 医保+公1+公2; V 医保+公1+公2+公3; 9 医保+公1〜公4;
    // 5 公1単独; 7 公1+公2; R 公1+公2+公3; Z 公1〜公4.
    match (insurance, n_kouhi) {
        (true, 0) => Some("1"),
        (true, 1) => Some("2"),
        (true, 2) => Some("4"),
        (true, 3) => Some("V"),
        (true, 4) => Some("9"),
        (false, 1) => Some("5"),
        (false, 2) => Some("7"),
        (false, 3) => Some("R"),
        (false, 4) => Some("Z"),
        _ => None,
    }
}

/// レセプト種別 (別表5), 入院外: 1 医科 + system (1 医保/国保, 2 公費単独, 3 後期, 4 退職) +
/// payer count (医保 with n 公費: n+1; 公費単独: n) + person (even = 外来: 2 本人, 4 未就学, 6 家族,
/// 8 高齢受給者・後期 一般/低所得, 0 7割給付; 公費単独 2).
fn receipt_kind(t: &Tables, input: &PatientMonthInput, c: &CopayOutcome) -> String {
    let n = input.kouhi.len();
    let Some(ins) = &input.insurance else {
        return format!("12{n}2");
    };
    let is = |list: &[String]| ins.insurer.len() == 8 && list.iter().any(|h| ins.insurer.starts_with(h.as_str()));
    let system = if is(&t.kouki_houbetsu) {
        '3'
    } else if is(&t.taishoku_houbetsu) {
        '4'
    } else {
        '1'
    };
    let person = match (system, c.patient.age_class) {
        (_, AgeClass::From70To74 | AgeClass::From75) | ('3', _) => {
            if c.genekinami {
                '0'
            } else {
                '8'
            }
        }
        _ if c.preschool => '4',
        _ => match ins.relation {
            Relation::SelfInsured => '2',
            Relation::Family => '6',
        },
    };
    format!("1{system}{}{person}", n + 1)
}

/// RE 氏名: 漢字 with one full-width space between family and given name; an all-ASCII name
/// is 英数 and keeps its ASCII space (§3(4)イ, DOMAIN §5.3 RE 5).
fn uke_name(name: &str) -> String {
    let t = name.trim();
    if t.is_ascii() {
        t.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        // 漢字 form: no half-width characters may be mixed in (e.g. "山田 Bob" → "山田　Ｂｏｂ").
        santei_core::text::zenkaku(&t.split([' ', '\u{3000}']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\u{3000}"))
    }
}

/// RE カタカナ氏名: 全角, without spaces (DOMAIN §5.3 RE 37).
fn uke_kana(kana: &str) -> String {
    santei_core::text::zenkaku(&kana.chars().filter(|c| *c != ' ' && *c != '\u{3000}').collect::<String>())
}

fn sex_code(s: &str) -> Option<&'static str> {
    // 別表6 男女区分: 1 男, 2 女.
    match s {
        "male" | "m" | "M" | "1" | "男" => Some("1"),
        "female" | "f" | "F" | "2" | "女" => Some("2"),
        _ => None,
    }
}

fn num(v: i64, file: &str, field: &str) -> Result<Num, InputError> {
    u64::try_from(v).map(Num::new).map_err(|_| err("E070", file, field, format!("負の値 {v} は記録できません"), format!("negative value {v} cannot be recorded")))
}

fn quantity(q: Option<rust_decimal::Decimal>) -> Num {
    // 数字 variable fields drop leading zeros and trailing decimal zeros (§3(3)ウ(ウ)).
    q.map(|d| Num(d.normalize().to_string())).unwrap_or_default()
}

/// Largest 回数 a record can carry: the 回数 field's maximum bytes in the spec layout (§3(4)オ;
/// SI/IY/TO 回数 = 3 bytes → 999).
fn max_count(record: &str) -> u64 {
    santei_uke::layout::layout(record)
        .and_then(|fs| fs.iter().find(|f| f.name == "回数"))
        .map(|f| 10u64.saturating_pow(f.max_bytes as u32) - 1)
        .unwrap_or(u64::MAX)
}

/// The 摘要 lines of one calc unit: 診療識別 on the first line, 点数 on the last, 回数 and the
/// day counts on every line (§3(4)オ). A unit whose month 回数 exceeds what the 回数 field holds is
/// written as several units over consecutive days (same lines, 回数 = Σ of their days).
fn unit_items(u: &santei_calc::Unit, futan: &str, file: &str, idx: usize, out: &mut Vec<Item>) -> Result<(), InputError> {
    let f = format!("units[{idx}]");
    let record = u.lines.first().map(|l| l.kind.record()).unwrap_or("SI");
    let cap = max_count(record);
    let mut chunks: Vec<Vec<(u32, u64)>> = vec![Vec::new()];
    let mut in_chunk = 0u64;
    for (d, c) in &u.days {
        let c = u64::try_from(*c).map_err(|_| err("E070", file, &f, "負の回数は記録できません", "a negative count cannot be recorded"))?;
        if c > cap {
            return Err(err("E072", file, &f, format!("{d}日の回数 {c} は {cap} を超えます"), format!("count {c} on day {d} exceeds {cap}")));
        }
        if in_chunk + c > cap {
            chunks.push(Vec::new());
            in_chunk = 0;
        }
        in_chunk += c;
        if let Some(last) = chunks.last_mut() {
            last.push((*d, c));
        }
    }
    let points = num(u.points, file, &f)?;
    let last = u.lines.len().saturating_sub(1);
    for counts in chunks.iter().filter(|c| !c.is_empty()) {
        let count = Num::new(counts.iter().map(|(_, c)| c).sum());
        let days = Days::from_counts(counts);
        for (i, l) in u.lines.iter().enumerate() {
            let shikibetsu = if i == 0 { u.shinryo_shikibetsu.clone() } else { String::new() };
            let points = if i == last { points.clone() } else { Num::empty() };
            let item = match l.kind {
                santei_calc::LineKind::Procedure => Item::Si(Si {
                    shikibetsu,
                    futan: futan.to_string(),
                    code: l.code.clone(),
                    quantity: quantity(l.quantity),
                    points,
                    count: count.clone(),
                    days: days.clone(),
                    ..Default::default()
                }),
                santei_calc::LineKind::Drug => Item::Iy(Iy {
                    shikibetsu,
                    futan: futan.to_string(),
                    code: l.code.clone(),
                    quantity: quantity(l.quantity),
                    points,
                    count: count.clone(),
                    days: days.clone(),
                    ..Default::default()
                }),
                santei_calc::LineKind::Material => Item::To(To {
                    shikibetsu,
                    futan: futan.to_string(),
                    code: l.code.clone(),
                    quantity: quantity(l.quantity),
                    points,
                    count: count.clone(),
                    days: days.clone(),
                    ..Default::default()
                }),
            };
            out.push(item);
        }
    }
    Ok(())
}

/// Build the receipt of one computed patient-month. `no` is its レセプト番号 in the file.
fn receipt(t: &Tables, input: &PatientMonthInput, comp: &Computed, no: u64) -> Result<Receipt, Vec<InputError>> {
    let file = input.source.as_str();
    let mut errors = Vec::new();
    let Some(c) = &comp.copay else {
        return Err(vec![err("E060", file, "insurance", "保険も公費もないためレセプトを作れません", "neither insurance nor kouhi: no claim can be made")]);
    };
    let p = &input.calc.patient;
    let sex = sex_code(&p.sex).unwrap_or_else(|| {
        errors.push(err("E061", file, "patient.sex", format!("性別「{}」は male / female です（別表6）", p.sex), format!("sex {:?} must be male or female (別表6)", p.sex)));
        ""
    });
    if p.name.trim().is_empty() {
        errors.push(err("E062", file, "patient.name", "氏名がありません", "patient.name is missing"));
    }
    let n_kouhi = input.kouhi.len();
    let futan = futan_code(input.insurance.is_some(), n_kouhi).unwrap_or("1");
    let out = &comp.outcome;

    // 特記事項: the 所得区分 applied at the window (別表9, data/claims.toml; DOMAIN §3.3 "Record the 区分").
    let mut tokki = String::new();
    if let Some(class) = c.patient.income_class {
        match t.tokki(input.month.first_day(), c.patient.age_class.code(), class.name()) {
            Some(code) => tokki.push_str(code),
            None => errors.push(err("E063", file, "insurance.income_class", format!("所得区分 {} の特記事項が {} にありません", class.name(), input.month), format!("no 特記事項 for income class {} in {}", class.name(), input.month))),
        }
    }
    let kokuho_like = input.insurance.as_ref().is_some_and(|i| i.insurer.len() == 6 || t.taishoku_houbetsu.iter().any(|h| i.insurer.len() == 8 && i.insurer.starts_with(h.as_str())));
    let re = Re {
        receipt_no: Num::new(no),
        kind: receipt_kind(t, input, c),
        month: input.month.to_uke(),
        name: uke_name(&p.name),
        sex: sex.to_string(),
        birth_date: input.birth_date.format("%Y%m%d").to_string(),
        // 給付割合: 国保・退職 only (§3(4)イ RE 8; DOMAIN §5.3): 100 − 負担割合.
        benefit_ratio: if kokuho_like { Num::new(100 - u64::from(c.patient.copay_rate_percent.min(100))) } else { Num::empty() },
        tokki,
        karte_no: p.id.clone(),
        kana_name: uke_kana(&p.kana),
        ..Default::default()
    };

    // 診療実日数 (§3(4)ウ(エ), DOMAIN §5.4): days with 初診/再診 (診療識別 11/12) billed;
    // other visit days are 受診等区分 2 (別表30) in the JD.
    let mut kind_of_day = [0u8; 32];
    for v in &input.calc.visits {
        if let Some(d) = santei_core::date::parse_iso(&v.date) {
            let i = chrono::Datelike::day(&d) as usize;
            kind_of_day[i] = kind_of_day[i].max(2);
        }
    }
    for u in out.units.iter().filter(|u| u.shinryo_shikibetsu == "11" || u.shinryo_shikibetsu == "12") {
        for d in u.days.keys() {
            if let Some(k) = kind_of_day.get_mut(*d as usize) {
                *k = 1;
            }
        }
    }
    let jitsu = kind_of_day.iter().filter(|k| **k == 1).count() as u64;
    let jd_days = Days((1..=31).map(|d| if kind_of_day[d] == 0 { Num::empty() } else { Num::new(kind_of_day[d] as u64) }).collect());

    let mut ho = None;
    let mut sn = Vec::new();
    let mut jd = Vec::new();
    if let Some(ins) = &input.insurance {
        ho = Some(Ho {
            // 保険者番号: 8 bytes, 6-digit 国保 numbers right-aligned with spaces (DOMAIN §5.3 HO 2).
            insurer_no: format!("{:>8}", ins.insurer),
            symbol: ins.symbol.clone(),
            number: ins.number.clone(),
            days: Num::new(jitsu),
            // 負担金額 医療保険: only when the 高額療養費 limit applied at the window (DOMAIN §5.4 ✔ [S15]).
            copay: if c.ceiling_applied { Num::opt(c.insurance_patient_yen.and_then(|y| u64::try_from(y).ok())) } else { Num::empty() },
            ..Default::default()
        });
        if input.month.first_day() >= t.sn_from {
            // SN: 負担者種別 1 (医療保険), 確認区分 01; 枝番 not used for 後期 (DOMAIN §5.3 SN, §7).
            let kouki = t.kouki_houbetsu.iter().any(|h| ins.insurer.len() == 8 && ins.insurer.starts_with(h.as_str()));
            sn.push(Sn { payer_kind: "1".into(), confirmation: "01".into(), branch: if kouki { String::new() } else { ins.branch.clone() }, ..Default::default() });
        }
        jd.push(Jd { payer_kind: "1".into(), days: jd_days.clone(), ..Default::default() });
    }
    let mut ko = Vec::new();
    for (i, k) in input.kouhi.iter().enumerate() {
        let burden = c.kouhi_patient_yen.get(i).copied().unwrap_or(0);
        ko.push(Ko {
            payer_no: k.futansha.clone(),
            // 受給者番号: 7 digits, zero-padded (DOMAIN §4.1).
            recipient_no: if k.jukyusha.is_empty() { String::new() } else { format!("{:0>7}", k.jukyusha) },
            days: Num::new(jitsu),
            // 負担金額 公費: the patient's burden under the program; empty when it is free (DOMAIN §5.4).
            copay: if burden > 0 { num(burden, file, &format!("kouhi[{i}]")).unwrap_or_default() } else { Num::empty() },
            ..Default::default()
        });
        // JD 負担者種別 2..5 = 第1..第4公費 (別表28).
        jd.push(Jd { payer_kind: (i + 2).to_string(), days: jd_days.clone(), ..Default::default() });
    }
    // MF 窓口負担額区分: 00 no 高額 at the window, 01 applied, 02 applied (多数回) (§3(4) MF).
    let mf_class = match (c.ceiling_applied, c.patient.multiple_high_cost) {
        (false, _) => "00",
        (true, false) => "01",
        (true, true) => "02",
    };
    let mf = vec![Mf { window_class: mf_class.into(), reserved: Days(vec![Num::empty(); 31]), ..Default::default() }];

    let sy: Vec<Sy> = input
        .diagnoses
        .iter()
        .map(|d| Sy {
            code: d.code.clone(),
            start_date: d.start_date.format("%Y%m%d").to_string(),
            outcome: d.outcome.clone(),
            modifiers: d.modifiers.concat(),
            // 傷病名称 and 補足コメント are 漢字 fields.
            name: santei_core::text::zenkaku(&d.name),
            // 主傷病: 01 (§3(4) SY 7).
            main: if d.main { "01".into() } else { String::new() },
            comment: santei_core::text::zenkaku(&d.comment),
            ..Default::default()
        })
        .collect();
    if sy.is_empty() {
        errors.push(err("E064", file, "diagnoses", "傷病名がありません（SY は必須）", "no diagnoses (SY is required)"));
    }
    let mut items = Vec::new();
    for (i, u) in out.units.iter().enumerate() {
        if let Err(e) = unit_items(u, futan, file, i, &mut items) {
            errors.push(e);
        }
    }
    if items.is_empty() {
        errors.push(err("E065", file, "visits", "算定された項目がありません（SI/IY/TO が必要）", "nothing was billed (a receipt needs SI/IY/TO lines)"));
    }
    // CO lines are not produced: calc units carry no comments yet (README "Not supported").
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Receipt { re, ho, ko, sn, jd, mf, sy, items, ..Default::default() })
}

/// Typed claim files for `month` (one per 審査支払機関, 社保 first), HO/KO/GO totals set.
pub fn claim_files(store: &Store, inputs: &[PatientMonthInput], month: YearMonth) -> Result<Claims, EngineError> {
    let t = Tables::embedded()?;
    let engine = santei_calc::Engine::new(store);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut files: Vec<(PayerOffice, ClaimFile)> = Vec::new();
    for input in inputs {
        let file = input.source.as_str();
        if input.month != month {
            errors.push(err("E066", file, "month", format!("診療年月 {} が請求対象の {} と異なります", input.month, month), format!("month {} differs from the claimed month {}", input.month, month)));
            continue;
        }
        let comp = match crate::compute_with(&engine, input) {
            Ok(c) => c,
            Err(e) => {
                errors.extend(e.errors);
                continue;
            }
        };
        warnings.extend(comp.warnings.iter().map(|w| format!("{file}: {w}")));
        warnings.extend(comp.outcome.warnings.iter().map(|w| format!("{file}: {} — {} ({})", w.message_ja, w.message_en, w.code)));
        let office = office_of(t, input.insurance.as_ref().map(|i| i.insurer.as_str()));
        let inst = &input.calc.institution;
        let pos = match files.iter().position(|(o, _)| *o == office) {
            Some(p) => p,
            None => {
                let mut ie = Vec::new();
                if inst.code.len() != 7 || !inst.code.bytes().all(|b| b.is_ascii_digit()) {
                    ie.push(err("E067", file, "institution.code", format!("医療機関コード「{}」は7桁の数字です", inst.code), format!("institution.code {:?} must be 7 digits", inst.code)));
                }
                if inst.prefecture.len() != 2 || !inst.prefecture.bytes().all(|b| b.is_ascii_digit()) {
                    ie.push(err("E068", file, "institution.prefecture", format!("都道府県「{}」は2桁の数字です", inst.prefecture), format!("institution.prefecture {:?} must be 2 digits", inst.prefecture)));
                }
                if !ie.is_empty() {
                    errors.extend(ie);
                    continue;
                }
                let ir = Ir {
                    payer_org: office.code().into(),
                    prefecture: inst.prefecture.clone(),
                    table: "1".into(), // 点数表 1 = 医科 (別表3)
                    institution_code: inst.code.clone(),
                    // IR 医療機関名称 is a 漢字 field: half-width letters become full-width.
                    name: santei_core::text::zenkaku(&inst.name),
                    // 請求年月 = the month after the 診療年月 (DOMAIN §5.3 IR 8).
                    claim_month: month.next().to_uke(),
                    volume: "00".into(), // single volume (§3(4)ア(イ))
                    phone: input.extras.phone.clone(),
                    ..Default::default()
                };
                files.push((office, ClaimFile { ir, receipts: Vec::new(), go: Go { volume: "99".into(), ..Default::default() } }));
                files.len() - 1
            }
        };
        let cf = &mut files[pos].1;
        if cf.ir.institution_code != inst.code {
            errors.push(err("E069", file, "institution.code", format!("医療機関コード {} が他の入力 ({}) と異なります", inst.code, cf.ir.institution_code), format!("institution.code {} differs from the other inputs ({})", inst.code, cf.ir.institution_code)));
            continue;
        }
        match receipt(t, input, &comp, cf.receipts.len() as u64 + 1) {
            Ok(r) => cf.receipts.push(r),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(EngineError { errors });
    }
    if files.is_empty() {
        return Err(InputError::new("E071", "input", "入力がありません", "no inputs").into());
    }
    files.sort_by_key(|(o, _)| *o);
    for (_, f) in &mut files {
        // HO/KO 合計点数 = Σ 点数×回数 by 負担区分; GO 総件数 = HO + KO count, 総合計点数 = Σ 主保険 (DOMAIN §5.4, §3(4)ク 注).
        f.recompute_totals();
    }
    Ok(Claims { files, warnings })
}

/// UKE bytes (Shift_JIS, CRLF, EOF 0x1A) per 審査支払機関.
pub fn claims(store: &Store, inputs: &[PatientMonthInput], month: YearMonth) -> Result<Vec<(PayerOffice, Vec<u8>)>, EngineError> {
    let c = claim_files(store, inputs, month)?;
    let mut out = Vec::with_capacity(c.files.len());
    for (o, f) in &c.files {
        out.push((*o, santei_uke::write_file(f)?));
    }
    Ok(out)
}
