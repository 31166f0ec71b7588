//! Hook for master-based checks. santei-uke does not depend on the master store; the caller
//! passes an implementation of [`CodeCatalog`] (the lead implements it for santei-master).

use santei_core::date::Date;
use std::collections::HashMap;

/// Which master a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// 診療行為 (SI).
    Procedure,
    /// 医薬品 (IY).
    Drug,
    /// 特定器材 (TO).
    Material,
    /// コメント (CO, and comment slots of SI/IY/TO).
    Comment,
    /// 傷病名 (SY).
    Disease,
    /// 修飾語 (SY field 5, 4-digit codes).
    Modifier,
}

/// What the checker and viewer need from a master entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: String,
    /// Points when the master fixes them (診療行為 with 点数識別 = 点数); `None` for items priced
    /// otherwise (金額, きざみ, drugs…), which the checker then does not price-check.
    pub fixed_points: Option<u64>,
}

/// Code lookup valid on a date. `None` = the code does not exist on that date.
pub trait CodeCatalog {
    fn lookup(&self, kind: CodeKind, code: &str, date: Date) -> Option<CatalogEntry>;
    /// Whether the catalog holds master data for `date` at all. When it does not (e.g. a 2018
    /// claim checked against a store loaded from 2020 on), code checks are skipped with one
    /// warning instead of reporting every code as unknown.
    fn covers(&self, _date: Date) -> bool {
        true
    }
}

/// A small in-memory catalog (tests, fixtures): entries valid on every date.
#[derive(Debug, Default, Clone)]
pub struct MapCatalog {
    pub entries: HashMap<(CodeKind, String), CatalogEntry>,
}

impl MapCatalog {
    pub fn insert(&mut self, kind: CodeKind, code: &str, name: &str, fixed_points: Option<u64>) {
        self.entries.insert((kind, code.to_string()), CatalogEntry { name: name.to_string(), fixed_points });
    }
}

impl CodeCatalog for MapCatalog {
    fn lookup(&self, kind: CodeKind, code: &str, _date: Date) -> Option<CatalogEntry> {
        self.entries.get(&(kind, code.to_string())).cloned()
    }
}
