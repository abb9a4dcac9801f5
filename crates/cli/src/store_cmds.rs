//! The commands that work on the store: glue over `attain-store`.

use crate::workspace::{self, Failed};
use attain_core::diag::{Diagnostic, Location};
use attain_core::money::{Currency, Dec};
use attain_store::{ImportFormat, ImportKind, PlanFile, Store};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct StoreArg {
    /// The workspace folder (holding attain.toml and plans/).
    #[arg(long, short, default_value = ".")]
    pub workspace: PathBuf,
    /// The store: a SQLite file (default: attain.db in the workspace) or a
    /// postgres://user@host/database URL. Also read from ATTAIN_STORE.
    #[arg(long, env = "ATTAIN_STORE")]
    pub store: Option<String>,
}

impl StoreArg {
    /// The SQLite file of the store, if the store is one.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match &self.store {
            Some(a) => match attain_store::parse_address(a) {
                attain_store::Address::Sqlite(path) => Some(PathBuf::from(path)),
                attain_store::Address::Postgres(_) => None,
            },
            None => Some(self.workspace.join("attain.db")),
        }
    }

    /// Refuses an output file (`flag`) that is the store's SQLite file or a
    /// file of the workspace.
    pub fn refuse_output(&self, flag: &str, out: &Path) -> Result<(), Failed> {
        let db = self.sqlite_file();
        let files: Vec<(&str, &Path)> = db.iter().map(|p| ("store", p.as_path())).collect();
        workspace::refuse_output_onto_input(flag, out, Some(&self.workspace), &files)
    }
}

#[derive(Subcommand)]
pub enum PlanCommand {
    /// Store the workspace's files as new plan versions (only those that
    /// changed), checked first.
    Apply {
        #[command(flatten)]
        at: StoreArg,
        /// The first day the new versions apply (YYYY-MM-DD). Needed once a
        /// period has been closed; before, versions apply from the start.
        #[arg(long)]
        effective: Option<String>,
    },
    /// Copy a plan into a new plan file (plans/NEW_ID.toml) that records
    /// where it came from; edit it, then compare with `attain whatif`.
    Clone {
        /// The plan to copy.
        source: String,
        /// The new plan's id.
        new_id: String,
        /// The new plan's name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        at: StoreArg,
    },
    /// List every stored version of every workspace file.
    History {
        #[command(flatten)]
        at: StoreArg,
    },
}

#[derive(Subcommand)]
pub enum PeriodCommand {
    /// Approve a calculated pay period (e.g. 2026-M03).
    Approve {
        period: String,
        #[command(flatten)]
        at: StoreArg,
    },
    /// Close an approved pay period: what it pays is final.
    Close {
        period: String,
        #[command(flatten)]
        at: StoreArg,
    },
}

