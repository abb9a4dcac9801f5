//! Plan modeling commands: `attain plan clone`, `attain whatif` and
//! `attain sweep`. Glue over `attain_core::model`; nothing is recorded.

use crate::data_source::{relative, DataSource};
use crate::store_cmds::{self, StoreArg};
use crate::workspace::{self, Failed};
use attain_core::calendar::Period;
use attain_core::diag::{Diagnostic, Location, SourceFile};
use attain_core::model::{self, compare, render, sweep, Basis, Scope};
use attain_core::plan::Workspace;
use attain_store::laps::Laps;
use clap::Args;
use std::path::{Path, PathBuf};

/// What a what-if or a sweep reads, and how it reports.
#[derive(Args)]
pub struct ModelData {
    #[command(flatten)]
    pub source: DataSource,
    /// Only count payouts of these periods (e.g. 2026-Q2; repeatable);
    /// default: the whole year.
    #[arg(long = "period")]
    pub periods: Vec<String>,
    /// table, csv or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Where to write the report (default: standard output).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// A measure to count as credited revenue, summed over everyone (e.g.
    /// `nrr`, so that churn counts against it); default: every credit.
    #[arg(long)]
    pub revenue: Option<String>,
}

impl ModelData {
    /// Refuses `--out` naming a file the command reads.
    pub fn refuse_outputs(&self) -> Result<(), Failed> {
        match &self.out {
            Some(path) => self.source.refuse_output("--out", path),
            None => Ok(()),
        }
    }
}

fn error(place: &str, message: impl Into<String>) -> Failed {
    Failed(vec![Diagnostic::error(Location::file(place), message)])
}

fn error_hint(place: &str, message: impl Into<String>, hint: &str) -> Failed {
    Failed(vec![
        Diagnostic::error(Location::file(place), message).with_hint(hint)
    ])
}

fn scope(data: &ModelData, year: i16) -> Result<Scope, Failed> {
    let mut periods = Vec::new();
    for text in &data.periods {
        let Some(p) = Period::parse(text) else {
            return Err(error_hint(
                "--period",
                format!("`{text}` is not a period"),
                "write `2026-Q2`, `2026-M05` or `2026`",
            ));
        };
        if p.year != year {
            return Err(error_hint(
                "--period",
                format!("`{text}` is not in fiscal year {year}"),
                "pass `--year` to model another year",
            ));
        }
        periods.push(p);
    }
    Ok(Scope { periods })
}

enum Format {
    Table,
    Csv,
    Json,
}

fn format(text: &str) -> Result<Format, Failed> {
    match text {
        "table" | "text" => Ok(Format::Table),
        "csv" => Ok(Format::Csv),
        "json" => Ok(Format::Json),
        other => Err(error_hint(
            "--format",
            format!("`{other}` is not a report format"),
            "table, csv or json",
        )),
    }
}

fn emit(out: Option<&Path>, text: &str) -> Result<(), Failed> {
    match out {
        Some(path) => {
            workspace::write_atomically(path, |w| w.write_all(text.as_bytes()))?;
            eprintln!("written to {}", path.display());
            Ok(())
        }
        None => {
            say_raw!("{text}");
            Ok(())
        }
    }
}

fn run_errors(errors: Vec<attain_core::engine::RunError>) -> Failed {
    Failed(
        errors
            .into_iter()
            .map(|e| Diagnostic::error(Location::file("calculation"), e.message))
            .collect(),
    )
}

/// Plan ids named by `--candidate` texts (`NEW`, `NEW=OLD`, `A,B=C`).
fn candidate_ids(specs: &[String]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|s| s.split(','))
        .map(|one| one.split('=').next().unwrap_or("").trim().to_string())
        .collect()
}

