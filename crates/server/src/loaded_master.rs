//! The master as the engines use it: the `Arc<Store>` plus what is derived from it once per
//! master version — the points engine's hash index ([`santei_calc::Engine`], which borrows the
//! store) and the UKE code catalog. Built off the runtime when the master is loaded or reloaded,
//! swapped in with the store as one `Arc`, so a request sees a store and an index of the same
//! version.

use santei_calc::Engine;
use santei_master::Store;
use santei_uke::StoreCatalog;
use std::sync::Arc;

self_cell::self_cell!(
    /// `Arc<Store>` and the calc `Engine` borrowing it (self-referential, checked by self_cell:
    /// no `unsafe` here).
    struct CalcCell {
        owner: Arc<Store>,
        #[covariant]
        dependent: Engine,
    }
);

pub struct LoadedMaster {
    calc: CalcCell,
    catalog: StoreCatalog<Arc<Store>>,
}

impl LoadedMaster {
    /// Build the index (blocking: decodes the 診療行為/医薬品/特定器材 tables if the store is lazy;
    /// milliseconds on the sample master, longer on the full one — call it off the runtime).
    pub fn new(store: Arc<Store>) -> Self {
        let catalog = StoreCatalog::new(store.clone());
        let calc = CalcCell::new(store, |s| Engine::new(s));
        LoadedMaster { calc, catalog }
    }

    pub fn store(&self) -> &Arc<Store> {
        self.calc.borrow_owner()
    }

    /// The points engine (index built once for this master).
    pub fn calc(&self) -> &Engine<'_> {
        self.calc.borrow_dependent()
    }

    /// The store as a UKE code catalog.
    pub fn catalog(&self) -> &StoreCatalog<Arc<Store>> {
        &self.catalog
    }
}