fn actor() -> String {
    std::env::var("ATTAIN_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn failed(e: attain_store::Error) -> Failed {
    Failed(e.0)
}

/// The store, which must exist: a command that reads or changes what is
/// stored never leaves an empty `attain.db` behind when there is none.
pub fn open(at: &StoreArg) -> Result<Store, Failed> {
    let address = store_address(at);
    if let attain_store::Address::Sqlite(path) = attain_store::parse_address(&address) {
        if !Path::new(&path).exists() {
            return Err(Failed(vec![Diagnostic::error(
                Location::file(&path),
                "no store here",
            )
            .with_hint(
                "`attain plan apply` in the workspace folder creates it with the plans; or pass `--store` with the store's path or postgres:// address",
            )]));
        }
    }
    Store::open(&address, &actor()).map_err(failed)
}

/// The store, created when missing: for what fills it (`plan apply`,
/// `import`).
fn open_or_create(at: &StoreArg) -> Result<Store, Failed> {
    Store::open(&store_address(at), &actor()).map_err(failed)
}

fn store_address(at: &StoreArg) -> String {
    match &at.store {
        Some(a) => a.clone(),
        None => at.workspace.join("attain.db").display().to_string(),
    }
}

fn check_date(flag: &str, text: &str) -> Result<(), Failed> {
    if attain_core::data::parse_date(text).is_some() {
        Ok(())
    } else {
        Err(Failed(vec![Diagnostic::error(
            Location::file(flag),
            format!("`{text}` is not a date"),
        )
        .with_hint("write YYYY-MM-DD, like 2026-07-01")]))
    }
}

/// The workspace's files with their paths inside it.
fn workspace_files(dir: &Path) -> Result<Vec<PlanFile>, Failed> {
    let (ws, plans) = workspace::read_sources(dir)?;
    let relative = |shown: &str| {
        let p = Path::new(shown);
        p.strip_prefix(dir).unwrap_or(p).display().to_string()
    };
    let mut out = vec![PlanFile {
        path: "attain.toml".into(),
        text: ws.text.clone(),
    }];
    for p in plans {
        out.push(PlanFile {
            path: relative(&p.path),
            text: p.text.clone(),
        });
    }
    Ok(out)
}

pub fn plan(command: PlanCommand) -> Result<(), Failed> {
    match command {
        PlanCommand::Apply { at, effective } => {
            if let Some(d) = &effective {
                check_date("--effective", d)?;
            }
            let files = workspace_files(&at.workspace)?;
            let mut store = open_or_create(&at)?;
            let applied = store
                .apply_plans(&files, effective.as_deref())
                .map_err(failed)?;
            if applied.is_empty() {
                say!(
                    "no change: the store already holds these {} files",
                    files.len()
                );
            }
            for v in applied {
                let what = if v.removed { "removed" } else { "stored" };
                say!(
                    "{what} {} version {}, effective {}",
                    v.path,
                    v.version,
                    attain_store::show_effective(&v.effective)
                );
            }
            Ok(())
        }
        PlanCommand::Clone {
            source,
            new_id,
            name,
            at,
        } => crate::modeling_cmds::clone_plan(&at, &source, &new_id, name.as_deref()),
        PlanCommand::History { at } => {
            let mut store = open(&at)?;
            for v in store.plan_history().map_err(failed)? {
                say!(
                    "{:<40} v{:<3} effective {:<20} {}{} by {}{}",
                    v.path,
                    v.version,
                    attain_store::show_effective(&v.effective),
                    v.at,
                    if v.removed { " (removed)" } else { "" },
                    v.actor,
                    v.origin
                        .as_deref()
                        .map_or(String::new(), |o| format!(", {o}"))
                );
            }
            Ok(())
        }
    }
}

pub fn import(
    kind: &str,
    file: &Path,
    format: Option<&str>,
    effective: Option<&str>,
    at: &StoreArg,
) -> Result<(), Failed> {
    let Some(kind) = ImportKind::parse(kind) else {
        return Err(Failed(vec![Diagnostic::error(
            Location::file("attain import"),
            format!("`{kind}` is not something to import"),
        )
        .with_hint(
            "import participants, transactions, quotas, assignments, draws or caps",
        )]));
    };
    if let Some(d) = effective {
        check_date("--effective", d)?;
    }
    let json = match format {
        Some("csv") => false,
        Some("jsonl") | Some("json") | Some("ndjson") => true,
        Some(other) => {
            return Err(Failed(vec![Diagnostic::error(
                Location::file("--format"),
                format!("`{other}` is not a format attain imports"),
            )
            .with_hint("csv or jsonl (one JSON object per line)")]))
        }
        None => file
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson" || e == "json"),
    };
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| workspace::io_error(file, &e))?;
    let mut store = open_or_create(at)?;
    let spinner = workspace::spinner(&format!("importing {shown}"));
    let shown_spinner = spinner.clone();
    store.set_progress(std::sync::Arc::new(move |what: &str| {
        shown_spinner.set_message(what.to_string())
    }));
    let result = store.import(
        kind,
        &shown,
        bytes,
        if json {
            ImportFormat::JsonLines
        } else {
            ImportFormat::Csv
        },
        effective,
    );
    spinner.finish_and_clear();
    let r = result.map_err(failed)?;
    say!(
        "import {}: {} from {shown}: {} added, {} revised, {} unchanged",
        r.id,
        attain_core::report::count(r.rows as usize, "row", "rows"),
        grouped(r.added),
        grouped(r.revised),
        grouped(r.unchanged)
    );
    Ok(())
}