/// Each `--candidate` is a scenario: `NEW` (replacing the plan it was
/// cloned from), `NEW=OLD`, or several joined by commas.
fn scenarios(ws: &Workspace, specs: &[String]) -> Result<Vec<compare::Scenario>, Failed> {
    let plans: Vec<&str> = ws.plans.iter().map(|p| p.id.as_str()).collect();
    let find = |id: &str| {
        ws.plan(id).ok_or_else(|| {
            error_hint(
                "--candidate",
                format!("no plan `{id}` in the workspace"),
                &format!("plans: {}", plans.join(", ")),
            )
        })
    };
    let mut out = Vec::new();
    for spec in specs {
        let mut replacements = Vec::new();
        for one in spec.split(',') {
            let (new, old) = match one.split_once('=') {
                Some((n, o)) => (n.trim(), Some(o.trim())),
                None => (one.trim(), None),
            };
            let candidate = find(new)?;
            let replaced = match old {
                Some(o) => find(o)?,
                None => match &ws.plans[candidate].cloned_from {
                    Some(c) => find(&c.plan)?,
                    None => {
                        return Err(error_hint(
                            "--candidate",
                            format!(
                            "plan `{new}` was not cloned from another: which plan does it replace?"
                        ),
                            &format!("write `--candidate {new}=PLAN`"),
                        ))
                    }
                },
            };
            if replaced == candidate {
                return Err(error(
                    "--candidate",
                    format!("plan `{new}` cannot replace itself"),
                ));
            }
            if replacements.iter().any(|(o, _)| *o == replaced) {
                return Err(error(
                    "--candidate",
                    format!("`{spec}` replaces plan `{}` twice", ws.plans[replaced].id),
                ));
            }
            replacements.push((replaced, candidate));
        }
        out.push(compare::Scenario { replacements });
    }
    Ok(out)
}

pub fn whatif(
    data: &ModelData,
    candidates: &[String],
    by: Option<&str>,
    svg: Option<&Path>,
) -> Result<(), Failed> {
    let format = format(&data.format)?;
    let laps = Laps::new();
    let (l, txns) = data.source.load(&candidate_ids(candidates))?;
    laps.lap("loaded");
    let scenarios = scenarios(&l.ws, candidates)?;
    let scope = scope(data, l.year)?;
    let group = match by {
        Some(field) => {
            if !l.ws.participants.fields.iter().any(|f| f.name == field) {
                let names: Vec<&str> =
                    l.ws.participants
                        .fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect();
                return Err(error_hint(
                    "--by",
                    format!("participants have no field `{field}`"),
                    &format!("fields: {}", names.join(", ")),
                ));
            }
            Some(field)
        }
        None => {
            l.ws.participants
                .fields
                .iter()
                .any(|f| f.name == "role")
                .then_some("role")
        }
    };
    let mut basis =
        Basis::new(&l.ws, &l.people, &txns, &l.overrides, l.year).map_err(run_errors)?;
    count_revenue(&mut basis, data, &scope)?;
    laps.lap("credits, measures and the plans in force");
    let mut results = Vec::new();
    for s in &scenarios {
        results.push(compare::compare(&mut basis, s, &scope, group).map_err(run_errors)?);
    }
    laps.lap("scenarios");
    report_work(&laps, &basis.work);
    let money = l.ws.money();
    let text = match format {
        Format::Table => results
            .iter()
            .map(|c| render::comparison_table(c, &money))
            .collect::<Vec<_>>()
            .join(&format!("\n{}\n\n", "-".repeat(72))),
        Format::Csv => {
            let mut text = String::new();
            for (i, c) in results.iter().enumerate() {
                let csv = render::comparison_csv(c);
                // One header for all scenarios.
                let body = if i == 0 {
                    csv.as_str()
                } else {
                    csv.split_once('\n').map_or("", |(_, rest)| rest)
                };
                text.push_str(body);
            }
            text
        }
        Format::Json => render::comparisons_json(&results),
    };
    if let Some(path) = svg {
        let svg = pictures(&l.ws, &results);
        workspace::write_atomically(path, |w| w.write_all(svg.as_bytes()))?;
        eprintln!("wrote {}", path.display());
    }
    emit(data.out.as_deref(), &text)?;
    // A large what-if is not freed piece by piece just before exit.
    std::mem::forget((l, txns));
    Ok(())
}

