#![allow(dead_code)]
use std::path::PathBuf;

/// `../shared/testdata/uke` relative to the workspace root. With `CI=true` a missing directory
/// fails the test; otherwise the test prints a notice and is skipped by returning `None`.
pub fn uke_dir() -> Option<PathBuf> {
    santei_core::shared::dir().map(|p| p.join("testdata/uke"))
}

/// The DOMAIN.md §5.5 example as text (the test data file holds its Shift_JIS bytes).
pub const EXAMPLE: &str = "IR,1,13,1,1234567,,テスト内科クリニック,202506,00,03-1234-5678\r\n\
RE,1,1112,202505,山田　太郎,1,19800115,,,,,,,00001,,,,,,,,,,,,,,,,,,,,,,,ヤマダタロウ,\r\n\
HO,01130012,12345678,123,2,554,,,,,,,,,\r\n\
SN,1,01,,,,00,,\r\n\
JD,1,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,\r\n\
MF,00,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n\
SY,4659007,20250508,1,,,01,\r\n\
SI,11,1,111000110,,291,1,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,,,,,,,,\r\n\
SI,12,1,112007410,,75,1,,,,,,,,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,\r\n\
SI,12,1,112011010,,52,1,,,,,,,,,,,,,,,,,,,,,1,,,,,,,,,,,,,,,,\r\n\
IY,21,1,620098801,3,3,10,,,,,,,,,,,,,,5,,,,,,,5,,,,,,,,,,,,,,,,\r\n\
SI,24,1,120000710,,11,2,,,,,,,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,\r\n\
SI,25,1,120001210,,42,2,,,,,,,,,,,,,,1,,,,,,,1,,,,,,,,,,,,,,,,\r\n\
GO,1,554,99\r\n\u{1A}";

pub fn sjis(s: &str) -> Vec<u8> {
    santei_core::sjis::encode(s).expect("encodable")
}