fn grouped(n: u64) -> String {
    attain_core::money::group_thousands(&n.to_string())
}

pub fn cancel(ids: &[String], reason: &str, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let n = store.cancel_transactions(ids, reason).map_err(failed)?;
    say!(
        "cancelled {}: {reason}",
        attain_core::report::count(n as usize, "transaction", "transactions")
    );
    Ok(())
}

pub fn run(year: Option<i16>, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let spinner = workspace::spinner("calculating from the store");
    let shown_spinner = spinner.clone();
    store.set_progress(std::sync::Arc::new(move |what: &str| {
        shown_spinner.set_message(what.to_string())
    }));
    let result = store.record_run(year);
    spinner.finish_and_clear();
    let r = result.map_err(failed)?;
    let money = store.currency().map_err(failed)?;
    say!(
        "run {}: fiscal year {}, {}, total {}",
        r.id,
        r.year,
        attain_core::report::count(r.payouts, "payout", "payouts"),
        money.format(r.total)
    );
    say!("inputs {}", r.inputs_digest);
    if r.stretches > 1 {
        say!(
            "plans or people changed during the year: calculated in {} stretches",
            r.stretches
        );
    }
    if !r.adjustments.is_empty() {
        say!(
            "\n{} to closed periods, paid in {}:",
            attain_core::report::count(
                r.adjustments.len(),
                "prior-period adjustment",
                "prior-period adjustments"
            ),
            r.adjustments[0].pay_period
        );
        for a in &r.adjustments {
            say!(
                "  {} {} {}: paid {}, now {}, difference {}",
                a.participant,
                a.period,
                a.component,
                money.format(a.paid),
                money.format(a.recalculated),
                money.format_signed(a.difference)
            );
            for d in &a.deals {
                say!("      {}: {}", d.deal, d.change);
            }
        }
    }
    for p in &r.unapproved {
        say!("{p} was approved, but its results changed: approve it again");
    }
    Ok(())
}

pub fn periods(at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let rows = store.periods().map_err(failed)?;
    if rows.is_empty() {
        say!("no period has been calculated yet: run `attain run`");
    }
    for p in rows {
        let run = p.run.map_or(String::new(), |r| format!("run {r}"));
        let closed = p.closed_at.map_or(String::new(), |c| format!("closed {c}"));
        say!(
            "{:<10} {:<11} {:<8} {closed}",
            p.period,
            p.status.name(),
            run
        );
    }
    Ok(())
}

pub fn period(command: PeriodCommand) -> Result<(), Failed> {
    match command {
        PeriodCommand::Approve { period, at } => {
            let mut store = open(&at)?;
            let p = store.approve_period(&period).map_err(failed)?;
            say!(
                "{} approved: it pays the results of run {}",
                p.period,
                p.run.unwrap_or(0)
            );
        }
        PeriodCommand::Close { period, at } => {
            let mut store = open(&at)?;
            let p = store.close_period(&period).map_err(failed)?;
            say!(
                "{} closed: what it pays is final; later changes are paid as adjustments",
                p.period
            );
        }
    }
    Ok(())
}

/// What a pay period pays, as CSV.
pub fn payouts(period: &str, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let rows = store.pay_period_results(period).map_err(failed)?;
    say!("participant_id,period,component,kind,amount");
    for r in rows {
        say!(
            "{},{},{},{},{}",
            csv_field(&r.participant),
            r.period,
            r.component,
            r.kind,
            r.amount
        );
    }
    Ok(())
}

