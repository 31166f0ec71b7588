//! The master store as a [`santei_uke::CodeCatalog`] (UKE checks and names in `uke show`): the
//! implementation is `santei_uke::StoreCatalog` (feature `master`), shared with the service's
//! `POST /v1/uke/check`; this module only finds the store to open.

use santei_master::Store;
pub use santei_uke::StoreCatalog;
use std::path::{Path, PathBuf};

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
