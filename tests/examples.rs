//! Every rules document in `examples/` is valid and draws no warning, so
//! `npm start` never publishes one the worker would refuse.

#[test]
fn example_documents_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let json = std::fs::read_to_string(&path).unwrap();
            match sipgate_router::rules::load(&json) {
                Ok(checked) => assert!(
                    checked.warnings.is_empty(),
                    "{}: {:?}",
                    path.display(),
                    checked.warnings
                ),
                Err(error) => panic!("{}: {error}", path.display()),
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "expected the office and hotline examples, found {checked}"
    );
}