pub fn audit(at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    for e in store.audit_log().map_err(failed)? {
        say!(
            "{:>5}  {}  {:<10} {:<12} {:<28} {}",
            e.seq,
            e.at,
            e.actor,
            e.action,
            e.subject,
            e.detail
        );
    }
    Ok(())
}

pub fn backup(to: &Path, at: &StoreArg) -> Result<(), Failed> {
    if to.exists() {
        return Err(Failed(vec![Diagnostic::error(
            Location::file(to.display().to_string()),
            "a file is already here; nothing was written",
        )
        .with_hint("give the backup a new name")]));
    }
    let mut store = open(at)?;
    store.backup(&to.display().to_string()).map_err(failed)?;
    say!("backed up the store to {}", to.display());
    Ok(())
}

pub fn ledger(participant: Option<&str>, year: Option<i16>, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let year = store.fiscal_year(year).map_err(failed)?;
    let lines = store.ledger(year, participant).map_err(failed)?;
    if lines.is_empty() {
        say!("nothing earned or paid in {year} yet: run `attain run`");
        return Ok(());
    }
    let money = store.currency().map_err(failed)?;
    let mut by_person: std::collections::BTreeMap<&str, Vec<&attain_store::LedgerLine>> =
        Default::default();
    for l in &lines {
        by_person.entry(l.participant.as_str()).or_default().push(l);
    }
    for (person, rows) in by_person {
        say!("{person}");
        // Columns as wide as their amounts: a large one, or one in a
        // currency written with a code (`JPY 12,488`), never runs into the
        // next. Notes go under their pay period's line.
        let header = [
            "period",
            "status",
            "earned",
            "manual",
            "withheld",
            "released",
            "carried in",
            "draw",
            "payment",
            "carried out",
        ];
        let mut table = vec![header.iter().map(|h| h.to_string()).collect()];
        for l in &rows {
            let mut row = vec![l.pay_period.clone(), l.status.name().to_string()];
            row.extend(
                [
                    l.earned,
                    l.manual,
                    l.held,
                    l.released,
                    l.carried_in,
                    l.draw,
                    l.payment,
                    l.carried_out,
                ]
                .map(|v| money.format(v)),
            );
            table.push(row);
        }
        let text = attain_core::report::columns(&table, 2, 2);
        let mut lines = text.lines();
        if let Some(h) = lines.next() {
            say!("{h}");
        }
        for (l, line) in rows.iter().zip(lines) {
            say!("{line}");
            for n in &l.notes {
                say!("      {n}");
            }
        }
        let owned: Vec<attain_store::LedgerLine> = rows.iter().map(|l| (*l).clone()).collect();
        let t = attain_store::ledger::totals(&owned);
        say!(
            "  earned {}, paid {}, due {}, withheld {}, owed by {person} {}\n",
            money.format(t.earned),
            money.format(t.paid),
            money.format(t.due),
            money.format(t.held),
            money.format(t.owed_by_person)
        );
    }
    Ok(())
}

pub fn adjust(
    participant: &str,
    period: &str,
    amount: &str,
    reason: &str,
    at: &StoreArg,
) -> Result<(), Failed> {
    let mut store = open(at)?;
    let money = store.currency().map_err(failed)?;
    let Ok(value) = attain_core::money::parse_amount(amount) else {
        return Err(Failed(vec![Diagnostic::error(
            Location::file("--amount"),
            format!("`{amount}` is not an amount"),
        )
        .with_hint(format!(
            "write e.g. {} or {}",
            money.written(Dec::new(250, 0)),
            money.written(Dec::new(-7550, 2))
        ))]));
    };
    store
        .adjust(participant, period, value, reason)
        .map_err(failed)?;
    say!(
        "{} for {participant} in {period}: {reason}",
        money.format(value)
    );
    Ok(())
}

pub fn release(participant: &str, period: &str, reason: &str, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    store
        .release_holdbacks(participant, period, reason)
        .map_err(failed)?;
    say!("released {participant}'s withheld amounts in {period}: {reason}");
    Ok(())
}

