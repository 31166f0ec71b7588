//! 電子点数表 (temporary stub in main; the full reader lands from the tensuhyo branch).
use santei_core::{date::Date, InputError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TableKind { Hojo, Houkatsu, HaihanDay, HaihanMonth, HaihanSame, HaihanWeek, NyuinKihon, SanteiKaisu }

impl TableKind {
    pub fn from_file_name(_name: &str) -> Option<TableKind> { None }
    pub fn name_ja(&self) -> &'static str { "" }
}

#[derive(Default, Debug, Clone, Serialize, Deserialize)]
pub struct Tensuhyo {}

impl Tensuhyo {
    pub fn load(&mut self, _kind: TableKind, _bytes: &[u8], _file: &str) -> Result<usize, InputError> { Ok(0) }
    pub fn index(&mut self) {}
    pub fn counts(&self) -> Vec<(TableKind, usize)> { vec![] }
    pub fn santei_kaisu_stub(&self, _code: &str, _date: Date) {}
}