fn report_work(laps: &Laps, work: &model::Work) {
    if laps.on() {
        eprintln!(
            "work: {} credit pass(es), {} measure table(s), {} quota table(s) recomputed, {} evaluations",
            work.credit_passes, work.measure_tables, work.quota_tables, work.evaluations
        );
    }
}

pub fn sweep(data: &ModelData, vary: &[String]) -> Result<(), Failed> {
    let format = format(&data.format)?;
    let laps = Laps::new();
    let (l, txns) = data.source.load(&[])?;
    laps.lap("loaded");
    let scope = scope(data, l.year)?;
    let mut parameters = Vec::new();
    for spec in vary {
        parameters.push(sweep::parse_parameter(spec, &l.ws).map_err(|e| error("--vary", e))?);
    }
    let mut basis =
        Basis::new(&l.ws, &l.people, &txns, &l.overrides, l.year).map_err(run_errors)?;
    count_revenue(&mut basis, data, &scope)?;
    laps.lap("credits, measures and the plans in force");
    let result = sweep::sweep(&mut basis, &parameters, &scope).map_err(|e| error("--vary", e))?;
    laps.lap("sweep");
    report_work(&laps, &basis.work);
    let text = match format {
        Format::Table => render::sweep_table(&result, &l.ws.money()),
        Format::Csv => render::sweep_csv(&result),
        Format::Json => render::sweep_json(&result),
    };
    emit(data.out.as_deref(), &text)?;
    // A large what-if is not freed piece by piece just before exit.
    std::mem::forget((l, txns));
    Ok(())
}

/// `attain plan clone SOURCE NEW_ID`: a copy of SOURCE's file, with the
/// new id and where it came from; comments and layout kept.
pub fn clone_plan(
    at: &StoreArg,
    source: &str,
    new_id: &str,
    name: Option<&str>,
) -> Result<(), Failed> {
    let dir = &at.workspace;
    let (ws, _) = workspace::load(dir)?;
    let Some(plan) = ws.plan(source) else {
        let ids: Vec<&str> = ws.plans.iter().map(|p| p.id.as_str()).collect();
        return Err(error_hint(
            "attain plan clone",
            format!("no plan `{source}` in the workspace"),
            &format!("plans: {}", ids.join(", ")),
        ));
    };
    if new_id.is_empty()
        || !new_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(error_hint(
            "attain plan clone",
            format!("`{new_id}` is not a plan id"),
            "use letters, digits, `_` and `-`",
        ));
    }
    if ws.plan(new_id).is_some() {
        return Err(error(
            "attain plan clone",
            format!("a plan `{new_id}` already exists; nothing was changed"),
        ));
    }
    let source_file = ws.plans[plan].file.clone();
    let text = std::fs::read_to_string(&source_file)
        .map_err(|e| workspace::io_error(Path::new(&source_file), &e))?;
    let target = Path::new(&source_file)
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{new_id}.toml"));
    if target.exists() {
        return Err(error(
            &target.display().to_string(),
            "this file already exists; nothing was changed",
        ));
    }
    let path_in_ws = relative(dir, &source_file);
    // The source's version in the store, when there is a store holding it.
    let has_store = at.store.is_some() || dir.join("attain.db").exists();
    let version = if has_store {
        let mut store = store_cmds::open(at)?;
        store
            .stored_version(&path_in_ws, &text)
            .map_err(|e| Failed(e.0))?
    } else {
        None
    };
    let origin = match version {
        Some(v) => format!(
            "cloned_from = {{ plan = \"{source}\", file = \"{path_in_ws}\", version = {v} }}"
        ),
        None => format!(
            "cloned_from = {{ plan = \"{source}\", file = \"{path_in_ws}\", digest = \"{}\" }}",
            attain_store::file_digest(&text)
        ),
    };
    let cloned = attain_core::plan::clone_text(&text, new_id, name, &origin).ok_or_else(|| {
        error(
            &source_file,
            "no `id = ...` line in the [plan] table to rewrite",
        )
    })?;
    // The workspace must still check with the copy in it.
    let (ws_src, mut plans) = workspace::read_sources(dir)?;
    let shown = target.display().to_string();
    plans.push(SourceFile::new(shown.clone(), cloned.clone()));
    let checked = attain_core::plan::check_workspace(&ws_src, &plans);
    if checked.workspace.is_none() {
        return Err(Failed(checked.diagnostics));
    }
    workspace::write_atomically(&target, |w| w.write_all(cloned.as_bytes()))?;
    say!(
        "created {shown}: plan `{new_id}`, a copy of `{source}` ({path_in_ws}{})",
        version.map_or(String::new(), |v| format!(" v{v}"))
    );
    let tests = ws.plans[plan].tests.len();
    if tests > 0 {
        say!(
            "its {} came along: update their expectations with your changes",
            attain_core::report::count(tests, "plan test", "plan tests")
        );
    }
    say!("edit it, then compare: attain whatif --candidate {new_id} ...");
    Ok(())
}