/// The payroll file of one pay period: what each person is paid, with the
/// ledger's parts, and the total on standard error.
pub fn payroll(period: &str, out: Option<&Path>, at: &StoreArg) -> Result<(), Failed> {
    let mut store = open(at)?;
    let lines = store.payroll(period).map_err(failed)?;
    let money = store.currency().map_err(failed)?;
    let mut csv = String::from(
        "participant_id,pay_period,earned,manual_adjustments,withheld,released,carried_in,draw,payment\n",
    );
    let mut total = rust_decimal::Decimal::ZERO;
    for l in &lines {
        if l.payment.is_zero() && l.earned.is_zero() && l.manual.is_zero() {
            continue;
        }
        total += l.payment;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            csv_field(&l.participant),
            l.pay_period,
            l.earned,
            l.manual,
            l.held,
            l.released,
            l.carried_in,
            l.draw,
            l.payment
        ));
    }
    match out {
        Some(path) => {
            workspace::write_atomically(path, |w| w.write_all(csv.as_bytes()))?;
            eprintln!(
                "{period}: {} to pay, total {}, written to {}",
                attain_core::report::count(
                    csv.lines().count().saturating_sub(1),
                    "person",
                    "people"
                ),
                money.format(total),
                path.display()
            );
        }
        None => {
            say_raw!("{csv}");
            eprintln!("{period}: total {}", money.format(total));
        }
    }
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The reasons shown under one changed payout, amounts in `money`.
fn why(
    d: &attain_store::RunDiff,
    c: &attain_store::diff::PayoutChange,
    money: &Currency,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(
        c.deals
            .iter()
            .filter_map(|i| d.transactions.get(*i))
            .map(|t| t.describe()),
    );
    out.extend(
        c.plans
            .iter()
            .filter_map(|i| d.plans.get(*i))
            .map(|p| format!("plan file {}", p.describe())),
    );
    out.extend(
        c.quotas
            .iter()
            .filter_map(|i| d.quotas.get(*i))
            .map(|q| q.describe()),
    );
    out.extend(
        c.assignments
            .iter()
            .filter_map(|i| d.assignments.get(*i))
            .map(|a| a.describe()),
    );
    out.extend(
        c.people
            .iter()
            .filter_map(|i| d.people.get(*i))
            .map(|p| p.describe()),
    );
    if out.is_empty() {
        out.push(
            "no transaction, plan version, quota, assignment or participant of theirs in this \
             period differs: see the inputs below (an earlier period can carry into this one)"
                .to_string(),
        );
    }
    if let Some((pay, amount)) = &c.adjustment {
        out.push(format!(
            "its period is closed: paid as a prior-period adjustment of {} in {pay}",
            money.format_signed(*amount)
        ));
    }
    out
}

