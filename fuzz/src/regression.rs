//! Stored regressions: one JSON document per input, holding the case (the
//! values a target feeds to gaussmix, `crate::case`), never the fuzzer's
//! bytes, so a change to the input types cannot turn a stored regression
//! into another input. Replayed by [`replay`] (from `tests/regressions.rs`,
//! or from a target binary with `GAUSSMIX_FUZZ_REPLAY`, see
//! [`replay_from_env`]), which deserialises each document (a document that
//! no longer fits the case types fails, loudly) and runs it through the
//! target's checks with every known-bug tolerance off
//! ([`crate::known`]): a `fixed` document must pass, an `open` one (a
//! library bug not fixed yet) must still fail, so that the fix marks it
//! `fixed`.
//!
//! ```json
//! {
//!   "target": "fit",
//!   "status": "fixed",
//!   "note": "what the input once broke",
//!   "input": { "precision": "f32", "case": { "kind": "full", … } }
//! }
//! ```

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stored regression.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Regression<C> {
    /// The target that replays it: `fit`, `inference`, `construction` or
    /// `sample` (also the folder it is stored in).
    pub target: String,
    /// `fixed`: the case must pass. `open`: a library bug not fixed yet;
    /// the case must still fail (with every known-bug tolerance of the
    /// targets off), so that whoever fixes it marks it `fixed`.
    pub status: Status,
    /// What the input once broke, and when.
    pub note: String,
    /// The case, `{"precision": "f32" | "f64", "case": …}`.
    pub input: C,
}

/// Whether a regression's bug is fixed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fixed,
    Open,
}

/// The document as JSON text: objects one key per line, arrays of plain
/// values on one line, arrays of those one per line.
pub fn to_text<C: Serialize>(doc: &Regression<C>) -> String {
    let value = serde_json::to_value(doc).expect("a case serialises");
    let mut out = String::new();
    write_value(&mut out, &value, 0);
    out.push('\n');
    out
}

