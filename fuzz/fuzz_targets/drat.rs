//! The DRAT proof checker's readers: `proof::drat::check` on a CNF and a proof cut
//! from one input (at the first NUL byte, or the middle).
#![no_main]

use libfuzzer_sys::fuzz_target;
use partrec_solve::proof::drat::check;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len() / 2);
    let (cnf, proof) = (&data[..cut], &data[(cut + 1).min(data.len())..]);
    match check(cnf, proof) {
        Ok(checked) => assert!(checked.lemmas >= 1, "accepted without the empty clause"),
        Err(e) => {
            assert!(e.file == "cnf" || e.file == "proof");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }
});