pub fn diff(
    a: Option<i64>,
    b: Option<i64>,
    participant: Option<&str>,
    csv: bool,
    at: &StoreArg,
) -> Result<(), Failed> {
    let mut store = open(at)?;
    let d = store.diff_runs(a, b, participant).map_err(failed)?;
    let money = store.currency().map_err(failed)?;
    let amount = |v: Option<Dec>| v.map_or(String::new(), |v| v.to_string());
    if csv {
        say!("participant_id,period,component,run_a,run_b,difference,why");
        for c in &d.payouts {
            say!(
                "{},{},{},{},{},{},{}",
                csv_field(&c.participant),
                csv_field(&c.period),
                csv_field(&c.component),
                amount(c.old),
                amount(c.new),
                c.difference,
                csv_field(&why(&d, c, &money).join("; "))
            );
        }
        return Ok(());
    }
    let (ra, rb) = (d.a.id, d.b.id);
    let mut title = format!("run {ra} → run {rb}, fiscal year {}", d.b.year);
    if d.a.year != d.b.year {
        title = format!(
            "run {ra} (fiscal year {}) → run {rb} (fiscal year {})",
            d.a.year, d.b.year
        );
    }
    if let Some(p) = &d.participant {
        title.push_str(&format!(", participant {p}"));
    }
    say!("{title}");
    if d.payouts.is_empty() {
        if d.is_empty() && d.a.inputs_digest == d.b.inputs_digest {
            say!("\nnothing changed: the same inputs and the same payouts");
        } else {
            say!("\nno payout differs");
        }
    } else {
        let printed = |v: Option<Dec>| v.map_or("none".to_string(), |v| money.format(v));
        let mut rows: Vec<[String; 6]> = vec![[
            "participant".into(),
            "period".into(),
            "component".into(),
            format!("run {ra}"),
            format!("run {rb}"),
            "difference".into(),
        ]];
        for c in &d.payouts {
            rows.push([
                c.participant.clone(),
                c.period.clone(),
                c.component.clone(),
                printed(c.old),
                printed(c.new),
                money.format_signed(c.difference),
            ]);
        }
        let mut width = [0usize; 6];
        for r in &rows {
            for (w, cell) in width.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |r: &[String; 6]| {
            format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                w0 = width[0],
                w1 = width[1],
                w2 = width[2],
                w3 = width[3],
                w4 = width[4],
                w5 = width[5]
            )
        };
        say!("");
        say!("{}", line(&rows[0]));
        for (r, c) in rows.iter().skip(1).zip(&d.payouts) {
            say!("{}", line(r));
            for reason in why(&d, c, &money) {
                say!("    {reason}");
            }
        }
    }
    let any_input = !(d.transactions.is_empty()
        && d.plans.is_empty()
        && d.quotas.is_empty()
        && d.assignments.is_empty()
        && d.people.is_empty());
    if any_input {
        say!("\ninputs that differ");
        if !d.transactions.is_empty() {
            say!(
                "  transactions (run {ra} saw imports through {}, run {rb} through {}):",
                d.a.through_import,
                d.b.through_import
            );
            for t in &d.transactions {
                say!("    {}", t.describe());
            }
        }
        if !d.plans.is_empty() {
            say!("  plan versions:");
            for p in &d.plans {
                say!("    {}", p.describe());
            }
        }
        if !d.quotas.is_empty() {
            say!("  quotas:");
            for q in &d.quotas {
                say!("    {}", q.describe());
            }
        }
        if !d.assignments.is_empty() {
            say!("  assignments:");
            for a in &d.assignments {
                say!("    {}", a.describe());
            }
        }
        if !d.people.is_empty() {
            say!("  participants:");
            for p in &d.people {
                say!("    {}", p.describe());
            }
        }
    }
    say!(
        "\n{} changed, total difference {}",
        attain_core::report::count(d.people_changed, "person", "people"),
        money.format_signed(d.total_difference)
    );
    Ok(())
}

