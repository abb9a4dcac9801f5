//! `attain`: the command line, glue over `attain-core`.

/// Prints a line to standard output; a closed pipe (`attain … | head`)
/// ends the process quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => { $crate::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// [`say!`] without the line end.
macro_rules! say_raw {
    ($($arg:tt)*) => { $crate::write_out(format_args!($($arg)*)) };
}

mod chart_cmds;
mod check_cmd;
mod data_source;
mod demo_data;
mod embedded;
mod forecast_cmds;
mod modeling_cmds;
mod store_cmds;
mod workspace;

use attain_core::calendar::Period;
use attain_core::diag::{render, Diagnostic, Location};
use attain_core::engine::{self, RunError};
use attain_core::report;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use workspace::Failed;

#[derive(Parser)]
#[command(
    name = "attain",
    version,
    about = "Incentive compensation: plans in, exact explained payouts out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a workspace's plans: names, types, tier tables, cycles; then
    /// lint what they pay (cliffs, dead zones, pay that falls).
    Check(check_cmd::CheckArgs),
    /// Calculate payouts from data files into a CSV.
    ///
    /// The transactions are added up as they are read, and only the rows a
    /// grouped or distinct measure reads are kept in memory; this needs
    /// their ids in ascending order (a table exported by its key). A file in any other order is
    /// read whole instead, with the same result.
    Calc {
        #[command(flatten)]
        inputs: Inputs,
        /// Where to write the payouts (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Explain one participant's payouts for one period.
    Explain {
        #[command(flatten)]
        inputs: Inputs,
        /// The participant id.
        #[arg(long)]
        participant: String,
        /// The period, e.g. 2026-Q2.
        #[arg(long)]
        period: String,
        /// List every credited transaction, not just the first 50.
        #[arg(long)]
        all: bool,
    },
    /// Run the examples written next to each plan.
    Test(WorkspaceArg),
    /// Create a new workspace with commented example plans.
    Init {
        /// The folder to create.
        dir: PathBuf,
    },
    /// Generate a demo company, run the brief's plans on it and summarize.
    Demo {
        /// Also write the generated data and payouts into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Number of account managers.
        #[arg(long, default_value_t = 120)]
        reps: usize,
        /// Number of deals over the year.
        #[arg(long, default_value_t = 30_000)]
        deals: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Store plan versions, or list them (the store commands below keep
    /// a company's compensation: `attain.db` in the workspace by default).
    #[command(subcommand)]
    Plan(store_cmds::PlanCommand),
    /// Import participants, transactions, quotas or assignments into the
    /// store (CSV, or JSON lines by extension or --format): all or nothing.
    Import {
        /// participants, transactions, quotas or assignments.
        kind: String,
        /// The file to import.
        file: PathBuf,
        /// csv or jsonl (default: from the file's extension).
        #[arg(long)]
        format: Option<String>,
        /// Participants: the first day these versions apply (YYYY-MM-DD);
        /// without it they apply from the beginning.
        #[arg(long)]
        effective: Option<String>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Cancel transactions in the store (kept as cancelled revisions).
    Cancel {
        /// Transaction ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why: shown in adjustments and the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Calculate a fiscal year from the store and record the run.
    Run {
        /// The fiscal year (default: the workspace's `calendar.year`).
        #[arg(long)]
        year: Option<i16>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// List the pay periods and their status.
    Periods {
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Approve or close a pay period.
    #[command(subcommand)]
    Period(store_cmds::PeriodCommand),
    /// What a pay period pays (earnings and adjustments), as CSV.
    Payouts {
        /// The pay period, e.g. 2026-M03.
        #[arg(long)]
        period: String,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Earnings against payments, per person and pay period: draws,
    /// holdbacks, manual adjustments, balances.
    Ledger {
        /// One participant only.
        #[arg(long)]
        participant: Option<String>,
        /// The fiscal year (default: the workspace's `calendar.year`).
        #[arg(long)]
        year: Option<i16>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Add a manual adjustment, with its reason, to an open pay period.
    Adjust {
        #[arg(long)]
        participant: String,
        /// The pay period, e.g. 2026-M04.
        #[arg(long)]
        period: String,
        /// The amount, e.g. 250.00 or -75.50.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Release amounts withheld until a manual release (e.g. the invoice
    /// was paid), paid in an open pay period.
    Release {
        #[arg(long)]
        participant: String,
        #[arg(long)]
        period: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Export a pay period's payments for payroll (approved or closed periods).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Why pay changed: two recorded runs compared payout by payout (default:
    /// the two latest), with the transactions, plan versions, quotas and
    /// assignments that differ between their inputs.
    Diff {
        /// The run to compare from (default: the one before the latest).
        run_a: Option<i64>,
        /// The run to compare to (default: the latest).
        run_b: Option<i64>,
        /// Only this participant's payouts and the inputs that reach them.
        #[arg(long)]
        participant: Option<String>,
        /// Print the changed payouts as CSV.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// A participant's statement for a pay period: each earning and
    /// adjustment with its explanation, the amount due, and what the year's
    /// closed pay periods paid.
    Statement {
        /// The participant id.
        #[arg(long)]
        participant: String,
        /// The pay period, e.g. 2026-M03.
        #[arg(long)]
        period: String,
        /// The run to show (default: the run the pay period pays).
        #[arg(long)]
        run: Option<i64>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Post transactions as they happen (CSV records on standard input):
    /// each is stored and the payouts it moves are recalculated at once.
    Live {
        /// The fiscal year (default: the workspace's `calendar.year`).
        #[arg(long)]
        year: Option<i16>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// Pictures as SVG: a component's payout curve (beside a candidate
    /// plan's), histograms of attainment and payouts across people.
    #[command(subcommand)]
    Chart(chart_cmds::ChartCommand),
    /// Print the audit log: every import, plan version, run, approval and close.
    Audit {
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
    /// What-if: candidate plans paid instead of the plans they replace, on
    /// the actual data (CSV files, or the store's current data), compared
    /// with the plans in force. Nothing is recorded.
    Whatif {
        /// A candidate plan of the workspace: `NEW` (replacing the plan it
        /// was cloned from) or `NEW=REPLACED`; several joined by commas form
        /// one scenario; repeat for several scenarios.
        #[arg(long = "candidate", required = true)]
        candidates: Vec<String>,
        /// The participant field to group people by (default: `role` when
        /// the schema has it).
        #[arg(long)]
        by: Option<String>,
        /// Also draw the what-if as SVG: each person's change in pay, and
        /// each changed component's payout curve beside the candidate's.
        #[arg(long)]
        svg: Option<PathBuf>,
        #[command(flatten)]
        data: modeling_cmds::ModelData,
    },
    /// Parameter sweep: a rate, a band edge or a quota varied over a grid
    /// (`--vary 'plan.component.rate=10%..15%/0.5%'`), each point's cost and
    /// payout distribution. Nothing is recorded.
    Sweep {
        /// PATH=FROM..TO/STEP or PATH=A,B,C; PATH is `quota.NAME` or
        /// `PLAN.COMPONENT.FIELD` (rate, amount, cap, bands[N].from,
        /// bands[N].rate, bands[N].pay). Several: every combination.
        #[arg(long, required = true)]
        vary: Vec<String>,
        #[command(flatten)]
        data: modeling_cmds::ModelData,
    },
    /// Forecast a period's payouts and plan cost (P10/P50/P90) from the
    /// period to date and the history of deal flow; `--backtest` says how
    /// good that is.
    Forecast(forecast_cmds::ForecastArgs),
    /// "If I close this deal, what do I earn?": the payouts a hypothetical
    /// deal moves, before and after, with tiers and explanations.
    Estimate(forecast_cmds::EstimateArgs),
    /// Copy a live SQLite store consistently to a new file.
    Backup {
        /// The copy to write.
        to: PathBuf,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// One row per person paid: earned, adjustments, withheld, released,
    /// carried balance, draw and the payment; totals match the ledger.
    Payroll {
        /// The pay period, e.g. 2026-M03.
        #[arg(long)]
        period: String,
        /// Where to write the CSV (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        #[command(flatten)]
        at: store_cmds::StoreArg,
    },
}

#[derive(Args)]
struct WorkspaceArg {
    /// The workspace folder (holding attain.toml and plans/).
    #[arg(long, short, default_value = ".")]
    workspace: PathBuf,
}

#[derive(Args)]
struct Inputs {
    #[command(flatten)]
    workspace: WorkspaceArg,
    /// The participants CSV.
    #[arg(long)]
    participants: PathBuf,
    /// The transactions CSV.
    #[arg(long)]
    transactions: PathBuf,
    /// Quota amounts per participant and period, replacing the plan's:
    /// a CSV with participant_id,quota,period,amount.
    #[arg(long)]
    quotas: Option<PathBuf>,
    /// Effective-dated plan assignments, replacing the participants' plan
    /// column: a CSV with participant_id,plan,start,end.
    #[arg(long)]
    assignments: Option<PathBuf>,
    /// The fiscal year (default: the workspace's `calendar.year`).
    #[arg(long)]
    year: Option<i16>,
}

impl Inputs {
    /// Refuses an output file (`flag`) that is one of these inputs or a
    /// file of the workspace.
    fn refuse_output(&self, flag: &str, out: &Path) -> Result<(), Failed> {
        let mut files: Vec<(&str, &Path)> = vec![
            ("participants file", &self.participants),
            ("transactions file", &self.transactions),
        ];
        if let Some(q) = &self.quotas {
            files.push(("quotas file", q));
        }
        if let Some(a) = &self.assignments {
            files.push(("assignments file", a));
        }
        workspace::refuse_output_onto_input(flag, out, Some(&self.workspace.workspace), &files)
    }
}

pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if std::io::stdout().lock().write_fmt(args).is_err() {
        std::process::exit(0);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The command runs on one of rayon's threads, not beside them: work
    // handed to the pool from outside wakes a sleeping thread and then
    // this one, for every parallel step (a block of the transactions file
    // is one), and with as many threads as cores the woken one waits for a
    // core.
    match rayon::scope(|_| run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed(diags)) => {
            eprint!("{}", render(&diags));
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let listed_all = !diags
                .iter()
                .any(|d| d.severity == attain_core::diag::Severity::Note);
            if errors > 1 && listed_all {
                eprintln!("{errors} errors");
            }
            ExitCode::FAILURE
        }
    }
}

fn run_errors(errors: Vec<RunError>) -> Failed {
    Failed(
        errors
            .into_iter()
            .map(|e| Diagnostic::error(Location::file("calculation"), e.message))
            .collect(),
    )
}

fn print_warnings(diags: &[Diagnostic]) {
    if !diags.is_empty() {
        eprint!("{}", render(diags));
    }
}

struct Loaded {
    ws: attain_core::plan::Workspace,
    people: attain_core::data::Participants,
    txns: attain_core::data::Transactions,
    calc: engine::Calculation,
}

/// What a calculation from files starts from: the checked workspace, the
/// fiscal year, the participants with their quota overrides.
struct Setup {
    ws: attain_core::plan::Workspace,
    year: i16,
    people: attain_core::data::Participants,
    overrides: engine::measures::QuotaOverrides,
    laps: attain_store::laps::Laps,
}

fn set_up(inputs: &Inputs) -> Result<Setup, Failed> {
    let (ws, warnings) = workspace::load(&inputs.workspace.workspace)?;
    print_warnings(&warnings);
    let year = data_source::fiscal_year(&ws, inputs.year)?;
    let laps = attain_store::laps::Laps::new();
    let (people, overrides) = data_source::read_people(
        &ws,
        &inputs.participants,
        inputs.assignments.as_deref(),
        inputs.quotas.as_deref(),
    )?;
    laps.lap("participants read");
    Ok(Setup {
        ws,
        year,
        people,
        overrides,
        laps,
    })
}

fn load_and_calculate(inputs: &Inputs) -> Result<Loaded, Failed> {
    let Setup {
        ws,
        year,
        people,
        overrides,
        laps,
    } = set_up(inputs)?;
    let txns = workspace::transactions(&ws, &people, &inputs.transactions)?;
    laps.lap("transactions read");
    let spinner = workspace::spinner("calculating");
    let calc = engine::calculate(&ws, &people, &txns, &overrides, year);
    spinner.finish_and_clear();
    let calc = calc.map_err(run_errors)?;
    laps.lap("calculated");
    Ok(Loaded {
        ws,
        people,
        txns,
        calc,
    })
}

/// The payouts alone (what `calc` writes): added up while the file is read
/// (an [`engine::fold`]), unless its ids do not ascend, when the file is read
/// whole as for `explain`.
fn calculate_payouts(
    inputs: &Inputs,
) -> Result<
    (
        attain_core::plan::Workspace,
        attain_core::data::Participants,
        engine::Calculation,
    ),
    Failed,
> {
    let setup = set_up(inputs)?;
    let Setup {
        ws, people, laps, ..
    } = &setup;
    let (year, overrides) = (setup.year, &setup.overrides);
    let whole = |laps: &attain_store::laps::Laps| -> Result<_, Failed> {
        let txns = workspace::transactions(ws, people, &inputs.transactions)?;
        laps.lap("transactions read");
        let calc = engine::calculate(ws, people, &txns, overrides, year);
        std::mem::forget(txns);
        Ok(calc)
    };
    let calc = match engine::fold::Fold::new(ws, people, year) {
        Some(fold) => {
            match workspace::sifted_transactions(ws, people, &inputs.transactions, &fold)? {
                attain_core::data::Sifted::Read { kept, outs } => {
                    laps.lap("transactions read and added up");
                    let calc = fold.finish(people, &kept, overrides, outs);
                    std::mem::forget(kept);
                    calc
                }
                attain_core::data::Sifted::OutOfOrder => {
                    drop(fold);
                    laps.lap("ids out of order: the file is read whole");
                    whole(laps)?
                }
            }
        }
        None => whole(laps)?,
    };
    let calc = calc.map_err(run_errors)?;
    laps.lap("calculated");
    Ok((setup.ws, setup.people, calc))
}

fn run(command: Command) -> Result<(), Failed> {
    match command {
        Command::Check(args) => check_cmd::check(&args),
        Command::Calc { inputs, out } => {
            if let Some(path) = &out {
                inputs.refuse_output("--out", path)?;
            }
            let l = calculate_payouts(&inputs)?;
            let (ws, people, calc) = (&l.0, &l.1, &l.2);
            match out {
                Some(path) => {
                    workspace::write_atomically(&path, |w| {
                        report::payouts_csv(w, ws, people, calc)
                    })?;
                    let total = calc.total();
                    eprintln!(
                        "{} payouts, total {}, written to {}",
                        calc.payouts.len(),
                        ws.money().format(total),
                        path.display()
                    );
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = stdout.lock();
                    report::payouts_csv(&mut lock, ws, people, calc).map_err(|e| {
                        Failed(vec![Diagnostic::error(
                            Location::file("standard output"),
                            e.to_string(),
                        )])
                    })?;
                }
            }
            // Freeing a large run costs time at exit and returns nothing: the
            // process ends here.
            std::mem::forget(l);
            Ok(())
        }
        Command::Explain {
            inputs,
            participant,
            period,
            all,
        } => {
            let Some(period) = Period::parse(&period) else {
                return Err(Failed(vec![Diagnostic::error(
                    Location::file("--period"),
                    format!("`{period}` is not a period"),
                )
                .with_hint("write `2026-Q2`, `2026-M05` or `2026`")]));
            };
            let l = load_and_calculate(&inputs)?;
            let Some(&p) = l.people.index.get(&participant) else {
                return Err(Failed(vec![Diagnostic::error(
                    Location::file(inputs.participants.display().to_string()),
                    format!("no participant `{participant}`"),
                )]));
            };
            if period.year != l.calc.year {
                return Err(Failed(vec![Diagnostic::error(
                    Location::file("--period"),
                    format!("`{period}` is not in fiscal year {}", l.calc.year),
                )
                .with_hint(format!(
                    "pass `--year {}` to explain a period of that year",
                    period.year
                ))]));
            }
            say_raw!(
                "{}",
                report::explain(
                    &l.ws,
                    &l.people,
                    &l.txns,
                    &l.calc,
                    p,
                    period,
                    if all { usize::MAX } else { 50 }
                )
            );
            Ok(())
        }
        Command::Test(arg) => {
            let (ws, warnings) = workspace::load(&arg.workspace)?;
            print_warnings(&warnings);
            plan_tests(&ws)
        }
        Command::Init { dir } => init(&dir),
        Command::Demo {
            out,
            reps,
            deals,
            seed,
        } => demo(out.as_deref(), reps, deals, seed),
        Command::Plan(c) => store_cmds::plan(c),
        Command::Import {
            kind,
            file,
            format,
            effective,
            at,
        } => store_cmds::import(&kind, &file, format.as_deref(), effective.as_deref(), &at),
        Command::Cancel { ids, reason, at } => store_cmds::cancel(&ids, &reason, &at),
        Command::Run { year, at } => store_cmds::run(year, &at),
        Command::Periods { at } => store_cmds::periods(&at),
        Command::Period(c) => store_cmds::period(c),
        Command::Payouts { period, at } => store_cmds::payouts(&period, &at),
        Command::Diff {
            run_a,
            run_b,
            participant,
            csv,
            at,
        } => store_cmds::diff(run_a, run_b, participant.as_deref(), csv, &at),
        Command::Statement {
            participant,
            period,
            run,
            at,
        } => store_cmds::statement(&participant, &period, run, &at),
        Command::Audit { at } => store_cmds::audit(&at),
        Command::Chart(c) => chart_cmds::chart(c),
        Command::Live { year, at } => store_cmds::live(year, &at),
        Command::Ledger {
            participant,
            year,
            at,
        } => store_cmds::ledger(participant.as_deref(), year, &at),
        Command::Adjust {
            participant,
            period,
            amount,
            reason,
            at,
        } => store_cmds::adjust(&participant, &period, &amount, &reason, &at),
        Command::Release {
            participant,
            period,
            reason,
            at,
        } => store_cmds::release(&participant, &period, &reason, &at),
        Command::Export(ExportCommand::Payroll { period, out, at }) => {
            if let Some(path) = &out {
                at.refuse_output("--out", path)?;
            }
            store_cmds::payroll(&period, out.as_deref(), &at)
        }
        Command::Forecast(args) => forecast_cmds::forecast(args),
        Command::Estimate(args) => forecast_cmds::estimate(args),
        Command::Backup { to, at } => store_cmds::backup(&to, &at),
        Command::Whatif {
            candidates,
            by,
            svg,
            data,
        } => {
            data.refuse_outputs()?;
            if let Some(path) = &svg {
                data.source.refuse_output("--svg", path)?;
            }
            modeling_cmds::whatif(&data, &candidates, by.as_deref(), svg.as_deref())
        }
        Command::Sweep { vary, data } => {
            data.refuse_outputs()?;
            modeling_cmds::sweep(&data, &vary)
        }
    }
}

fn plan_tests(ws: &attain_core::plan::Workspace) -> Result<(), Failed> {
    let outcomes = engine::run_plan_tests(ws);
    let money = ws.money();
    let mut failed = Vec::new();
    for o in &outcomes {
        if o.failures.is_empty() {
            say!("ok    {} · {}", o.plan, o.name);
        } else {
            say!("FAIL  {} · {}", o.plan, o.name);
            for (component, expected, actual) in &o.failures {
                let actual_text = match actual {
                    Ok(a) => format!(
                        "calculated {}, difference {}",
                        money.format(*a),
                        money.format(*a - *expected)
                    ),
                    Err(e) => format!("could not calculate: {e}"),
                };
                let message = format!(
                    "`{component}`: expected {}, {actual_text}",
                    money.format(*expected)
                );
                say!("      {message}");
                failed.push(Diagnostic::error(
                    Location::file(o.location.clone()),
                    format!("plan test `{}`: {message}", o.name),
                ));
            }
        }
    }
    let passed = outcomes.len() - outcomes.iter().filter(|o| !o.failures.is_empty()).count();
    say!("{passed} passed, {} failed", outcomes.len() - passed);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failed(failed))
    }
}

fn init(dir: &Path) -> Result<(), Failed> {
    let fail = |path: &Path, e: std::io::Error| {
        Failed(vec![Diagnostic::error(
            Location::file(path.display().to_string()),
            format!("cannot write: {e}"),
        )])
    };
    let ws_path = dir.join("attain.toml");
    if ws_path.exists() {
        return Err(Failed(vec![Diagnostic::error(
            Location::file(ws_path.display().to_string()),
            "a workspace is already here; nothing was changed",
        )]));
    }
    let plans = dir.join("plans");
    let data = dir.join("data");
    for d in [&plans, &data] {
        std::fs::create_dir_all(d).map_err(|e| fail(d, e))?;
    }
    std::fs::write(&ws_path, embedded::WORKSPACE).map_err(|e| fail(&ws_path, e))?;
    for (name, text) in embedded::PLANS {
        let p = plans.join(name);
        std::fs::write(&p, text).map_err(|e| fail(&p, e))?;
    }
    let sample = demo_data::generate(
        1,
        2026,
        &demo_data::DemoSize {
            reps: 16,
            deals: 2_000,
        },
    );
    for (name, text) in [
        ("participants.csv", &sample.participants_csv),
        ("deals.csv", &sample.deals_csv),
    ] {
        let p = data.join(name);
        std::fs::write(&p, text).map_err(|e| fail(&p, e))?;
    }
    say!("created a workspace in {}:", dir.display());
    say!("  attain.toml        calendar, data columns, crediting, measures, quotas (commented)");
    say!(
        "  plans/             {} example plans with their worked examples",
        embedded::PLANS.len()
    );
    say!("  data/              a small sample company (16 account managers, 2,000 deals)");
    say!("next:");
    say!("  cd {}", dir.display());
    say!("  attain check && attain test");
    say!("  attain calc --participants data/participants.csv --transactions data/deals.csv --out payouts.csv");
    Ok(())
}

fn demo(out: Option<&Path>, reps: usize, deals: usize, seed: u64) -> Result<(), Failed> {
    use attain_core::diag::SourceFile;
    let year = 2026;
    // Each stage under a spinner (drawn on a terminal only): a large demo
    // (`--deals 2000000`) takes seconds.
    let spinner = workspace::spinner("generating the demo company");
    let data = demo_data::generate(seed, year, &demo_data::DemoSize { reps, deals });
    spinner.set_message("checking the brief's plans");
    let ws_src = SourceFile::new("examples/brief/attain.toml", embedded::WORKSPACE);
    let plans: Vec<SourceFile> = embedded::PLANS
        .iter()
        .map(|(n, t)| SourceFile::new(format!("examples/brief/plans/{n}"), *t))
        .collect();
    let checked = attain_core::plan::check_workspace(&ws_src, &plans);
    let Some(ws) = checked.workspace else {
        return Err(Failed(checked.diagnostics));
    };
    spinner.set_message("reading the demo's participants and deals");
    let people = attain_core::data::load_participants(
        &ws,
        "participants.csv",
        data.participants_csv.as_bytes(),
    )?;
    let txns =
        attain_core::data::load_transactions(&ws, &people, "deals.csv", data.deals_csv.as_bytes())?;
    let quotas =
        attain_core::data::load_quotas(&ws, &people, "quotas.csv", data.quotas_csv.as_bytes())?;
    spinner.set_message("calculating");
    let calc = engine::calculate(&ws, &people, &txns, &quotas, year).map_err(run_errors)?;
    spinner.finish_and_clear();
    say!(
        "demo company: {} ({} account managers), {} in {year}, plans of the product brief\n",
        report::count(people.len(), "participant", "participants"),
        report::count(reps, "", "").trim_end(),
        report::count(txns.len(), "deal", "deals")
    );
    say_raw!("{}", report::summary(&ws, &people, &calc, 10));
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| workspace::io_error(dir, &e))?;
        workspace::write_atomically(&dir.join("participants.csv"), |w| {
            w.write_all(data.participants_csv.as_bytes())
        })?;
        workspace::write_atomically(&dir.join("deals.csv"), |w| {
            w.write_all(data.deals_csv.as_bytes())
        })?;
        workspace::write_atomically(&dir.join("quotas.csv"), |w| {
            w.write_all(data.quotas_csv.as_bytes())
        })?;
        workspace::write_atomically(&dir.join("payouts.csv"), |w| {
            report::payouts_csv(w, &ws, &people, &calc)
        })?;
        // The workspace too, so that `explain -w DIR` works from anywhere; an
        // existing one is left alone.
        if !dir.join("attain.toml").exists() {
            // Its comments suggest commands on `attain init`'s `data/`
            // files; the demo's sit beside it.
            let text = embedded::WORKSPACE
                .replace("data/participants.csv", "participants.csv")
                .replace("data/deals.csv", "deals.csv");
            workspace::write_atomically(&dir.join("attain.toml"), |w| {
                w.write_all(text.as_bytes())
            })?;
            let plans_dir = dir.join("plans");
            std::fs::create_dir_all(&plans_dir).map_err(|e| workspace::io_error(&plans_dir, &e))?;
            for (name, text) in embedded::PLANS {
                workspace::write_atomically(&plans_dir.join(name), |w| {
                    w.write_all(text.as_bytes())
                })?;
            }
        }
        say!(
            "\nwrote participants.csv, deals.csv, quotas.csv and payouts.csv to {}",
            dir.display()
        );
    }
    // Point at the largest payout of someone with no reports: a rep's
    // explanation shows deals, bands and rounding.
    let rep_payout = calc
        .payouts
        .iter()
        .filter(|p| people.direct_reports[p.participant as usize].is_empty())
        .max_by(|a, b| {
            a.amount
                .cmp(&b.amount)
                .then(b.participant.cmp(&a.participant))
        });
    if let Some(p) = rep_payout {
        let dir = out.map_or_else(|| "demo".to_string(), |d| d.display().to_string());
        let first = if out.is_none() {
            format!("attain demo --out {dir} && ")
        } else {
            String::new()
        };
        say!(
            "\nto see how a payout was reached:\n  {first}attain explain -w {dir} --participants {dir}/participants.csv --transactions {dir}/deals.csv --quotas {dir}/quotas.csv --participant {} --period {}",
            people.ids[p.participant as usize], p.period
        );
    }
    Ok(())
}
