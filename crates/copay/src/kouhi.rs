//! 公費 as data: the national program registry (`params/kouhi_national.toml`, derived from the
//! MHLW 国公費マスタ) and an importer for the prefectural 地方単独公費 tables.

use santei_core::InputError;
use std::path::Path;

const FILE: &str = "params/kouhi_national.toml";

/// How a 公費 receipt's insurance part meets 高額療養費 (国公費マスタ 項目18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kogaku {
    /// 18-1 公費優先 (the 公費 pays before insurance for these services).
    KouhiFirst,
    /// 18-2 保険優先 特定給付対象療養: the limit uses a fixed class (see `tokutei_kyufu.class_map`).
    TokuteiKyufu,
    /// 18-3 保険優先 特定疾病給付対象療養 (難病 54, 小慢 52): the patient's own class.
    TokuteiShippei,
    /// 18-4 通常の高額療養費.
    Normal,
}

impl Kogaku {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kouhi_first" => Some(Kogaku::KouhiFirst),
            "tokutei_kyufu" => Some(Kogaku::TokuteiKyufu),
            "tokutei_shippei" => Some(Kogaku::TokuteiShippei),
            "normal" => Some(Kogaku::Normal),
            _ => None,
        }
    }
}

/// One national program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub houbetsu: u8,
    pub name: String,
    pub law: String,
    /// 公費適用順位 (lower applies first).
    pub priority: u32,
    pub kouhi_first: bool,
    /// Patient share (%) when the insurance copay is 3割 / 2割 / 1割 (`None`: does not occur).
    pub patient_percent: [Option<u32>; 3],
    pub income_cap: bool,
    /// 上限額管理票: the cap is shared across institutions.
    pub shared_cap: bool,
    pub kogaku: Kogaku,
    pub start: String,
    pub source_record: u32,
}

/// The national programs, indexed by 法別番号.
#[derive(Clone, Debug)]
pub struct KouhiRegistry {
    pub programs: Vec<Program>,
    index: [Option<u8>; 100],
}

fn kerr(field: &str, ja: String, en: String) -> InputError {
    InputError::new("P010", FILE, ja, en).field(field.to_string())
}

impl KouhiRegistry {
    pub fn from_toml(text: &str) -> Result<Self, InputError> {
        let t: toml::Table = text.parse().map_err(|e| InputError::new("P000", FILE, format!("TOML が読めません: {e}"), format!("cannot parse TOML: {e}")))?;
        let arr = t.get("program").and_then(|p| p.as_array()).ok_or_else(|| kerr("program", "program がありません".into(), "missing [[program]]".into()))?;
        let mut programs = Vec::new();
        for (i, p) in arr.iter().enumerate() {
            let f = format!("program[{i}]");
            let s = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string).ok_or_else(|| kerr(&format!("{f}.{k}"), "文字列が必要です".into(), "string required".into()));
            let n = |k: &str| p.get(k).and_then(|v| v.as_integer()).ok_or_else(|| kerr(&format!("{f}.{k}"), "整数が必要です".into(), "integer required".into()));
            let b = |k: &str| p.get(k).and_then(|v| v.as_bool()).ok_or_else(|| kerr(&format!("{f}.{k}"), "真偽値が必要です".into(), "boolean required".into()));
            let hb = s("houbetsu")?;
            let houbetsu = parse_houbetsu(&hb).ok_or_else(|| kerr(&format!("{f}.houbetsu"), "法別番号は2桁の数字です".into(), "houbetsu must be 2 digits".into()))?;
            let mut pp = [None; 3];
            if let Some(tab) = p.get("patient_percent").and_then(|v| v.as_table()) {
                for (j, key) in ["30", "20", "10"].iter().enumerate() {
                    pp[j] = tab.get(*key).and_then(|v| v.as_integer()).map(|x| x as u32);
                }
            }
            let kog = s("kogaku")?;
            programs.push(Program {
                houbetsu,
                name: s("name")?,
                law: s("law")?,
                priority: n("priority")? as u32,
                kouhi_first: b("kouhi_first")?,
                patient_percent: pp,
                income_cap: b("income_cap")?,
                shared_cap: b("shared_cap")?,
                kogaku: Kogaku::parse(&kog).ok_or_else(|| kerr(&format!("{f}.kogaku"), format!("未知の高額療養費区分「{kog}」"), format!("unknown kogaku kind {kog:?}")))?,
                start: s("start")?,
                source_record: n("source_record")? as u32,
            });
        }
        let mut index = [None; 100];
        for (i, p) in programs.iter().enumerate() {
            if index[p.houbetsu as usize].is_some() {
                return Err(kerr("program", format!("法別番号 {:02} が重複しています", p.houbetsu), format!("duplicate houbetsu {:02}", p.houbetsu)));
            }
            index[p.houbetsu as usize] = Some(i as u8);
        }
        Ok(KouhiRegistry { programs, index })
    }

    pub fn get(&self, houbetsu: u8) -> Option<&Program> {
        self.index.get(houbetsu as usize).copied().flatten().map(|i| &self.programs[i as usize])
    }
}

