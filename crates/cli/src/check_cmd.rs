//! `attain check`: the checker's problems, then the plan lint's findings.

use crate::workspace::{self, Failed};
use crate::WorkspaceArg;
use attain_core::diag::{render, Diagnostic, Location, Severity};
use attain_core::report;
use clap::Args;

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Fail (exit 1) when there is any warning, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also print the lint findings that components `accept`.
    #[arg(long)]
    pub show_accepted: bool,
}

pub fn check(args: &CheckArgs) -> Result<(), Failed> {
    let (ws, mut found) = workspace::load(&args.workspace.workspace)?;
    let lint = attain_core::plan::lint::lint(&ws);
    let accepted_notes = lint.accepted_as_notes();
    let accepted = accepted_notes.len();
    found.extend(lint.reported);
    let warnings = found
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let notes = found.len() - warnings;
    if !found.is_empty() {
        eprint!("{}", render(&found));
    }
    if args.show_accepted {
        eprint!("{}", render(&accepted_notes));
    }
    let components: usize = ws.plans.iter().map(|p| p.components.len()).sum();
    let mut counts = vec![
        report::count(ws.plans.len(), "plan", "plans"),
        report::count(components, "component", "components"),
        report::count(ws.measures.len(), "measure", "measures"),
        report::count(ws.quotas.len(), "quota", "quotas"),
    ];
    if warnings > 0 {
        counts.push(report::count(warnings, "warning", "warnings"));
    }
    if notes > 0 {
        counts.push(report::count(notes, "note", "notes"));
    }
    if accepted > 0 {
        counts.push(report::count(
            accepted,
            "accepted finding",
            "accepted findings",
        ));
    }
    if args.deny_warnings && warnings > 0 {
        return Err(Failed(vec![Diagnostic::error(
            Location::file(args.workspace.workspace.display().to_string()),
            format!(
                "{} and `--deny-warnings`",
                report::count(warnings, "warning", "warnings")
            ),
        )]));
    }
    say!("ok: {}", counts.join(", "));
    Ok(())
}
