//! The master store as a [`CodeCatalog`] (feature `master`): UKE code checks and item names over
//! a [`santei_master::Store`]. Shared by the CLI (`santei uke check/show`, which owns its
//! `Store`) and the service (`POST /v1/uke/check`, which holds the current master as an
//! `Arc<Store>` swapped on reload) — hence generic over anything that borrows a `Store`.

use crate::catalog::{CatalogEntry, CodeCatalog, CodeKind};
use santei_core::date::Date;
use santei_master::Store;
use std::borrow::Borrow;

pub struct StoreCatalog<S: Borrow<Store> = Store> {
    store: S,
    /// As-of date of the earliest complete 診療行為 master: before it the store is incomplete.
    earliest: Option<Date>,
}

impl<S: Borrow<Store>> StoreCatalog<S> {
    pub fn new(store: S) -> Self {
        let earliest = store.borrow().stats().complete_from;
        StoreCatalog { store, earliest }
    }

    pub fn store(&self) -> &Store {
        self.store.borrow()
    }
}

impl<S: Borrow<Store>> CodeCatalog for StoreCatalog<S> {
    fn lookup(&self, kind: CodeKind, code: &str, date: Date) -> Option<CatalogEntry> {
        let st: &Store = self.store.borrow();
        let (name, fixed_points) = match kind {
            CodeKind::Procedure => {
                let p = st.procedure(code, date)?;
                // 点数識別 3 (点数): a fixed point value the UKE line must carry; others (金額, %,
                // きざみ, 購入価格) are computed and not price-checked here.
                let fixed = (p.point_kind == 3 && p.step_kind == 0 && p.points.fract().is_zero())
                    .then(|| u64::try_from(p.points.mantissa() / 10i128.pow(p.points.scale())).ok())
                    .flatten();
                (p.common.name.clone(), fixed)
            }
            CodeKind::Drug => (st.drug(code, date)?.common.name.clone(), None),
            CodeKind::Material => (st.material(code, date)?.common.name.clone(), None),
            CodeKind::Comment => (st.comment(code, date)?.common.name.clone(), None),
            CodeKind::Disease => (st.disease(code, date)?.common.name.clone(), None),
            CodeKind::Modifier => (st.modifier(code, date)?.common.name.clone(), None),
        };
        Some(CatalogEntry { name, fixed_points })
    }

    /// The store covers dates from its earliest complete 診療行為 master on.
    fn covers(&self, date: Date) -> bool {
        self.earliest.is_some_and(|e| e <= date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sample_store_lookups_owned_and_shared() {
        let store = santei_master::sample::store().expect("sample");
        let date = santei_core::date::parse_iso("2024-06-01").expect("date");
        let shared = StoreCatalog::new(Arc::new(santei_master::sample::store().expect("sample")));
        let owned = StoreCatalog::new(store);
        for c in [&owned as &dyn CodeCatalog, &shared as &dyn CodeCatalog] {
            let e = c.lookup(CodeKind::Procedure, "111000110", date).expect("初診料 in the sample master");
            assert!(e.fixed_points.is_some_and(|p| p > 0), "{e:?}");
            assert!(c.lookup(CodeKind::Procedure, "999999999", date).is_none());
        }
    }
}