/// `--revenue MEASURE`: what credited revenue counts.
fn count_revenue(basis: &mut Basis, data: &ModelData, scope: &Scope) -> Result<(), Failed> {
    let Some(name) = &data.revenue else {
        return Ok(());
    };
    let measure = model::revenue_measure(basis.ws, name).map_err(|e| {
        error_hint(
            "--revenue",
            e,
            "name a measure of credited amounts, like `nrr` or `renewal`",
        )
    })?;
    basis
        .count_revenue_as(measure, scope)
        .map_err(|e| error("--revenue", e))
}

/// The pictures of a what-if, one SVG: for each scenario, how each
/// person's pay changes; then, for each replaced plan, each component
/// whose payout curve the candidate changes, drawn beside it.
fn pictures(ws: &Workspace, results: &[compare::Comparison]) -> String {
    use attain_core::chart::{self, bins, plans, Chart, Histogram, Unit};
    let money = ws.money();
    let mut charts: Vec<Box<dyn Chart>> = Vec::new();
    for c in results {
        let changes: Vec<rust_decimal::Decimal> =
            c.people.iter().map(|p| p.amounts.change()).collect();
        let m = &c.movement;
        charts.push(Box::new(Histogram {
            title: format!("Change in pay per person: {}", c.scenario),
            subtitle: Some(format!(
                "{} gain, {} lose, {} unchanged; {} in all",
                m.gainers,
                m.losers,
                m.unchanged,
                money.format(c.totals.change())
            )),
            x_label: format!("change in pay per person ({})", money.code),
            y_label: "people".into(),
            unit: Unit::Money(money.clone()),
            bins: bins(&changes, 20),
            fill: "#1f5fa8".into(),
        }));
        for (old, new) in &c.replacements {
            let (Some(o), Some(n)) = (ws.plan(old), ws.plan(new)) else {
                continue;
            };
            for current in &ws.plans[o].components {
                let Some(candidate) = ws.plans[n].components.iter().find(|x| x.id == current.id)
                else {
                    continue;
                };
                let lines = [
                    plans::CurveOf {
                        ws,
                        component: current,
                        label: format!("current: plan {old}"),
                    },
                    plans::CurveOf {
                        ws,
                        component: candidate,
                        label: format!("candidate: plan {new}"),
                    },
                ];
                let title = format!("Payout curve of {} ({old} → {new})", current.id);
                // A component the candidate pays alike (an included SPIFF)
                // or that has no curve to draw (no measure) is left out.
                let Ok(curve) = plans::payout_curve(&lines, &title) else {
                    continue;
                };
                if curve.series.len() == 2 && curve.series[0].points != curve.series[1].points {
                    charts.push(Box::new(curve));
                }
            }
        }
    }
    let parts: Vec<&dyn Chart> = charts.iter().map(|c| c.as_ref()).collect();
    chart::stack(&parts)
}
