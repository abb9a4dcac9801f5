//! The example workspaces shipped in `examples/` check cleanly.

use attain_core::diag::{render, SourceFile};
use attain_core::plan::check_workspace;
use std::path::Path;

fn load(dir: &str) -> (SourceFile, Vec<SourceFile>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let ws = SourceFile::new("attain.toml", read(&root.join("attain.toml")));
    let mut plans: Vec<_> = std::fs::read_dir(root.join("plans"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_else(|_| Vec::new());
    plans.sort();
    let plans = plans
        .iter()
        .map(|p| {
            SourceFile::new(
                format!(
                    "plans/{}",
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
                read(p),
            )
        })
        .collect();
    (ws, plans)
}

#[test]
fn reference_workload_checks() {
    let (ws, plans) = load("examples/reference-workload");
    let checked = check_workspace(&ws, &plans);
    assert_eq!(render(&checked.diagnostics), "");
    let w = checked.workspace.map(|w| (w.plans.len(), w.measures.len()));
    assert_eq!(w, Some((8, 11)));
}

#[test]
fn brief_checks() {
    let (ws, plans) = load("examples/brief");
    let checked = check_workspace(&ws, &plans);
    assert_eq!(render(&checked.diagnostics), "");
    let w = checked.workspace.map(|w| (w.plans.len(), w.measures.len()));
    assert_eq!(w, Some((12, 14)));
}
