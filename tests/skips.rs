//! The skip mechanism of `tests/common/skips.rs`: what a skip records, where, and that
//! a required resource turns the skip into a failure.

mod common;

use common::scratch;
use common::skips::{current_test, record, record_line, requires, skip_in};

#[test]
fn a_record_is_one_line_naming_the_test_the_need_and_the_reason() {
    assert_eq!(
        record_line("certify::t", "rate", "no `rate`\n  on the PATH"),
        "certify::t (needs rate): no `rate` on the PATH\n"
    );
}

#[test]
fn the_test_is_named_by_crate_and_test_function() {
    assert_eq!(
        current_test(),
        "skips::the_test_is_named_by_crate_and_test_function"
    );
}

#[test]
fn required_lists_split_at_spaces_and_commas_and_match_whole_names() {
    assert!(requires("rate curl", "curl"));
    assert!(requires("rate,curl", "rate"));
    assert!(requires(" rate ,\tcurl ", "curl"));
    assert!(!requires("", "rate"));
    assert!(!requires("rated curly", "rate"));
    assert!(!requires("rate", "rat"));
}

#[test]
fn a_skip_is_recorded_once_per_reason_in_the_tests_own_file() {
    let dir = scratch("skips-record");
    let test = "skips::example";
    record(&dir, test, "rate", "no rate").unwrap();
    record(&dir, test, "rate", "no rate").unwrap();
    record(&dir, test, "curl", "no curl").unwrap();
    record(&dir, "skips::other", "shared", "no ../shared").unwrap();
    let text = std::fs::read_to_string(dir.join(test)).unwrap();
    assert_eq!(
        text,
        "skips::example (needs rate): no rate\nskips::example (needs curl): no curl\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["skips::example", "skips::other"],
        "no file left behind"
    );
}

#[test]
fn an_unrequired_skip_prints_and_records_one_line() {
    let dir = scratch("skips-unrequired");
    let mut printed = Vec::new();
    skip_in(
        &dir,
        "rate curl",
        &mut printed,
        "shared",
        "no ../shared here",
    );
    let line = format!("{} (needs shared): no ../shared here\n", current_test());
    assert_eq!(
        String::from_utf8(printed).unwrap(),
        format!("skipped: {line}")
    );
    let text = std::fs::read_to_string(dir.join(current_test())).unwrap();
    assert_eq!(text, line);
}

#[test]
#[should_panic(expected = "cannot run: no rate here; PARTREC_TEST_REQUIRE requires rate")]
fn a_required_skip_fails_the_test_and_records_nothing() {
    let dir = scratch("skips-required");
    let mut printed = Vec::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        skip_in(&dir, "curl,rate", &mut printed, "rate", "no rate here")
    }));
    assert!(printed.is_empty(), "printed a failed skip as a skip");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "recorded a failed skip"
    );
    std::panic::resume_unwind(result.unwrap_err());
}
