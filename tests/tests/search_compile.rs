//! Compile-fail tests of the typed search builders: each file under `ui/` is a search the builders must refuse
//! at compile time, with the compiler's message checked in beside it (`ui/*.stderr`). The profile views' read-only
//! `Deref` is checked here too (`ui/profile_*.rs`), in the same trybuild project. Regenerate the messages
//! after an intended change with `TRYBUILD=overwrite cargo test -p fhir-toolkit-tests --test search_compile`.

#[test]
fn wrong_searches_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/search_*.rs");
    t.compile_fail("tests/ui/profile_*.rs");
}
