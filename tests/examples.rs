//! Every example route in `examples/routes/` loads and validates, so
//! `npm start` never seeds a route the worker would refuse.

use sipgate_router::route::Rule;

#[test]
fn example_routes_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/routes");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let json = std::fs::read_to_string(&path).unwrap();
            if let Err(error) = Rule::from_json(&json) {
                panic!("{}: {error}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "expected the example routes, found {checked}");
}
