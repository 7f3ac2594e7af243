//! The source tree's layers, checked: a module imports only modules of
//! lower layers (and itself), so the flow of a push runs one way —
//! protocol and time at the bottom, the edge shell at the top.

use std::fs;
use std::path::Path;

/// Every top-level module of `src/` and its layer; lower numbers are lower.
const LAYERS: &[(&str, u8)] = &[
    ("log", 0),
    ("codec", 0),
    ("setting", 1),
    ("protocol", 1),
    ("time", 1),
    ("trust", 2),
    ("rules", 2),
    ("store", 3),
    ("journal", 3),
    ("http", 4),
    ("edge", 5),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

/// `(file, the module it belongs to, every crate module it imports)`.
fn imports(dir: &Path, found: &mut Vec<(String, String, Vec<String>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            imports(&path, found);
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let relative = path.strip_prefix("src").unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let text = fs::read_to_string(&path).unwrap();
        // Tests may reach anywhere; only what ships is layered.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
        let used = shipped
            .match_indices("crate::")
            .filter_map(|(at, _)| {
                let rest = &shipped[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect();
        found.push((relative.display().to_string(), module, used));
    }
}

#[test]
fn every_module_imports_only_lower_layers() {
    let mut found = Vec::new();
    imports(Path::new("src"), &mut found);
    let mut wrong = Vec::new();
    for (file, module, used) in &found {
        let Some(own) = layer(module) else {
            // lib.rs, testing.rs and the CLI stand outside the layers.
            continue;
        };
        for name in used {
            match layer(name) {
                Some(theirs) if name == module || theirs < own => {}
                Some(theirs) => wrong.push(format!(
                    "{file} ({module}, layer {own}) imports {name} (layer {theirs})"
                )),
                None => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run across or up:\n{}",
        wrong.join("\n")
    );
    assert!(found.len() > 40, "read {} files", found.len());
}

#[test]
fn every_top_level_module_has_a_layer() {
    for entry in fs::read_dir("src").unwrap() {
        let name = entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if ["lib", "testing", "bin"].contains(&name.as_str()) || name.ends_with(".pem") {
            continue;
        }
        assert!(layer(&name).is_some(), "src/{name} has no layer in LAYERS");
    }
}
