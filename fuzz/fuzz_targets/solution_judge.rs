//! The solution reader and the judge: `check::Candidate::from_json`, then
//! `check::judge` on a successfully parsed (instance, candidate) pair.
//!
//! Input: `INSTANCE \0 SOLUTION`. Without a NUL byte the whole input is the
//! solution, judged against a small fixed instance with a planted partition.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use partrec_core::check::{judge, Candidate};
use partrec_core::model::instance::Instance;

const INSTANCE_ORIGIN: &str = "fuzz.json";
const ORIGIN: &str = "fuzz-solution.json";

const FIXED: &[u8] = br#"{"groups":[{"tokens":3,"classes":2},{"tokens":2,"classes":2,"token_names":["a","b"]}],
"samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":0},{"x":[2,0],"y":1},{"x":[2,1],"y":"z"},{"x":[0,1],"y":0.5}],
"planted":{"partition":[[0,0,1],[0,1]],"table":[{"cell":[0,0],"y":0}]}}"#;

fuzz_target!(|data: &[u8]| {
    let (inst_bytes, sol_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (FIXED, data),
    };
    let candidate = match Candidate::from_json(sol_bytes, ORIGIN) {
        Ok(c) => c,
        Err(e) => return common::check_error(&e, ORIGIN),
    };
    let inst = match Instance::from_json(inst_bytes, INSTANCE_ORIGIN) {
        Ok(i) => i,
        Err(e) => return common::check_error(&e, INSTANCE_ORIGIN),
    };
    match judge(&inst, &candidate, ORIGIN) {
        Ok(j) => {
            let v = &j.verdict;
            assert_eq!(v.consistent, v.conflicting_samples == 0);
            assert!(v.conflicts.len() <= v.conflicting_samples);
            assert!(v.conflicts.len() <= partrec_core::check::MAX_LISTED_CONFLICTS);
            assert_eq!(v.planted.is_some(), inst.planted.is_some());
            if let Some(p) = &v.planted {
                assert!((0.0..=1.0).contains(&p.accuracy), "accuracy {}", p.accuracy);
                if p.equals_planted {
                    assert!(
                        p.accuracy == 1.0,
                        "equal to planted, accuracy {}",
                        p.accuracy
                    );
                }
            }
            let summary = j.summary(&inst);
            assert!(
                !summary.contains('\n'),
                "summary is not one line: {summary:?}"
            );
            let _ = j.exit_code();
            serde_json::to_string(&j).expect("a judgement serializes");
        }
        Err(e) => common::check_error(&e, ORIGIN),
    }
});
