//! Checks shared by the fuzz targets.
#![allow(dead_code)]

/// A reader's error must be bad input (exit 2) reported on exactly one line that
/// starts with the origin, as `ORIGIN: what is wrong`.
pub fn check_error(e: &partrec_core::error::Error, origin: &str) {
    let msg = e.to_string();
    assert!(
        !msg.contains('\n') && !msg.contains('\r'),
        "error message is not one line: {msg:?}"
    );
    assert!(
        msg.starts_with(&format!("{origin}: ")),
        "error message does not start with the origin {origin:?}: {msg:?}"
    );
    assert_eq!(e.exit_code(), 2, "a reader's error is bad input: {msg:?}");
}

/// A warning is one line that starts with the origin.
pub fn check_warning(w: &str, origin: &str) {
    assert!(
        !w.contains('\n') && !w.contains('\r'),
        "warning is not one line: {w:?}"
    );
    assert!(
        w.starts_with(&format!("{origin}: ")),
        "warning does not start with the origin {origin:?}: {w:?}"
    );
}

/// Cheap follow-ups on an accepted instance; none may panic or allocate in
/// proportion to a declared count (libFuzzer's -malloc_limit_mb reports that).
pub fn exercise_instance(inst: &partrec_core::model::instance::Instance, origin: &str) {
    // The file format round-trips: what to_json writes reads back to the same text.
    let text = inst.to_json();
    let back = partrec_core::model::instance::Instance::from_json(text.as_bytes(), origin)
        .unwrap_or_else(|e| panic!("to_json output is refused: {e}\n{text}"));
    assert_eq!(back.to_json(), text, "to_json does not round-trip");
    assert_eq!(back.num_samples(), inst.num_samples());
    assert_eq!(back.values().len(), inst.values().len());

    for s in 0..inst.num_samples() {
        let x = inst.x(s);
        assert_eq!(x.len(), inst.arity());
        let _ = inst.y(s).to_string();
        for (g, &t) in x.iter().enumerate() {
            let _ = inst.token_name(g, t);
        }
    }

    // Preprocessing must cost what the samples cost, not what `tokens` declares.
    let prep = partrec_solve::preprocess::Prepared::new(inst);
    assert!(prep.len() <= inst.num_samples());
    assert_eq!(prep.values, inst.values().len());

    // The planted partition judged against itself: equal to planted, accuracy 1.
    if let Some(planted) = &inst.planted {
        let v = partrec_core::check::check(inst, &planted.partition)
            .unwrap_or_else(|m| panic!("a validated planted partition is refused: {m}"));
        assert_eq!(v.consistent, v.conflicting_samples == 0);
        let p = v.planted.expect("the instance has planted");
        assert!(p.equals_planted, "planted differs from itself");
        assert!(p.accuracy == 1.0, "planted accuracy {} != 1", p.accuracy);
    }
}