fn flat(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Array(items) if items.iter().all(flat) => {
            let inner: Vec<String> = items.iter().map(Value::to_string).collect();
            write!(out, "[{}]", inner.join(", ")).unwrap();
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_value(out, item, indent + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            write!(out, "{}]", pad(indent)).unwrap();
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                write!(out, "{}{}: ", pad(indent + 1), Value::String(key.clone())).unwrap();
                write_value(out, item, indent + 1);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            write!(out, "{}}}", pad(indent)).unwrap();
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Parses a stored document (an error names what does not fit the case
/// types: an unknown or missing field, a value that is not of its
/// precision, …).
pub fn from_text<C: for<'de> Deserialize<'de>>(text: &str) -> Result<Regression<C>, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// With the environment variable `GAUSSMIX_FUZZ_JSON=PATH`, writes each
/// executed input's case to `PATH` as a regression document (the last one
/// executed stays): run a target binary on one crash file to get the
/// document to store under `regressions/TARGET/`.
pub fn dump<C: Serialize>(target: &str, input: &C) {
    static PATH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let Some(path) = PATH.get_or_init(|| std::env::var("GAUSSMIX_FUZZ_JSON").ok()) else {
        return;
    };
    let doc = Regression {
        target: target.to_string(),
        status: Status::Open,
        note: String::new(),
        input,
    };
    std::fs::write(path, to_text(&doc)).expect("GAUSSMIX_FUZZ_JSON is writable");
}

/// What replaying one document found.
#[derive(Debug)]
pub enum Outcome {
    /// A `fixed` document passed, or an `open` one failed (its message).
    AsExpected(Status, Option<String>),
    /// An `open` document passed: the bug looks fixed.
    OpenPasses,
    /// A `fixed` document failed (the panic message), or the document does
    /// not parse (why).
    Fails(String),
}

/// Parses `text` as a document of `target` and runs its case.
pub fn replay_document(target: &str, text: &str) -> Outcome {
    use crate::targets::{construction, fit, inference, sample};
    fn parse<C: for<'de> Deserialize<'de>>(
        target: &str,
        text: &str,
    ) -> Result<(Status, C), String> {
        let doc: Regression<C> = from_text(text)?;
        if doc.target != target {
            return Err(format!(
                "a \"{}\" document in the {target} folder",
                doc.target
            ));
        }
        Ok((doc.status, doc.input))
    }
    /// A parsed document: its status and its case, ready to run.
    type Parsed = Result<(Status, Box<dyn FnOnce()>), String>;
    let parsed: Parsed = match target {
        fit::NAME => parse(target, text)
            .map(|(s, d): (_, fit::Doc)| (s, Box::new(move || fit::run(&d)) as Box<dyn FnOnce()>)),
        inference::NAME => parse(target, text).map(|(s, d): (_, inference::Doc)| {
            (s, Box::new(move || inference::run(&d)) as Box<dyn FnOnce()>)
        }),
        construction::NAME => parse(target, text).map(|(s, d): (_, construction::Doc)| {
            (
                s,
                Box::new(move || construction::run(&d)) as Box<dyn FnOnce()>,
            )
        }),
        sample::NAME => parse(target, text).map(|(s, d): (_, sample::Doc)| {
            (s, Box::new(move || sample::run(&d)) as Box<dyn FnOnce()>)
        }),
        other => Err(format!("no target {other:?}")),
    };
    let (status, run) = match parsed {
        Ok(p) => p,
        Err(why) => return Outcome::Fails(format!("does not parse: {why}")),
    };
    crate::known::set_strict();
    let result = catch_unwind(AssertUnwindSafe(run)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".to_string())
    });
    match (status, result) {
        (Status::Fixed, Ok(())) => Outcome::AsExpected(status, None),
        (Status::Open, Err(why)) => Outcome::AsExpected(status, Some(why)),
        (Status::Open, Ok(())) => Outcome::OpenPasses,
        (Status::Fixed, Err(why)) => Outcome::Fails(why),
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Replays every document under `root/TARGET/` (every target's folder if
/// `target` is `None`), printing a line per document (`pass`, `open`,
/// `FAIL`); returns how many did what their status says and the names of
/// those that did not. A file that is not `.json` fails.
pub fn replay(root: &Path, target: Option<&str>) -> (usize, Vec<String>) {
    let mut ok = 0;
    let mut failed = Vec::new();
    for dir in entries(root) {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !dir.is_dir() || target.is_some_and(|t| t != name) {
            continue;
        }
        for path in entries(&dir) {
            let shown = format!(
                "{name}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let outcome = if path.extension().is_some_and(|e| e == "json") {
                match std::fs::read_to_string(&path) {
                    Ok(text) => replay_document(&name, &text),
                    Err(e) => Outcome::Fails(e.to_string()),
                }
            } else {
                Outcome::Fails("not a .json regression document (see fuzz/README.md)".into())
            };
            match outcome {
                Outcome::AsExpected(Status::Fixed, _) => {
                    println!("pass  {shown}");
                    ok += 1;
                }
                Outcome::AsExpected(_, why) => {
                    let why = why.unwrap_or_default();
                    println!(
                        "open  {shown}: fails as expected: {}",
                        why.lines().next().unwrap_or_default()
                    );
                    ok += 1;
                }
                Outcome::OpenPasses => {
                    println!(
                        "FAIL  {shown}: marked open but passes: if the bug is fixed, set its \
                         status to fixed and remove its tolerance (gaussmix_fuzz::known)"
                    );
                    failed.push(shown);
                }
                Outcome::Fails(why) => {
                    println!("FAIL  {shown}: {why}");
                    failed.push(shown);
                }
            }
        }
    }
    (ok, failed)
}

/// The target binaries' init hook: with `GAUSSMIX_FUZZ_REPLAY=DIR` (the
/// `regressions` folder), replays `DIR/TARGET/*.json` and exits, with
/// status 1 if any did not do what its status says (0 documents is not a
/// failure). `.ci/fuzz.sh` uses it, so replaying needs no other build.
pub fn replay_from_env(target: &str) {
    let Ok(root) = std::env::var("GAUSSMIX_FUZZ_REPLAY") else {
        return;
    };
    // libFuzzer's hook aborts on a panic; the replay catches them.
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let (ok, failed) = replay(Path::new(&root), Some(target));
    println!(
        "{target}: {ok} regressions as expected, {} not",
        failed.len()
    );
    std::process::exit(i32::from(!failed.is_empty()));
}