/// `"54"` → 54. Exactly two ASCII digits.
pub fn parse_houbetsu(s: &str) -> Option<u8> {
    let b = s.as_bytes();
    if b.len() == 2 && b.iter().all(u8::is_ascii_digit) {
        Some((b[0] - b'0') * 10 + (b[1] - b'0'))
    } else {
        None
    }
}

// ───────────────────────── 国公費マスタ CSV (for checking the TOML against the source) ─────────────────

/// One record of `R06_kokkouhi_240401.csv`, reduced to what [`Program`] holds.
/// Only the first record per 法別番号 is returned (the TOML keeps that one).
pub fn import_national_csv(path: &Path) -> Result<Vec<Program>, InputError> {
    let file = path.display().to_string();
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path).map_err(|e| InputError::new("K001", &file, format!("読めません: {e}"), format!("cannot read: {e}")))?;
    let mut out: Vec<Program> = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| InputError::new("K002", &file, format!("CSV が不正です: {e}"), format!("bad CSV: {e}")).at_line(i as u64 + 1))?;
        let g = |j: usize| rec.get(j).unwrap_or("").trim();
        let Some(houbetsu) = parse_houbetsu(g(1)) else { continue };
        if out.iter().any(|p| p.houbetsu == houbetsu) {
            continue;
        }
        let flag = |j: usize| g(j).starts_with('1') || g(j).starts_with('１');
        let kogaku = if flag(52) {
            Kogaku::KouhiFirst
        } else if flag(53) {
            Kogaku::TokuteiKyufu
        } else if flag(54) {
            Kogaku::TokuteiShippei
        } else {
            Kogaku::Normal
        };
        out.push(Program {
            houbetsu,
            name: g(9).to_string(),
            law: g(8).lines().next().unwrap_or("").trim().to_string(),
            priority: g(0).parse().map_err(|_| InputError::new("K003", &file, "公費適用順位が数値ではありません", "priority is not a number").at_line(i as u64 + 1))?,
            kouhi_first: g(21) == "1",
            patient_percent: [g(25).parse().ok(), g(28).parse().ok(), g(31).parse().ok()],
            income_cap: g(37) == "1",
            shared_cap: g(43) == "1",
            kogaku,
            start: g(5).chars().take(10).collect(),
            source_record: i as u32 + 1,
        });
    }
    Ok(out)
}

// ───────────────────────── 地方単独公費 (prefectural tables) ─────────────────────────

/// Burden terms for one care setting of a local program, as the table gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalBurden {
    /// 負担区分 (the table's code; meaning not defined in the item spec we have).
    pub kubun: String,
    pub rate_percent: i64,
    pub fixed_per_visit: i64,
    pub cap_per_visit: i64,
    pub cap_per_day: i64,
    pub day_count: i64,
    pub monthly_cap: i64,
    /// 外来: 1月院外上限額 (outside the institution), when different from the in-house cap.
    pub monthly_cap_outside: i64,
    pub month_count: i64,
    pub drug: i64,
}

/// What santei can do with a local program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalModel {
    /// Expressible as a [`crate::KouhiPayer`]: a rate (None = everything left) and a monthly cap (None = none).
    Payer { rate_percent: Option<u32>, monthly_cap_yen: Option<i64> },
    /// Not expressible; the reasons name the program kinds the engine does not model.
    Unsupported(Vec<&'static str>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalProgram {
    pub prefecture: String,
    pub column: usize,
    pub insurance_number: String,
    pub houbetsu: String,
    pub name: String,
    pub age_from: Option<u32>,
    pub age_to: Option<u32>,
    /// 点数単価 (yen per point) as the table gives it.
    pub yen_per_point: i64,
    pub outpatient: LocalBurden,
    pub inpatient: LocalBurden,
    pub outpatient_model: LocalModel,
    pub inpatient_model: LocalModel,
}

/// Result of importing the 47 tables.
#[derive(Clone, Debug, Default)]
pub struct ChitanImport {
    pub files: usize,
    pub programs: Vec<LocalProgram>,
    /// Columns that could not be read (misaligned or malformed values): (file, column, reason).
    pub rejected: Vec<(String, usize, String)>,
}

