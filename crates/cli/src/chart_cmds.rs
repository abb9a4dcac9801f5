//! `attain chart`: SVG pictures of plans and payouts, drawn by
//! `attain_core::chart` and written here.

use crate::data_source::DataSource;
use crate::workspace::{self, Failed};
use crate::WorkspaceArg;
use attain_core::chart::{self, plans, Chart};
use attain_core::diag::{Diagnostic, Location, SourceFile};
use attain_core::plan::{check_workspace, Component, Workspace};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ChartCommand {
    /// A component's payout against attainment, 0-250% of quota, with its
    /// cliffs; beside the same component in a candidate plan.
    Curve {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The plan id.
        #[arg(long)]
        plan: String,
        /// The component id.
        #[arg(long)]
        component: String,
        /// Another plan to draw beside it: a plan id of the workspace, or a
        /// plan file (it replaces the workspace's plan of the same id).
        #[arg(long)]
        candidate: Option<String>,
        /// The SVG file to write (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Histograms of attainment and of payouts across people, from data
    /// files (as `attain calc`) or from the store's latest run.
    Distribution {
        /// Data files as for `attain calc`; without them, the store's
        /// latest run is read.
        #[command(flatten)]
        data: DataSource,
        /// Only the payouts of people on this plan.
        #[arg(long)]
        plan: Option<String>,
        /// Only this component's payouts.
        #[arg(long)]
        component: Option<String>,
        /// Only this period, e.g. 2026-Q2.
        #[arg(long)]
        period: Option<String>,
        /// The SVG file to write (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

fn problem(place: &str, message: String) -> Failed {
    Failed(vec![Diagnostic::error(Location::file(place), message)])
}

pub fn chart(command: ChartCommand) -> Result<(), Failed> {
    match command {
        ChartCommand::Curve {
            workspace,
            plan,
            component,
            candidate,
            out,
        } => {
            if let Some(path) = &out {
                // A candidate that names a file is read too.
                let file = candidate.as_deref().map(Path::new).filter(|p| p.is_file());
                let files: Vec<(&str, &Path)> =
                    file.iter().map(|p| ("candidate plan file", *p)).collect();
                crate::workspace::refuse_output_onto_input(
                    "--out",
                    path,
                    Some(&workspace.workspace),
                    &files,
                )?;
            }
            curve(
                &workspace.workspace,
                &plan,
                &component,
                candidate.as_deref(),
                out.as_deref(),
            )
        }
        ChartCommand::Distribution {
            data,
            plan,
            component,
            period,
            out,
        } => {
            if let Some(path) = &out {
                data.refuse_output("--out", path)?;
            }
            let (ws, warnings) = workspace::load(&data.at.workspace)?;
            crate::print_warnings(&warnings);
            let year = crate::data_source::fiscal_year(&ws, data.year)?;
            check_selection(&ws, plan.as_deref(), component.as_deref())?;
            if let Some(p) = &period {
                if attain_core::calendar::Period::parse(p).is_none() {
                    return Err(Failed(vec![Diagnostic::error(
                        Location::file("--period"),
                        format!("`{p}` is not a period"),
                    )
                    .with_hint("write `2026-Q2`, `2026-M05` or `2026`")]));
                }
            }
            let rows = match data.files()? {
                Some((participants, transactions)) => {
                    let inputs = crate::Inputs {
                        workspace: WorkspaceArg {
                            workspace: data.at.workspace.clone(),
                        },
                        participants: participants.to_path_buf(),
                        transactions: transactions.to_path_buf(),
                        quotas: data.quotas.clone(),
                        assignments: data.assignments.clone(),
                        year: Some(year),
                    };
                    let l = crate::load_and_calculate(&inputs)?;
                    plans::rows_of(&l.ws, &l.people, &l.calc)
                }
                None => stored_rows(&data.at)?,
            };
            let selection = plans::Selection {
                plan,
                component,
                period,
            };
            let Some((attainment, payouts)) =
                plans::distribution(&rows, &selection, &year.to_string(), &ws.money())
            else {
                return Err(problem(
                    "chart",
                    "no payout matches the plan, component and period asked for".into(),
                ));
            };
            write(out.as_deref(), &chart::stack(&[&attainment, &payouts]))
        }
    }
}

fn check_selection(
    ws: &Workspace,
    plan: Option<&str>,
    component: Option<&str>,
) -> Result<(), Failed> {
    if let Some(p) = plan {
        if ws.plan(p).is_none() {
            let ids: Vec<&str> = ws.plans.iter().map(|p| p.id.as_str()).collect();
            return Err(problem(
                "--plan",
                format!("no plan `{p}`; plans: {}", ids.join(", ")),
            ));
        }
    }
    if let Some(c) = component {
        let known = ws
            .plans
            .iter()
            .filter(|p| plan.is_none_or(|id| p.id == id))
            .any(|p| p.components.iter().any(|x| x.id == c));
        if !known {
            return Err(problem(
                "--component",
                format!("no component `{c}` in the plans asked for"),
            ));
        }
    }
    Ok(())
}

/// The payouts of the store's latest run (attainment read back from each
/// stored explanation).
fn stored_rows(at: &crate::store_cmds::StoreArg) -> Result<Vec<plans::PayoutRow>, Failed> {
    let mut s = crate::store_cmds::open(at)?;
    let fail = |e: attain_store::Error| problem("store", e.to_string());
    let Some(run) = s.latest_run().map_err(fail)? else {
        return Err(problem(
            "store",
            "no run recorded: pass --participants and --transactions, or run `attain run` first"
                .into(),
        ));
    };
    let rows = s.run_results(run, None).map_err(fail)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.kind != "adjustment")
        .map(|r| plans::PayoutRow {
            attainment: r.explanation.iter().find_map(|l| {
                let pct = l.trim().strip_prefix("attainment = ")?.strip_suffix('%')?;
                attain_core::money::parse_amount(pct)
                    .ok()
                    .map(|v| v / rust_decimal::Decimal::ONE_HUNDRED)
            }),
            participant: r.participant,
            plan: r.plan,
            component: r.component,
            period: r.period,
            amount: r.amount,
        })
        .collect())
}

fn curve(
    dir: &Path,
    plan: &str,
    component: &str,
    candidate: Option<&str>,
    out: Option<&Path>,
) -> Result<(), Failed> {
    let (ws, warnings) = workspace::load(dir)?;
    crate::print_warnings(&warnings);
    let find = |ws: &Workspace, plan: &str, what: &str| -> Result<usize, Failed> {
        let p = ws.plan(plan).ok_or_else(|| {
            let ids: Vec<&str> = ws.plans.iter().map(|p| p.id.as_str()).collect();
            problem(what, format!("no plan `{plan}`; plans: {}", ids.join(", ")))
        })?;
        if !ws.plans[p].components.iter().any(|c| c.id == component) {
            let ids: Vec<&str> = ws.plans[p]
                .components
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            return Err(problem(
                "--component",
                format!(
                    "plan `{plan}` has no component `{component}`; its components: {}",
                    ids.join(", ")
                ),
            ));
        }
        Ok(p)
    };
    let current = find(&ws, plan, "--plan")?;
    let candidate_ws = match candidate {
        None => None,
        Some(c) if ws.plan(c).is_some() && !c.ends_with(".toml") => Some((None, c.to_string())),
        Some(path) => {
            let (cws, id) = workspace_with(dir, Path::new(path))?;
            Some((Some(cws), id))
        }
    };
    fn component_of<'w>(ws: &'w Workspace, p: usize, id: &str) -> Option<&'w Component> {
        ws.plans[p].components.iter().find(|c| c.id == id)
    }
    let mut lines = Vec::new();
    let current_component = component_of(&ws, current, component)
        .ok_or_else(|| problem("--component", component.to_string()))?;
    lines.push(plans::CurveOf {
        ws: &ws,
        component: current_component,
        label: format!("current: plan {plan}"),
    });
    let owned;
    if let Some((cws, id)) = candidate_ws {
        let cws_ref: &Workspace = match cws {
            Some(w) => {
                owned = w;
                &owned
            }
            None => &ws,
        };
        let p = find(cws_ref, &id, "--candidate")?;
        let c = component_of(cws_ref, p, component)
            .ok_or_else(|| problem("--candidate", component.to_string()))?;
        let label = match candidate {
            Some(text) if text.ends_with(".toml") => format!("candidate: {text}"),
            _ => format!("candidate: plan {id}"),
        };
        lines.push(plans::CurveOf {
            ws: cws_ref,
            component: c,
            label,
        });
    }
    let title = format!("Payout curve of {component} (plan {plan})");
    let chart = plans::payout_curve(&lines, &title).map_err(|e| problem("chart", e))?;
    write(out, &chart.to_svg())
}

/// The workspace with a candidate plan file in place of the plan of the
/// same id (or beside the others, for a new id), checked.
fn workspace_with(dir: &Path, path: &Path) -> Result<(Workspace, String), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| workspace::io_error(path, &e))?;
    let Some(id) = attain_core::plan::syntax::plan_id(&text) else {
        return Err(problem(
            &path.display().to_string(),
            "no `[plan] id` in this file".into(),
        ));
    };
    let (ws_src, plan_files) = workspace::read_sources(dir)?;
    let mut files: Vec<SourceFile> = plan_files
        .into_iter()
        .filter(|f| attain_core::plan::syntax::plan_id(&f.text).as_deref() != Some(id.as_str()))
        .collect();
    files.push(SourceFile::new(path.display().to_string(), text));
    let checked = check_workspace(&ws_src, &files);
    match checked.workspace {
        Some(ws) => Ok((ws, id)),
        None => Err(Failed(checked.diagnostics)),
    }
}

fn write(out: Option<&Path>, svg: &str) -> Result<(), Failed> {
    match out {
        Some(path) => {
            workspace::write_atomically(path, |w| w.write_all(svg.as_bytes()))?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
        None => {
            say_raw!("{svg}");
            Ok(())
        }
    }
}
