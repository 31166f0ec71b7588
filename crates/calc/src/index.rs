//! An in-memory hash index over an opened store, built once ("master already open") and shared
//! by every calculation made through an [`Engine`]. A lookup gives exactly what
//! `Store::procedure/drug/material(code, date)` gives (same version-selection rule), in one hash
//! probe instead of a binary search over all codes.

use crate::engine::{calculate_in, CalcError, Options};
use crate::input::PatientMonth;
use crate::output::Outcome;
use santei_core::date::Date;
use santei_master::model::{Drug, Material, Procedure, Record};
use santei_master::Store;
use std::collections::HashMap;

/// Code → all versions of it (sorted by valid_from, as in the store).
fn group<T: Record>(table: &[T]) -> HashMap<&str, &[T]> {
    let mut out = HashMap::with_capacity(table.len());
    let mut start = 0;
    for i in 1..=table.len() {
        let boundary = i == table.len() || table[i].common().code != table[start].common().code;
        if boundary {
            out.insert(table[start].common().code.as_str(), &table[start..i]);
            start = i;
        }
    }
    out
}

/// Same rule as `santei_master::store::at_date`: the last version with valid_from ≤ date, if
/// date ≤ its valid_to.
fn at<T: Record>(versions: &[T], date: Date) -> Option<&T> {
    let idx = versions.partition_point(|r| r.common().valid_from <= date);
    let r = versions.get(idx.checked_sub(1)?)?;
    (date <= r.common().valid_to).then_some(r)
}

pub struct Index<'a> {
    procedures: HashMap<&'a str, &'a [Procedure]>,
    drugs: HashMap<&'a str, &'a [Drug]>,
    materials: HashMap<&'a str, &'a [Material]>,
    /// Master file names (by source index), shared by every explained line.
    pub(crate) files: Vec<std::sync::Arc<str>>,
}

impl<'a> Index<'a> {
    pub fn new(store: &'a Store) -> Index<'a> {
        Index {
            procedures: group(store.procedures()),
            drugs: group(store.drugs()),
            materials: group(store.materials()),
            files: store.sources().iter().map(|s| std::sync::Arc::from(s.name.as_str())).collect(),
        }
    }
    pub fn procedure(&self, code: &str, date: Date) -> Option<&'a Procedure> {
        at(self.procedures.get(code)?, date)
    }
    pub fn drug(&self, code: &str, date: Date) -> Option<&'a Drug> {
        at(self.drugs.get(code)?, date)
    }
    pub fn material(&self, code: &str, date: Date) -> Option<&'a Material> {
        at(self.materials.get(code)?, date)
    }
}

/// A store plus its index: use one per process for many calculations.
pub struct Engine<'a> {
    pub store: &'a Store,
    pub index: Index<'a>,
}

impl<'a> Engine<'a> {
    pub fn new(store: &'a Store) -> Engine<'a> {
        Engine {
            store,
            index: Index::new(store),
        }
    }
    pub fn calculate(&self, input: &PatientMonth) -> Result<Outcome, CalcError> {
        calculate_in(self.store, Some(&self.index), input, Options::default())
    }
    pub fn calculate_with(&self, input: &PatientMonth, opts: Options) -> Result<Outcome, CalcError> {
        calculate_in(self.store, Some(&self.index), input, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_agrees_with_store() {
        let store = santei_master::sample::store().unwrap();
        let ix = Index::new(&store);
        for d in ["2022-03-31", "2022-04-01", "2024-05-31", "2024-06-01", "2025-05-08"] {
            let d = santei_core::date::parse_iso(d).unwrap();
            for p in store.procedures() {
                let c = &p.common.code;
                assert_eq!(
                    ix.procedure(c, d).map(|x| x as *const _),
                    store.procedure(c, d).map(|x| x as *const _),
                    "{c} {d}"
                );
            }
            for p in store.drugs() {
                let c = &p.common.code;
                assert_eq!(ix.drug(c, d).map(|x| x as *const _), store.drug(c, d).map(|x| x as *const _), "{c} {d}");
            }
            assert!(ix.procedure("nope", d).is_none());
        }
    }
}