impl ChitanImport {
    /// Count of programs per unsupported kind (for the report).
    pub fn unsupported_kinds(&self) -> Vec<(&'static str, usize)> {
        let mut v: Vec<(&'static str, usize)> = Vec::new();
        for p in &self.programs {
            for m in [&p.outpatient_model, &p.inpatient_model] {
                if let LocalModel::Unsupported(rs) = m {
                    for r in rs {
                        match v.iter_mut().find(|(k, _)| k == r) {
                            Some(e) => e.1 += 1,
                            None => v.push((r, 1)),
                        }
                    }
                }
            }
        }
        v.sort();
        v
    }
}

/// Import every `NN_都道府県.csv` in a directory (UTF-8, transposed: one program per column).
pub fn import_chitan_dir(dir: &Path) -> Result<ChitanImport, InputError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| InputError::new("K010", dir.display().to_string(), format!("ディレクトリが読めません: {e}"), format!("cannot read directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    paths.sort();
    let mut out = ChitanImport::default();
    for p in paths {
        import_chitan_file(&p, &mut out)?;
        out.files += 1;
    }
    Ok(out)
}

const ROWS: [&str; 35] = [
    "保険番号", "法別番号", "短縮制度名", "保険公費種別区分", "法別番号チェック区分", "検証番号チェック区分", "受給者検証番号チェック区分",
    "公費主保区分", "年齢（開始－終了）", "点数単価", "レセプト負担金額", "レセプト請求（印刷）", "レセプト記載", "※所得情報", "外来負担区分",
    "1回負担割合", "1回固定額", "1回上限額", "1日上限額", "1日上限回数", "1月院内上限額", "1月院外上限額", "1月上限回数", "薬剤負担",
    "入院負担区分", "1回負担割合", "1回固定額", "1回上限額", "1日上限額", "1日上限回数", "1月上限額", "1月上限回数", "1日食事助成額",
    "食事療養費", "限定保険番号",
];

pub fn import_chitan_file(path: &Path, out: &mut ChitanImport) -> Result<(), InputError> {
    let file = path.display().to_string();
    let pref = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path).map_err(|e| InputError::new("K011", &file, format!("読めません: {e}"), format!("cannot read: {e}")))?;
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    for (i, r) in rd.records().enumerate() {
        let r = r.map_err(|e| InputError::new("K012", &file, format!("CSV が不正です: {e}"), format!("bad CSV: {e}")).at_line(i as u64 + 1))?;
        if r.get(0).unwrap_or("").is_empty() && r.iter().all(|c| c.trim().is_empty()) {
            continue; // trailing empty rows
        }
        rows.push(r);
    }
    if rows.len() < ROWS.len() || ROWS.iter().zip(&rows).any(|(name, r)| r.get(0).unwrap_or("") != *name) {
        return Err(InputError::new("K013", &file, "行見出しが想定と異なります", "row headings differ from the expected layout").field("A"));
    }
    let ncols = rows[0].len();
    for c in 1..ncols {
        let g = |r: usize| rows[r].get(c).unwrap_or("").trim().to_string();
        if g(0).is_empty() && g(1).is_empty() {
            continue;
        }
        match read_column(&g) {
            Ok(mut prog) => {
                prog.prefecture = pref.clone();
                prog.column = c + 1;
                out.programs.push(prog);
            }
            Err(reason) => out.rejected.push((pref.clone(), c + 1, reason)),
        }
    }
    Ok(())
}

fn num(s: &str, what: &str) -> Result<i64, String> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<i64>().map_err(|_| format!("{what}「{s}」が数値ではありません（列ずれ）/ {what} is not a number (misaligned column): {s:?}"))
}

