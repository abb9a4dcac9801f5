//! What several test files need: the example workspaces shipped in
//! `examples/`, read from disk.
#![allow(dead_code, clippy::panic)]

use attain_core::diag::{render, SourceFile};
use attain_core::plan::{check_workspace, Workspace};
use std::path::Path;

/// `DIR/attain.toml` and `DIR/plans/*.toml` (in name order) of an example
/// workspace (`examples/brief`), named as `attain check -w DIR` names them.
pub fn example_sources(dir: &str) -> (SourceFile, Vec<SourceFile>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let ws = format!("{dir}/attain.toml");
    let ws = SourceFile::new(ws.clone(), read(&ws));
    let mut names: Vec<String> = std::fs::read_dir(root.join(dir).join("plans"))
        .unwrap_or_else(|e| panic!("{dir}/plans: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let plans = names
        .iter()
        .map(|n| {
            let path = format!("{dir}/plans/{n}");
            SourceFile::new(path.clone(), read(&path))
        })
        .collect();
    (ws, plans)
}

/// An example workspace, checked.
pub fn example_workspace(dir: &str) -> Workspace {
    let (ws, plans) = example_sources(dir);
    let checked = check_workspace(&ws, &plans);
    match checked.workspace {
        Some(w) => w,
        None => panic!("{dir} does not check:\n{}", render(&checked.diagnostics)),
    }
}
