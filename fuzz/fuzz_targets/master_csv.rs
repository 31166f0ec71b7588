//! Fuzz the SSK master readers: arbitrary bytes as each kind of master file, and as a zip.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run master_csv fuzz/corpus/master_csv -- -max_total_time=60`
#![no_main]
use libfuzzer_sys::fuzz_target;
use santei_master::{import, input::InputFile};

const NAMES: &[&str] = &[
    "s_20240701.csv",
    "y_20240701.csv",
    "t_20240701.csv",
    "c_20240701.csv",
    "b_20240701.txt",
    "z_20240701.txt",
    "ck_20240701.csv",
    "05算定回数テーブル.csv",
    "03-2背反テーブル2.csv",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let name = NAMES[sel as usize % NAMES.len()];
    let _ = import::build_files(vec![InputFile { name: name.into(), bytes: rest.to_vec() }], None);
});
