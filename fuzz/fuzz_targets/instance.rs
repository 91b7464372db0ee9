//! The instance reader: `Instance::from_json` and `from_json_with_options`.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_core::model::instance::Instance;

const ORIGIN: &str = "fuzz.json";

fuzz_target!(|data: &[u8]| {
    match Instance::from_json(data, ORIGIN) {
        Ok(inst) => common::exercise_instance(&inst, ORIGIN),
        Err(e) => common::check_error(&e, ORIGIN),
    }
    match Instance::from_json_with_options(data, ORIGIN) {
        Ok((inst, options)) => {
            // Without `options` the two readers agree.
            if options.is_none() {
                let plain = Instance::from_json(data, ORIGIN)
                    .expect("from_json refuses what from_json_with_options accepts");
                assert_eq!(plain.to_json(), inst.to_json());
            }
            let text = inst.to_json();
            let back = Instance::from_json(text.as_bytes(), ORIGIN)
                .unwrap_or_else(|e| panic!("to_json output is refused: {e}\n{text}"));
            assert_eq!(back.to_json(), text, "to_json does not round-trip");
        }
        Err(e) => common::check_error(&e, ORIGIN),
    }
});