fn read_column(g: &dyn Fn(usize) -> String) -> Result<LocalProgram, String> {
    if g(2) == "未使用" {
        return Err("未使用 (unused slot)".to_string());
    }
    let hb = g(1);
    if parse_houbetsu(&hb).is_none() {
        return Err(format!("法別番号「{hb}」が2桁の数字ではありません / houbetsu is not 2 digits: {hb:?}"));
    }
    let ins = g(0);
    if ins.is_empty() || !ins.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("保険番号「{ins}」が不正です / bad 保険番号: {ins:?}"));
    }
    // full-width / minus-sign dashes are the same separator (NFKC), not a guess
    let age = g(8).replace(['－', '−', '‐'], "-");
    let (age_from, age_to) = if age.is_empty() {
        (None, None)
    } else {
        let (a, b) = age.split_once('-').ok_or_else(|| format!("年齢「{age}」が「開始-終了」ではありません / age {age:?} is not from-to"))?;
        let bad = || format!("年齢「{age}」が「開始-終了」ではありません / age {age:?} is not from-to");
        (Some(a.trim().parse::<u32>().map_err(|_| bad())?), Some(b.trim().parse::<u32>().map_err(|_| bad())?))
    };
    let yen_per_point = num(&g(9), "点数単価")?;
    if yen_per_point <= 0 {
        return Err(format!("点数単価「{}」がありません（列が不完全）/ 点数単価 missing (incomplete column): {:?}", g(9), g(9)));
    }
    let kubun = |r: usize| -> Result<String, String> {
        let k = g(r);
        if k.is_empty() || (k.len() == 1 && k.chars().all(|c| c.is_ascii_digit())) {
            Ok(k)
        } else {
            Err(format!("負担区分「{k}」が不正です（列ずれ）/ 負担区分 is malformed (misaligned column): {k:?}"))
        }
    };
    let outpatient = LocalBurden {
        kubun: kubun(14)?,
        rate_percent: num(&g(15), "1回負担割合")?,
        fixed_per_visit: num(&g(16), "1回固定額")?,
        cap_per_visit: num(&g(17), "1回上限額")?,
        cap_per_day: num(&g(18), "1日上限額")?,
        day_count: num(&g(19), "1日上限回数")?,
        monthly_cap: num(&g(20), "1月院内上限額")?,
        monthly_cap_outside: num(&g(21), "1月院外上限額")?,
        month_count: num(&g(22), "1月上限回数")?,
        drug: num(&g(23), "薬剤負担")?,
    };
    let inpatient = LocalBurden {
        kubun: kubun(24)?,
        rate_percent: num(&g(25), "1回負担割合")?,
        fixed_per_visit: num(&g(26), "1回固定額")?,
        cap_per_visit: num(&g(27), "1回上限額")?,
        cap_per_day: num(&g(28), "1日上限額")?,
        day_count: num(&g(29), "1日上限回数")?,
        monthly_cap: num(&g(30), "1月上限額")?,
        monthly_cap_outside: 0,
        month_count: num(&g(31), "1月上限回数")?,
        drug: 0,
    };
    for b in [&outpatient, &inpatient] {
        if !(0..=100).contains(&b.rate_percent) {
            return Err(format!("負担割合 {} が 0〜100 ではありません / rate {} out of range", b.rate_percent, b.rate_percent));
        }
    }
    Ok(LocalProgram {
        prefecture: String::new(),
        column: 0,
        insurance_number: ins,
        houbetsu: hb,
        name: g(2),
        age_from,
        age_to,
        yen_per_point,
        outpatient_model: model_of(&outpatient),
        inpatient_model: model_of(&inpatient),
        outpatient,
        inpatient,
    })
}

/// Map a table's burden terms onto the engine's payer model. The 負担区分 codes are not defined
/// in the item spec we have (chitankouhi_koumoku_240329 describes a different layout), so only what
/// the values themselves say is used: `2` with every amount 0 = no patient burden; `1` = a rate and
/// optional monthly cap. Anything else is reported, never guessed.
fn model_of(b: &LocalBurden) -> LocalModel {
    let mut why: Vec<&'static str> = Vec::new();
    if b.fixed_per_visit != 0 {
        why.push("1回固定額 (fixed amount per visit)");
    }
    if b.cap_per_visit != 0 {
        why.push("1回上限額 (cap per visit)");
    }
    if b.cap_per_day != 0 || b.day_count != 0 {
        why.push("1日上限額/回数 (cap or count per day)");
    }
    if b.month_count != 0 {
        why.push("1月上限回数 (visits per month limit)");
    }
    if b.drug != 0 {
        why.push("薬剤負担 (drug copay)");
    }
    if b.monthly_cap_outside != 0 && b.monthly_cap_outside != b.monthly_cap {
        why.push("院内/院外 separate monthly caps");
    }
    match b.kubun.as_str() {
        "1" | "2" => {}
        "" => why.push("負担区分 empty"),
        "0" => why.push("負担区分 0 (undefined in the item spec)"),
        "3" => why.push("負担区分 3 (undefined in the item spec)"),
        _ => why.push("負担区分 other"),
    }
    if b.kubun == "2" && (b.rate_percent != 0 || b.monthly_cap != 0) {
        why.push("負担区分 2 with amounts");
    }
    if b.kubun == "1" && b.rate_percent == 0 {
        why.push("負担区分 1 with rate 0 (ambiguous: insurance rate or nothing)");
    }
    if !why.is_empty() {
        return LocalModel::Unsupported(why);
    }
    if b.kubun == "2" {
        return LocalModel::Payer { rate_percent: Some(0), monthly_cap_yen: Some(0) };
    }
    LocalModel::Payer { rate_percent: Some(b.rate_percent as u32), monthly_cap_yen: if b.monthly_cap > 0 { Some(b.monthly_cap) } else { None } }
}
