//! The command line, as data: each case under `tests/cases/` is `NAME.toml` (the arguments and
//! the exit code), `NAME.in/` (the catalogue and any profiles, templates or output file it starts
//! with), the expected `NAME.stdout` and `NAME.stderr`, and, where a file must come out as it
//! went in or as written, `NAME.out/`. trycmd runs the real binary in a copy of `NAME.in/`.
//! `TRYCMD=overwrite cargo test --test cases` rewrites the expectations; review them like code.

#[test]
fn cases() {
    let count = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases"))
        .expect("tests/cases exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert!(count >= 40, "the suite must cover every kind of mistake");
    trycmd::TestCases::new()
        .register_bin("muster", trycmd::cargo::cargo_bin!("muster"))
        .case("tests/cases/*.toml");
}
