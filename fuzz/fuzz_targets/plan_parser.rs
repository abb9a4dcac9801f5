//! Fuzzes the plan checker, the first thing to read text a person wrote.
//!
//! The input is a workspace: `attain.toml`, then plan files, separated by
//! lines holding `%%%%` (`.ci/fuzz` seeds the corpus with the examples
//! written this way). Invalid UTF-8 is read lossily, as an editor would
//! show it. Whatever the text, the checker must return, with a workspace
//! exactly when it found no error, and every diagnostic must point inside
//! the file it names. A workspace it accepts must run its plan tests (what
//! `attain test` does next) and the plan lint (what `attain check` does
//! next) without panicking.

#![no_main]

use attain_core::diag::{render, SourceFile};
use attain_core::engine::run_plan_tests;
use attain_core::plan::check_workspace;
use attain_core::plan::lint::lint;
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &str = "\n%%%%\n";
const MAX_PLANS: usize = 32;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split(SEPARATOR);
    let ws = SourceFile::new("attain.toml", parts.next().unwrap_or(""));
    let plans: Vec<SourceFile> = parts
        .take(MAX_PLANS)
        .enumerate()
        .map(|(i, t)| SourceFile::new(format!("plans/p{i:02}.toml"), t))
        .collect();

    let checked = check_workspace(&ws, &plans);
    let has_error = checked.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(
        checked.workspace.is_some(),
        !has_error,
        "a workspace must come back exactly when there is no error"
    );
    for d in &checked.diagnostics {
        let loc = &d.location;
        let file = std::iter::once(&ws)
            .chain(plans.iter())
            .find(|f| f.path == loc.file)
            .unwrap_or_else(|| panic!("diagnostic names an unknown file: {d}"));
        let lines: Vec<&str> = file.text.split('\n').collect();
        assert!(loc.line <= lines.len(), "line out of the file: {d}");
        if loc.line > 0 {
            let len = lines[loc.line - 1].chars().count();
            assert!(loc.column <= len + 1, "column out of the line: {d}");
        }
    }
    let _ = render(&checked.diagnostics);

    if let Some(ws) = checked.workspace {
        let _ = run_plan_tests(&ws);
        let found = lint(&ws);
        let _ = render(&found.reported);
        let _ = render(&found.accepted_as_notes());
    }
});
