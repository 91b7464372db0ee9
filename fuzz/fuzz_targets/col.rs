//! The DIMACS `.col` reader: `graph::parse_col`, then `Graph::to_col` read back.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_reduction::graph::parse_col;

const ORIGIN: &str = "fuzz.col";

fuzz_target!(|data: &[u8]| {
    // The CLI refuses non-UTF-8 before parsing; a lossy copy still reaches the parser.
    let text = String::from_utf8_lossy(data);
    let file = match parse_col(&text, ORIGIN) {
        Ok(f) => f,
        Err(e) => return common::check_error(&e, ORIGIN),
    };
    for w in &file.warnings {
        common::check_warning(w, ORIGIN);
    }
    let g = &file.graph;
    let edges: Vec<(u32, u32)> = g.edges().collect();
    assert_eq!(edges.len(), g.edge_count());
    assert!(edges
        .iter()
        .all(|&(u, v)| u < v && (v as usize) < g.vertices()));
    // What to_col writes reads back to the same graph, without warnings.
    let out = g.to_col("fuzz\nround trip");
    let back = parse_col(&out, ORIGIN).unwrap_or_else(|e| panic!("to_col output is refused: {e}"));
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    assert_eq!(back.graph.vertices(), g.vertices());
    assert_eq!(back.graph.edge_count(), g.edge_count());
    assert!(back.graph.edges().eq(edges.iter().copied()));
});
