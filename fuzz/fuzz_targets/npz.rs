//! The `.npz` reader: `partrec_core::io::npz::from_reader` on arbitrary bytes (a zip of
//! `.npy` arrays). Whatever it accepts must write back to `.npz` and read back the same.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_core::io::npz;
use std::io::Cursor;

const ORIGIN: &str = "fuzz.npz";

fuzz_target!(|data: &[u8]| {
    match npz::from_reader(Cursor::new(data), ORIGIN) {
        Ok(inst) => {
            common::exercise_instance(&inst, ORIGIN);
            let bytes = npz::to_bytes(&inst, ORIGIN)
                .unwrap_or_else(|e| panic!("an instance read from .npz cannot be written: {e}"));
            let back = npz::from_reader(Cursor::new(bytes), ORIGIN)
                .unwrap_or_else(|e| panic!("written .npz is refused: {e}"));
            assert_eq!(back.to_json(), inst.to_json(), ".npz does not round-trip");
        }
        Err(e) => common::check_error(&e, ORIGIN),
    }
});
