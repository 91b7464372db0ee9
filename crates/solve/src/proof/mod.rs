//! Certificates for the answers a partition cannot witness: `unsat`, `unique` and
//! a complete count. Each is one claim "this CNF is unsatisfiable", with the CNF in
//! DIMACS and a DRAT proof of it.
//!
//! The CNF of a claim is re-derived from the instance alone: the encoding
//! ([`crate::encode`]) of the preprocessed instance (no class propagation),
//! then one blocking clause per listed partition. [`certify()`] builds it while a
//! proof-logging varisat enumerates every partition of the observed tokens;
//! [`verify()`] rebuilds it byte for byte, checks each listed partition with the
//! consistency checker, recounts with the free tokens, and checks the proof with
//! [`drat`], which shares no code with the encoder or any solver.
//!
//! What a proof does not cover is named in [`Entry::rests_on`]: that the encoding
//! has exactly one model per consistent partition of the observed tokens (value
//! precedence is a symmetry-breaking lemma, not implied by the clauses), that
//! must-differ clauses are implied by the samples, and how free tokens are counted.

pub mod certify;
pub mod claim;
pub mod drat;
pub mod verify;

pub use certify::{certify, check_folder, claim_of, write};
pub use claim::{files, Certified, ClaimKind, Entry, MANIFEST};
pub use verify::{inputs, verify, verify_claim, Verified};
