//! The colouring-file reader: `reduce::ColoringFile::from_json`, then the
//! reduction's lift and extract on a fixed graph (the Petersen graph, k = 3).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_reduction::coloring::{proper_coloring, ColoringFile, ColoringReduction};

const ORIGIN: &str = "fuzz-coloring.json";

fuzz_target!(|data: &[u8]| {
    let file = match ColoringFile::from_json(data, ORIGIN) {
        Ok(f) => f,
        Err(e) => return common::check_error(&e, ORIGIN),
    };
    let text = serde_json::to_string(&file).expect("a colouring serializes");
    let back = ColoringFile::from_json(text.as_bytes(), ORIGIN)
        .unwrap_or_else(|e| panic!("its own output is refused: {e}"));
    assert_eq!(back.colors, file.colors);

    // The reduction's claim on a fixed graph: the lifted partition is consistent
    // with the reduced instance iff the colouring is proper.
    let g = partrec_reduction::graph::petersen();
    let r = ColoringReduction::new(&g, 3).expect("petersen, 3 colours");
    let proper = proper_coloring(&g, &file.colors, 3).is_ok();
    if let Ok(p) = r.lift(&file.colors) {
        let inst = r.reduce("petersen");
        let v =
            partrec_core::check::check(&inst, &p).expect("a lifted partition has the right shape");
        assert_eq!(
            v.consistent, proper,
            "reduction claim fails for {:?}",
            file.colors
        );
        assert_eq!(r.extract(&p).is_ok(), proper);
    } else {
        assert!(!proper);
    }
});
