//! The CSV/TSV reader of `partrec import`: `io::table::import` with groups `a`, `b`
//! and values `y` (a header is prepended half the time, so rows get exercised), then
//! the instance written as JSON and read back.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_core::io::table::{import, ImportOptions};
use partrec_core::model::instance::Instance;

const ORIGIN: &str = "fuzz.csv";

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 6);
    if data.first().is_some_and(|b| b & 1 == 1) {
        bytes.extend_from_slice(b"a,b,y\n");
    }
    bytes.extend_from_slice(data);
    let options = ImportOptions::new(&["a", "b"], "y");
    let inst = match import(&bytes, ORIGIN, &options) {
        Ok(inst) => inst,
        Err(e) => return common::check_error(&e, ORIGIN),
    };
    assert_eq!(inst.arity(), 2);
    let json = inst.to_json();
    let back = Instance::from_json(json.as_bytes(), "back.json")
        .unwrap_or_else(|e| panic!("an imported instance does not read back: {e}"));
    assert_eq!(back.to_json(), json);
});