pub fn statement(
    participant: &str,
    period: &str,
    run: Option<i64>,
    at: &StoreArg,
) -> Result<(), Failed> {
    let mut store = open(at)?;
    let s = store.statement(participant, period, run).map_err(failed)?;
    let money = store.currency().map_err(failed)?;
    let who = match &s.name {
        Some(n) => format!("{} ({n})", s.participant),
        None => s.participant.clone(),
    };
    say!("statement for {who}, pay period {}", s.pay_period);
    let plans = if s.plans.is_empty() {
        "none".to_string()
    } else {
        s.plans.join(", ")
    };
    say!("plan: {plans}");
    if let Some(m) = &s.manager {
        say!("manager: {m}");
    }
    match s.period_run {
        Some(p) => say!(
            "status: {}, paying run {p}; this statement shows run {}",
            s.status.name(),
            s.run
        ),
        None if s.status == attain_store::PeriodStatus::Open => {
            say!("status: open; this statement shows run {}", s.run)
        }
        None => say!("status: {}, paying run {}", s.status.name(), s.run),
    }
    let amount_line = |label: &str, amount: Dec| {
        say!("  {label:<40} {:>16}", money.format(amount));
    };
    say!("\nearnings");
    if s.earnings.is_empty() {
        say!("  none paid in {}", s.pay_period);
    }
    for e in &s.earnings {
        amount_line(&format!("{} {}", e.period, e.component), e.amount);
        for l in &e.explanation {
            say!("      {l}");
        }
    }
    if !s.adjustments.is_empty() {
        say!("\nprior-period adjustments");
        for a in &s.adjustments {
            amount_line(&format!("{} {}", a.period, a.component), a.amount);
            for l in &a.explanation {
                say!("      {l}");
            }
        }
    }
    // The ledger's part: what turns this period's earnings into its payment.
    let mut due = s.total_due;
    if let Some(l) = &s.ledger {
        let zero = rust_decimal::Decimal::ZERO;
        let parts = [
            l.manual,
            l.held,
            l.released,
            l.carried_in,
            l.draw,
            l.carried_out,
        ];
        if parts.iter().any(|p| *p != zero) {
            say!("\npayment");
            amount_line("earned this period", l.earned);
            for (label, amount) in [
                ("manual adjustments", l.manual),
                ("withheld (holdbacks)", -l.held),
                ("released (holdbacks)", l.released),
                ("carried in from earlier periods", l.carried_in),
                ("draw", l.draw),
            ] {
                if amount != zero {
                    amount_line(label, amount);
                }
            }
            for n in l.notes.iter().filter(|n| !n.starts_with("carried in")) {
                say!("      {n}");
            }
            if l.carried_out != zero {
                amount_line("carried into later periods", l.carried_out);
            }
        }
        due = l.payment;
    }
    say!("");
    say!("{:<42} {:>16}", "payment due", money.format(due));
    let ytd = &s.year_to_date;
    let counted = match ytd.periods.as_slice() {
        [] => "no pay period of the year is closed yet".to_string(),
        [one] => format!("closed pay period {one}"),
        [first, .., last] => format!("closed pay periods {first} to {last}"),
    };
    let paid = ytd.paid_out.unwrap_or(ytd.paid);
    say!("paid year to date: {} ({counted})", money.format(paid));
    Ok(())
}

/// Reads transactions from standard input, one CSV record per line under
/// the store's transaction header, and posts each as it arrives: stored,
/// and the payouts it moves recalculated at once.
pub fn live(year: Option<i16>, at: &StoreArg) -> Result<(), Failed> {
    use std::io::BufRead;
    let mut store = open(at)?;
    let started = std::time::Instant::now();
    let spinner = workspace::spinner("loading the store");
    let live = store.live(year);
    spinner.finish_and_clear();
    let mut live = live.map_err(failed)?;
    let money = store.currency().map_err(failed)?;
    eprintln!(
        "live: run {} records the year ({} payouts, {} ms); each posting stores its transaction and\n\
         updates that run. Post one transaction per line under\n  {}",
        live.run(),
        attain_core::money::group_thousands(&live.payouts().len().to_string()),
        started.elapsed().as_millis(),
        live.header()
    );
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() || line == live.header() {
            continue;
        }
        match live.post(&mut store, &line) {
            Ok(p) => {
                let us = p.elapsed.as_micros();
                let ms = format!("{}.{}", us / 1000, us % 1000 / 100);
                match p.revision {
                    None => say!("{}: already stored as it is ({ms} ms)", p.deal),
                    Some(r) => say!(
                        "{} revision {r}: {} recalculated from {} in {ms} ms",
                        p.deal,
                        attain_core::report::count(p.recalculated, "person", "people"),
                        attain_core::report::count(
                            p.transactions_read,
                            "transaction",
                            "transactions"
                        )
                    ),
                }
                for m in &p.moved {
                    say!(
                        "  {} {} {}: {} -> {}",
                        m.participant,
                        m.period,
                        m.component,
                        money.format(m.before),
                        money.format(m.after)
                    );
                }
            }
            Err(e) => eprint!("{e}"),
        }
    }
    Ok(())
}
