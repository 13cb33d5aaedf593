//! The crate's modules import one way: each `use crate::…` in a module
//! names only modules before it in [`ORDER`] (the order `src/lib.rs`
//! states). A new import that runs back up the layers fails here.

use std::fs;
use std::path::Path;

const ORDER: [&str; 14] = [
    "real",
    "error",
    "sample",
    "data",
    "linalg",
    "covariance",
    "estep",
    "mixture",
    "stats",
    "mstep",
    "fit",
    "online",
    "init",
    "serial",
];

/// The module a source file belongs to: its file name, or its folder's.
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let relative = path.strip_prefix(&src).unwrap();
    let first = relative.components().next().unwrap();
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_one_way() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut checked = 0;
    for path in files {
        let module = module_of(&path);
        if module == "lib" {
            continue;
        }
        let rank = ORDER
            .iter()
            .position(|m| *m == module)
            .unwrap_or_else(|| panic!("{}: module {module} not in ORDER", path.display()));
        let text = fs::read_to_string(&path).unwrap();
        // Only the library code, not the unit tests at the end of a file.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines() {
            let Some(rest) = line.trim().strip_prefix("use crate::") else {
                continue;
            };
            let used: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let used_rank = ORDER
                .iter()
                .position(|m| *m == used)
                .unwrap_or_else(|| panic!("{}: imports unknown module {used}", path.display()));
            assert!(
                used_rank < rank || used == module,
                "{} ({module}) imports {used}, which comes after it",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} imports seen");
}
