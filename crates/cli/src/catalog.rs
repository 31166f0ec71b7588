//! The master store as a [`santei_uke::CodeCatalog`] (UKE checks and names in `uke show`).

use santei_master::Store;
use santei_uke::{CatalogEntry, CodeCatalog, CodeKind};
use std::path::{Path, PathBuf};

pub struct StoreCatalog {
    store: Store,
    /// As-of date of the earliest complete 診療行為 master: before it the store is incomplete.
    earliest: Option<santei_core::date::Date>,
}

impl StoreCatalog {
    pub fn new(store: Store) -> Self {
        let earliest = store.stats().complete_from;
        StoreCatalog { store, earliest }
    }
}

impl CodeCatalog for StoreCatalog {
    fn lookup(&self, kind: CodeKind, code: &str, date: santei_core::date::Date) -> Option<CatalogEntry> {
        let st = &self.store;
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
    fn covers(&self, date: santei_core::date::Date) -> bool {
        self.earliest.is_some_and(|e| e <= date)
    }
}

/// Open the store in `dir` if given (an error if it cannot be opened), else the default data
/// directory's store if one exists there (`None` otherwise: checks run without the master).
pub fn open(dir: Option<&PathBuf>) -> Result<Option<StoreCatalog>, santei_core::InputError> {
    match dir {
        Some(d) => Store::open(d).map(|s| Some(StoreCatalog::new(s))),
        None => {
            let d = santei_master::store::default_data_dir();
            if Path::new(&d).join(santei_master::store::FILE_NAME).exists() {
                Store::open(&d).map(|s| Some(StoreCatalog::new(s)))
            } else {
                Ok(None)
            }
        }
    }
}
