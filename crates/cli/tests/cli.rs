#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `attain` command line, tested from the outside: each test runs the
//! built binary in a temporary folder of its own, on a small hand-made input
//! (one reproducing input per error, as hledger's tests do), and checks the
//! exit status, the exact text printed and the files left on disk.
//!
//! Contents
//!
//! 1. Harness: `Sandbox` (a temporary folder holding a copy of the tiny
//!    workspace in `fixtures/tiny/`), `Run` (a finished command), and
//!    helpers to read diagnostics.
//! 2. Bad data (`data_*`): every problem in a CSV file is named with its
//!    file, line, column (the CSV field number), the value and what was
//!    expected, and exits with status 1. Also the inputs that must *not* be
//!    errors: a quoted field holding a comma, CRLF line ends.
//! 3. No partial output (`output_*`): a failed `attain calc --out` leaves no
//!    file, no temporary file, and an older payouts file byte for byte.
//! 4. Plan errors from `attain check` (`check_*`): tier tables, names,
//!    types, cycles, filters, TOML keys and syntax, includes; several errors
//!    reported in one run.
//! 5. `attain test` (`plan_test_*`): a wrong expectation fails with the
//!    expected and calculated amounts and their difference.
//! 6. `attain init` (`init_*`): the new workspace checks, tests and
//!    calculates; a second `init` changes nothing.
//! 7. `attain demo` (`demo_*`): totals, top earners, attainment spread;
//!    byte-identical across runs; its payouts match `attain calc`.
//! 8. Determinism and explanations (`calc_*`, `explain_*`): payouts do not
//!    depend on the order of rows; `attain explain` shows credited
//!    transactions, measures, quota, bands and total, worked by hand, in
//!    the workspace's currency (yen without decimals, band edges in euros).
//! 9. The store (`store_*`): from an empty folder to a closed period; a bad
//!    import writes nothing; a revised deal after the close is paid as an
//!    adjustment in the open period; payroll matches the ledger; a process
//!    killed at any moment of an import, a run or a close leaves a
//!    consistent store; two imports at once both land; `attain diff` names
//!    the deal or plan version behind a changed payout, and says when
//!    nothing changed; `attain statement` shows a closed month with its
//!    adjustment and the year to date; statement, ledger, payroll and diff
//!    in yen, without decimals; a holdback in yen withholds whole yen and
//!    an amount finer than a yen is refused; the ledger's notes in dollars
//!    and an adjustment's explanation in euros, while payroll and payouts
//!    files keep plain numbers. (The store's own suite, on SQLite
//!    and PostgreSQL, is `crates/store/tests/store.rs`.)
//! 10. Plan lint and charts (`lint_*`, `chart_*`): `attain check` reports a
//!     retroactive cliff with its numbers and exits 0, or 1 with
//!     `--deny-warnings`; `attain chart curve` and `attain chart
//!     distribution` write SVG files and name what they cannot find.
//!
//! The tiny workspace pays the brief's retention commission on a quarterly
//! net-revenue quota of $300,000 (no proration): 7.5% up to 100%, 12.5% to
//! 150%, 15% above. Its data, worked by hand:
//!
//! - am1, 2026-Q1: renewals $320,000 + upsell $40,000 = nrr $360,000 (120%):
//!   $300,000 × 7.5% + $60,000 × 12.5% = 22,500 + 7,500 = $30,000.00
//! - am1, 2026-Q2: renewal $100,000: × 7.5% = $7,500.00
//! - am2, 2026-Q1: renewal $150,000 − churn $10,000 = $140,000: × 7.5% =
//!   $10,500.00
//! - mgr1 has no plan and is paid nothing; every other quarter pays $0.00.
//!
//! Tests marked `#[ignore = "bug: ..."]` assert the correct behaviour of a
//! known bug; run them with `cargo test -p attain-cli --test cli -- --ignored`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------
// 1. Harness
// ---------------------------------------------------------------------------

const TINY_WORKSPACE: &str = include_str!("fixtures/tiny/attain.toml");
const TINY_PLAN: &str = include_str!("fixtures/tiny/plans/retention_commission.toml");
const TINY_PEOPLE: &str = include_str!("fixtures/tiny/people.csv");
const TINY_DEALS: &str = include_str!("fixtures/tiny/deals.csv");
const DEALS_HEADER: &str = "deal_id,close_date,account_id,kind,amount,owner_id\n";

/// The payouts of the tiny workspace (see the top of this file).
const TINY_PAYOUTS: &str = "\
participant_id,period,component,payout
am1,2026-Q1,commission,30000.00
am1,2026-Q2,commission,7500.00
am1,2026-Q3,commission,0.00
am1,2026-Q4,commission,0.00
am2,2026-Q1,commission,10500.00
am2,2026-Q2,commission,0.00
am2,2026-Q3,commission,0.00
am2,2026-Q4,commission,0.00
";

/// A temporary folder, removed when the test passes (kept, and its path
/// printed, when it fails).
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn empty(name: &str) -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "attain-cli-test-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Sandbox { root }
    }

    /// The tiny workspace with its `people.csv` and `deals.csv`.
    fn tiny(name: &str) -> Sandbox {
        let s = Sandbox::empty(name);
        s.write("attain.toml", TINY_WORKSPACE);
        s.write("plans/retention_commission.toml", TINY_PLAN);
        s.write("people.csv", TINY_PEOPLE);
        s.write("deals.csv", TINY_DEALS);
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    fn read_text(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).unwrap()
    }

    fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Replaces the one occurrence of `from` in a file.
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read_text(rel);
        assert_eq!(text.matches(from).count(), 1, "`{from}` in {rel}");
        self.write(rel, text.replacen(from, to, 1));
    }

    fn append(&self, rel: &str, more: &str) {
        let text = self.read_text(rel);
        self.write(rel, text + more);
    }

    /// Every file below the root (hidden ones too), with its contents.
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path.strip_prefix(root).unwrap().display().to_string();
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }

    /// The names of every file below the root.
    fn files(&self) -> Vec<String> {
        self.snapshot().into_keys().collect()
    }

    /// Runs `attain ARGS` in the sandbox.
    fn attain(&self, args: &[&str]) -> Run {
        self.attain_in(".", args)
    }

    /// Runs `attain ARGS` in a folder of the sandbox.
    fn attain_in(&self, dir: &str, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(args)
            .current_dir(self.path(dir))
            .env_remove("RUST_BACKTRACE")
            .env_remove("ATTAIN_TIMINGS")
            .output()
            .unwrap();
        Run {
            args: args.join(" "),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `attain calc` on `people.csv` and `deals.csv`, to standard output.
    fn calc(&self) -> Run {
        self.attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
        ])
    }

    /// Writes `deals.csv` and runs `attain calc` on it.
    fn calc_deals(&self, deals: impl AsRef<[u8]>) -> Run {
        self.write("deals.csv", deals);
        self.calc()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// A finished run of `attain`.
struct Run {
    args: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attain {}\n--- exit status: {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Asserts success (status 0).
    fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "expected success:\n{self:?}");
        self
    }

    /// Asserts a reported failure: status 1, no panic, nothing on stdout.
    fn fails(self) -> Run {
        assert_eq!(self.code, Some(1), "expected exit status 1:\n{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        assert_eq!(self.stdout, "", "{self:?}");
        self
    }
}

/// The diagnostics in `stderr`: blocks separated by a blank line, without
/// the closing `N errors` line.
fn diagnostics(stderr: &str) -> Vec<&str> {
    stderr
        .split("\n\n")
        .map(|b| b.trim_end_matches('\n'))
        .filter(|b| b.starts_with("error: ") || b.starts_with("warning: "))
        .collect()
}

/// Asserts that `stderr` holds exactly one diagnostic, reported at `file`,
/// `line` and a real (1-based) column or no column at all:
/// `error: FILE:LINE:COL: MESSAGE` with COL ≥ 1, or `error: FILE:LINE: MESSAGE`.
/// `rest` is what follows the first line (a hint), if anything.
fn assert_one_error_on_line(stderr: &str, file: &str, line: usize, message: &str, rest: &str) {
    let diags = diagnostics(stderr);
    assert_eq!(diags.len(), 1, "one diagnostic expected in:\n{stderr}");
    let (head, tail) = diags[0].split_once('\n').unwrap_or((diags[0], ""));
    let prefix = format!("error: {file}:{line}:");
    let Some(after) = head.strip_prefix(&prefix) else {
        panic!("expected `{prefix}...`, got:\n{stderr}");
    };
    let text = match after.split_once(": ") {
        Some((col, text)) if !col.is_empty() => {
            let col: usize = col
                .parse()
                .unwrap_or_else(|_| panic!("bad column in:\n{head}"));
            assert!(col >= 1, "column {col} is not a 1-based column:\n{head}");
            text
        }
        _ => after.strip_prefix(' ').unwrap_or(after),
    };
    assert_eq!(text, message, "in:\n{stderr}");
    assert_eq!(tail, rest, "in:\n{stderr}");
}

/// Asserts that each of `expected` is a whole line of `text`, in this order.
fn assert_lines_in_order(text: &str, expected: &[&str]) {
    let mut lines = text.lines();
    for want in expected {
        assert!(
            lines.any(|l| l == *want),
            "line `{want}` missing (or out of order) in:\n{text}"
        );
    }
}

/// `$1,234.56` (or `-$1,234.56`) in cents.
fn cents(money: &str) -> i64 {
    let (neg, m) = match money.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, money),
    };
    let digits: String = m
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let (units, frac) = digits.split_once('.').unwrap_or((&digits, "00"));
    assert_eq!(frac.len(), 2, "{money}");
    let v = units.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

/// The rows of a CSV text shuffled by a fixed-seed Fisher-Yates, header kept.
fn shuffle_rows(csv: &str, mut seed: u64) -> String {
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    for i in (1..lines.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        lines.swap(i, j);
    }
    let mut out = String::from(header);
    out.push('\n');
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------
// 2. Bad data
// ---------------------------------------------------------------------------

#[test]
fn data_amount_with_a_decimal_comma() {
    let s = Sandbox::tiny("decimal-comma");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renewal,\"12,50\",am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:5: `amount` is `12,50`, which is not an amount: it is not a number; expected digits with an optional `.` and up to 2 decimals, like 1234.50\n\n"
    );
}

#[test]
fn data_amount_with_too_many_decimals() {
    let s = Sandbox::tiny("too-many-decimals");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renewal,12.505,am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:5: `amount` is `12.505`, which is not an amount: it has more than 2 decimals; expected digits with an optional `.` and up to 2 decimals, like 1234.50\n\n"
    );
}

#[test]
fn data_negative_amount_below_the_schema_min() {
    let s = Sandbox::tiny("negative-amount");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renewal,-5.00,am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:5: `amount` is `-5.00`, which is not allowed: the schema requires at least 0\n\n"
    );
}

#[test]
fn data_date_that_does_not_exist() {
    let s = Sandbox::tiny("date-feb-30");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-02-30,acme,renewal,5.00,am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:2: `close_date` is `2026-02-30`, which is not a date
  = help: expected YYYY-MM-DD, like 2026-03-31

"
    );
}

#[test]
fn data_date_in_day_month_year_order() {
    let s = Sandbox::tiny("date-dmy");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,31/01/2026,acme,renewal,5.00,am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:2: `close_date` is `31/01/2026`, which is not a date
  = help: expected YYYY-MM-DD, like 2026-03-31

"
    );
}

#[test]
fn data_duplicate_transaction_id() {
    let s = Sandbox::tiny("duplicate-id");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}\
d1,2026-01-15,acme,renewal,5.00,am1
d2,2026-01-15,acme,renewal,5.00,am1
d1,2026-01-16,acme,renewal,7.00,am1
"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:4:1: transaction `d1` appears twice (first on line 2)
  = help: each transaction id must be unique; a changed row should replace the old one

"
    );
}

#[test]
fn data_unknown_participant_in_owner_id() {
    let s = Sandbox::tiny("unknown-owner");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renewal,5.00,bob\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:6: `owner_id` is `bob`, which is not a known participant: no row of the participants file has this id\n\n"
    );
}

#[test]
fn data_unknown_plan_in_participants() {
    let s = Sandbox::tiny("unknown-plan");
    s.write(
        "people.csv",
        "participant_id,name,manager_id,plan\nam1,Ada,,retention_comission\n",
    );
    let run = s.calc().fails();
    assert_eq!(
        run.stderr,
        "error: people.csv:2:4: plan `retention_comission` is not defined in the workspace
  = help: did you mean `retention_commission`? plans: retention_commission

"
    );
}

#[test]
fn data_kind_not_among_the_allowed_values() {
    let s = Sandbox::tiny("kind-not-allowed");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renwal,5.00,am1\n"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:4: `kind` is `renwal`, which is not an allowed value
  = help: did you mean `renewal`? expected one of renewal, upsell, cross_sell, downsell, churn

"
    );
}

#[test]
fn data_row_with_the_wrong_number_of_fields() {
    let s = Sandbox::tiny("field-count-short");
    let run = s
        .calc_deals(format!("{DEALS_HEADER}d1,2026-01-15,acme,renewal,5.00\n"))
        .fails();
    assert_one_error_on_line(
        &run.stderr,
        "deals.csv",
        2,
        "this row has 5 fields, but the header has 6",
        "",
    );
    // An unquoted decimal comma splits the amount in two.
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}d1,2026-01-15,acme,renewal,12,50,am1\n"
        ))
        .fails();
    assert_one_error_on_line(
        &run.stderr,
        "deals.csv",
        2,
        "this row has 7 fields, but the header has 6",
        "",
    );
}

#[test]
fn data_participants_row_with_the_wrong_number_of_fields() {
    let s = Sandbox::tiny("people-field-count");
    s.write(
        "people.csv",
        "participant_id,name,manager_id,plan\nam1,Ada,,retention_commission,x\n",
    );
    let run = s.calc().fails();
    assert_one_error_on_line(
        &run.stderr,
        "people.csv",
        2,
        "this row has 5 fields, but the header has 4",
        "",
    );
}

#[test]
fn data_missing_required_column_in_the_header() {
    let s = Sandbox::tiny("missing-column");
    let run = s
        .calc_deals(
            "deal_id,close_date,account_id,knd,amount,owner_id\nd1,2026-01-15,acme,renewal,5.00,am1\n",
        )
        .fails();
    assert_one_error_on_line(
        &run.stderr,
        "deals.csv",
        1,
        "column `kind` is missing",
        "  = help: did you mean `knd`? the file has: deal_id, close_date, account_id, knd, amount, owner_id",
    );
}

#[test]
fn data_manager_that_is_not_a_participant() {
    let s = Sandbox::tiny("unknown-manager");
    s.write(
        "people.csv",
        "participant_id,name,manager_id,plan\nam1,Ada,mgr9,retention_commission\n",
    );
    let run = s.calc().fails();
    assert_eq!(
        run.stderr,
        "error: people.csv:2:3: manager `mgr9` is not a participant
  = help: every manager must have a row of their own

"
    );
}

#[test]
fn data_manager_cycle() {
    let s = Sandbox::tiny("manager-cycle");
    s.write(
        "people.csv",
        "\
participant_id,name,manager_id,plan
am1,Ada,am2,retention_commission
am2,Alan,am3,retention_commission
am3,Barbara,am1,retention_commission
",
    );
    let run = s.calc().fails();
    assert_eq!(
        run.stderr,
        "error: people.csv:2:3: participant `am1` is their own manager through the chain of managers
  = help: the management hierarchy must be a tree

error: people.csv:3:3: participant `am2` is their own manager through the chain of managers
  = help: the management hierarchy must be a tree

error: people.csv:4:3: participant `am3` is their own manager through the chain of managers
  = help: the management hierarchy must be a tree

3 errors
"
    );
}

#[test]
fn data_participant_who_manages_themself() {
    let s = Sandbox::tiny("own-manager");
    s.write(
        "people.csv",
        "participant_id,name,manager_id,plan\nam1,Ada,am1,retention_commission\n",
    );
    let run = s.calc().fails();
    assert_eq!(
        run.stderr,
        "error: people.csv:2:3: participant `am1` is their own manager\n\n"
    );
}

#[test]
fn data_invalid_utf8_in_the_transactions_file() {
    let s = Sandbox::tiny("invalid-utf8");
    let mut deals = DEALS_HEADER.as_bytes().to_vec();
    deals.extend_from_slice(b"d1,2026-01-15,ac\xffme,renewal,5.00,am1\n");
    let run = s.calc_deals(deals).fails();
    assert_one_error_on_line(
        &run.stderr,
        "deals.csv",
        2,
        "this row is not valid UTF-8 text",
        "  = help: save the file as UTF-8",
    );
}

#[test]
fn data_quoted_field_holding_a_comma_is_read() {
    // A `"` anywhere sends the transactions reader down its quote-aware path.
    let s = Sandbox::tiny("quoted-comma");
    s.edit("deals.csv", ",globex,", ",\"globex, inc\",");
    let run = s.calc().ok();
    assert_eq!(run.stdout, TINY_PAYOUTS);
    assert_eq!(run.stderr, "");
    let run = s
        .attain(&[
            "explain",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--participant",
            "am1",
            "--period",
            "2026-Q1",
        ])
        .ok();
    assert!(
        run.stdout
            .contains("  2026-03-31  d3  globex, inc  renewal"),
        "{run:?}"
    );
}

#[test]
fn data_line_numbers_stay_right_after_a_quoted_field_spanning_lines() {
    let s = Sandbox::tiny("quoted-newline");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}\
d1,2026-01-15,\"acme, inc\",renewal,5.00,am1
d2,2026-01-15,\"two
lines\",renewal,5.00,am1
d3,2026-01-15,acme,renewal,5.0.0,am1
"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:5:5: `amount` is `5.0.0`, which is not an amount: it is not a number; expected digits with an optional `.` and up to 2 decimals, like 1234.50\n\n"
    );
}

#[test]
fn data_crlf_line_ends_are_read() {
    let s = Sandbox::tiny("crlf");
    let run = s.calc_deals(TINY_DEALS.replace('\n', "\r\n")).ok();
    assert_eq!(run.stdout, TINY_PAYOUTS);
}

#[test]
fn data_problems_on_several_rows_are_all_reported() {
    let s = Sandbox::tiny("several-rows");
    let run = s
        .calc_deals(format!(
            "{DEALS_HEADER}\
d1,2026-01-15,acme,renewal,x,am1
d2,2026-01-15,acme,renewal,5.00,am1
d3,2026-13-01,acme,renewal,5.00,am1
"
        ))
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:5: `amount` is `x`, which is not an amount: it is not a number; expected digits with an optional `.` and up to 2 decimals, like 1234.50

error: deals.csv:4:2: `close_date` is `2026-13-01`, which is not a date
  = help: expected YYYY-MM-DD, like 2026-03-31

2 errors
"
    );
}

#[test]
fn data_missing_transactions_file() {
    let s = Sandbox::tiny("missing-file");
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "nowhere.csv",
        ])
        .fails();
    assert!(
        run.stderr
            .starts_with("error: nowhere.csv: cannot read this file: "),
        "{run:?}"
    );
    assert_eq!(diagnostics(&run.stderr).len(), 1, "{run:?}");
}

#[test]
fn data_missing_participants_file() {
    let s = Sandbox::tiny("missing-people");
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "nobody.csv",
            "--transactions",
            "deals.csv",
        ])
        .fails();
    assert!(
        run.stderr
            .starts_with("error: nobody.csv: cannot read this file: "),
        "{run:?}"
    );
}

/// Panicked at 162c071 (index out of bounds in engine/credit.rs: the merged
/// transactions had no field columns); fixed by bc5a129.
#[test]
fn data_transactions_file_with_no_rows() {
    let s = Sandbox::tiny("header-only");
    let run = s.calc_deals(DEALS_HEADER).ok();
    assert_eq!(
        run.stdout,
        "\
participant_id,period,component,payout
am1,2026-Q1,commission,0.00
am1,2026-Q2,commission,0.00
am1,2026-Q3,commission,0.00
am1,2026-Q4,commission,0.00
am2,2026-Q1,commission,0.00
am2,2026-Q2,commission,0.00
am2,2026-Q3,commission,0.00
am2,2026-Q4,commission,0.00
"
    );
}

#[test]
fn data_empty_transactions_file() {
    let s = Sandbox::tiny("empty-file");
    let run = s.calc_deals("").fails();
    let diags = diagnostics(&run.stderr);
    assert_eq!(diags.len(), 1, "{run:?}");
    assert!(diags[0].starts_with("error: deals.csv"), "{run:?}");
    assert!(diags[0].contains("empty"), "{run:?}");
}

#[test]
fn data_optional_column_absent_from_the_file() {
    let s = Sandbox::tiny("optional-column");
    s.edit(
        "attain.toml",
        "owner = { column = \"owner_id\", type = \"participant\" }\n",
        "owner = { column = \"owner_id\", type = \"participant\" }\n\
         product = { type = \"text\", optional = true }\n",
    );
    let run = s.calc().ok();
    assert_eq!(run.stdout, TINY_PAYOUTS);
}

#[test]
fn data_more_problems_than_are_listed() {
    let s = Sandbox::tiny("many-errors");
    let mut deals = String::from(DEALS_HEADER);
    for i in 1..=60 {
        deals.push_str(&format!("d{i},2026-01-15,acme,renewal,x{i},am1\n"));
    }
    let run = s.calc_deals(deals).fails();
    let diags = diagnostics(&run.stderr);
    assert_eq!(diags.len(), 50, "{run:?}");
    for (i, d) in diags[..50].iter().enumerate() {
        let prefix = format!("error: deals.csv:{}:5: `amount` is `x{}`", i + 2, i + 1);
        assert!(d.starts_with(&prefix), "{prefix}... expected, got {d}");
    }
    assert!(
        run.stderr
            .ends_with("note: deals.csv: and 10 more problems in this file\n\n"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("errors\n"), "{run:?}");
}

/// The tiny workspace with a split owner and a split percent per deal.
fn tiny_with_splits(name: &str) -> Sandbox {
    let s = Sandbox::tiny(name);
    s.edit(
        "attain.toml",
        "owner = { column = \"owner_id\", type = \"participant\" }\n",
        "owner = { column = \"owner_id\", type = \"participant\" }\n\
         split_owner = { column = \"split_owner_id\", type = \"participant\", optional = true }\n\
         split_pct = { column = \"split_pct\", type = \"integer\", optional = true, min = 0 }\n",
    );
    s.edit(
        "attain.toml",
        "to = \"owner\"\n",
        "to = \"owner\"\n\n[[credit.split]]\nto = \"split_owner\"\npercent = \"split_pct\"\n",
    );
    s
}

#[test]
fn data_split_percent_missing() {
    let s = tiny_with_splits("split-missing");
    let run = s
        .calc_deals(
            "deal_id,close_date,account_id,kind,amount,owner_id,split_owner_id,split_pct\n\
             d1,2026-01-15,acme,renewal,1000.00,am1,am2,\n",
        )
        .fails();
    let diags = diagnostics(&run.stderr);
    assert_eq!(diags.len(), 1, "{run:?}");
    assert!(diags[0].starts_with("error: deals.csv:2:"), "{run:?}");
    assert!(
        diags[0].contains("`split_pct` is empty, but `split_owner_id` names a split owner"),
        "{run:?}"
    );
}

#[test]
fn data_split_percent_that_is_not_a_number_is_reported_once() {
    let s = tiny_with_splits("split-not-a-number");
    let run = s
        .calc_deals(
            "deal_id,close_date,account_id,kind,amount,owner_id,split_owner_id,split_pct\n\
             d1,2026-01-15,acme,renewal,1000.00,am1,am2,abc\n",
        )
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:2:8: `split_pct` is `abc`, which is not a whole number\n\n"
    );
}

#[test]
fn data_column_named_twice_in_the_header() {
    let s = Sandbox::tiny("column-twice");
    let run = s
        .calc_deals(
            "deal_id,close_date,account_id,kind,amount,owner_id,kind\n\
             d1,2026-01-15,acme,renewal,5.00,am1,renewal\n",
        )
        .fails();
    assert_eq!(
        run.stderr,
        "error: deals.csv:1:7: column `kind` appears twice: columns 4 and 7\n  = help: keep one column named `kind`\n\n"
    );
}

#[test]
fn data_negative_quota_in_the_quotas_file() {
    let s = Sandbox::tiny("negative-quota");
    s.write(
        "quotas.csv",
        "participant_id,quota,period,amount\nam1,nrr_target,2026-Q1,-300000\n",
    );
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--quotas",
            "quotas.csv",
        ])
        .fails();
    assert_eq!(
        run.stderr,
        "error: quotas.csv:2:4: `amount` is `-300000`, which is below zero: a quota must be at least 0\n\n"
    );
}

/// A quota given for a kind of period no component reads it in would be
/// ignored without a word; the readers refuse it instead.
#[test]
fn data_quota_for_a_period_nothing_reads_it_in() {
    let s = Sandbox::tiny("quota-period-unread");
    s.write(
        "quotas.csv",
        "participant_id,quota,period,amount\n\
         am1,nrr_target,2026-Q2,250000\n\
         am1,nrr_target,2026-M01,100000\n\
         am1,nrr_target,2026,1200000\n",
    );
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--quotas",
            "quotas.csv",
        ])
        .fails();
    assert_eq!(
        run.stderr,
        "error: quotas.csv:3:3: quota `nrr_target` is read by quarter components only, but \
         `2026-M01` is a month: nothing would read this amount\n  = help: give `nrr_target` \
         for a quarter\n\n\
         error: quotas.csv:4:3: quota `nrr_target` is read by quarter components only, but \
         `2026` is a year: nothing would read this amount\n  = help: give `nrr_target` for a \
         quarter\n\n2 errors\n"
    );
}

#[test]
fn data_zero_quota_in_the_quotas_file_is_allowed() {
    let s = Sandbox::tiny("zero-quota");
    s.write(
        "quotas.csv",
        "participant_id,quota,period,amount\nam1,nrr_target,2026-Q1,0\n",
    );
    let run = s
        .attain(&[
            "explain",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--quotas",
            "quotas.csv",
            "--participant",
            "am1",
            "--period",
            "2026-Q1",
        ])
        .ok();
    assert_lines_in_order(
        &run.stdout,
        &["  attainment has no value: the quota is zero"],
    );
}

#[test]
fn data_leave_date_before_the_hire_date() {
    let s = Sandbox::tiny("leave-before-hire");
    s.edit(
        "attain.toml",
        "plan = \"plan\"\n",
        "plan = \"plan\"\nstart = \"hire_date\"\nend = \"leave_date\"\n",
    );
    s.write(
        "people.csv",
        "participant_id,name,manager_id,plan,hire_date,leave_date\n\
         mgr1,Grace,,,,\n\
         am1,Ada,mgr1,retention_commission,2026-03-01,2026-01-31\n\
         am2,Alan,mgr1,retention_commission,2026-01-01,2026-01-01\n",
    );
    let run = s.calc().fails();
    assert_eq!(
        run.stderr,
        "error: people.csv:3:6: `leave_date` is 2026-01-31, before `hire_date` 2026-03-01: the last active day cannot come before the first\n  = help: expected `leave_date` on or after 2026-03-01, or empty\n\n"
    );
}

// ---------------------------------------------------------------------------
// 3. No partial output
// ---------------------------------------------------------------------------

fn calc_out(s: &Sandbox) -> Run {
    s.attain(&[
        "calc",
        "--participants",
        "people.csv",
        "--transactions",
        "deals.csv",
        "--out",
        "payouts.csv",
    ])
}

#[test]
fn output_calc_writes_the_whole_payouts_file() {
    let s = Sandbox::tiny("out-ok");
    let run = calc_out(&s).ok();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "8 payouts, total $48,000.00, written to payouts.csv\n"
    );
    assert_eq!(s.read_text("payouts.csv"), TINY_PAYOUTS);
    assert_eq!(
        s.files(),
        [
            "attain.toml",
            "deals.csv",
            "payouts.csv",
            "people.csv",
            "plans/retention_commission.toml"
        ]
    );
}

#[test]
fn output_calc_with_bad_data_writes_nothing() {
    let s = Sandbox::tiny("out-bad-data");
    s.write(
        "deals.csv",
        format!("{DEALS_HEADER}d1,2026-01-15,acme,renewal,12.505,am1\n"),
    );
    let before = s.snapshot();
    calc_out(&s).fails();
    assert!(!s.exists("payouts.csv"));
    assert_eq!(s.snapshot(), before, "no file, temporary or not, is left");
}

#[test]
fn output_failed_calc_leaves_the_previous_payouts_untouched() {
    let s = Sandbox::tiny("out-keep-old");
    let old: &[u8] = b"participant_id,period,component,payout\nam1,2026-Q1,commission,1.00\n\xff";
    s.write("payouts.csv", old);
    s.write(
        "deals.csv",
        format!("{DEALS_HEADER}d1,2026-02-30,acme,renewal,5.00,am1\n"),
    );
    let before = s.snapshot();
    calc_out(&s).fails();
    assert_eq!(s.read("payouts.csv"), old);
    assert_eq!(s.snapshot(), before);
}

#[test]
fn output_failed_plan_check_leaves_the_previous_payouts_untouched() {
    let s = Sandbox::tiny("out-bad-plan");
    s.write("payouts.csv", "old payouts\n");
    s.edit("plans/retention_commission.toml", "\"12.5%\"", "\"$12.5\"");
    let before = s.snapshot();
    let run = calc_out(&s).fails();
    assert!(
        run.stderr
            .starts_with("error: plans/retention_commission.toml:13:"),
        "{run:?}"
    );
    assert_eq!(s.snapshot(), before);
}

#[test]
fn output_calc_into_a_missing_folder() {
    let s = Sandbox::tiny("out-no-folder");
    let before = s.snapshot();
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--out",
            "nowhere/payouts.csv",
        ])
        .fails();
    assert!(
        run.stderr
            .starts_with("error: nowhere/payouts.csv: cannot write this file: "),
        "{run:?}"
    );
    assert_eq!(s.snapshot(), before);
}

#[test]
fn output_calc_onto_a_folder_leaves_no_temporary_file() {
    let s = Sandbox::tiny("out-onto-folder");
    std::fs::create_dir(s.path("payouts.csv")).unwrap();
    let before = s.snapshot();
    let run = calc_out(&s).fails();
    assert!(
        run.stderr
            .starts_with("error: payouts.csv: cannot write this file: "),
        "{run:?}"
    );
    assert_eq!(s.snapshot(), before);
}

/// Each file `attain calc` reads, named for `--out` in another spelling:
/// refused before anything is written.
#[test]
fn output_calc_onto_an_input_file_is_refused() {
    let s = Sandbox::tiny("out-onto-input");
    s.write(
        "quotas.csv",
        "participant_id,quota,period,amount\nam1,nrr_target,2026-Q1,300000\n",
    );
    s.write(
        "assignments.csv",
        "participant_id,plan,start,end\nam1,retention_commission,,\n",
    );
    let before = s.snapshot();
    for (out, what) in [
        ("./people.csv", "participants file"),
        ("../{root}/deals.csv", "transactions file"),
        ("quotas.csv", "quotas file"),
        ("assignments.csv", "assignments file"),
        ("attain.toml", "workspace file"),
        ("plans/retention_commission.toml", "plan file"),
    ] {
        let Some(root) = s.root.file_name().and_then(|n| n.to_str()) else {
            panic!("no name: {}", s.root.display());
        };
        let out = out.replace("{root}", root);
        let run = s
            .attain(&[
                "calc",
                "--participants",
                "people.csv",
                "--transactions",
                "deals.csv",
                "--quotas",
                "quotas.csv",
                "--assignments",
                "assignments.csv",
                "--out",
                &out,
            ])
            .fails();
        assert_eq!(
            run.stderr,
            format!("error: {out}: --out names the {what} this command reads; nothing was written\n  = help: choose another file for --out\n\n")
        );
    }
    assert_eq!(s.snapshot(), before);
}

#[test]
fn output_of_other_commands_onto_an_input_file_is_refused() {
    let s = Sandbox::stored("out-onto-input-others");
    let before = s.snapshot();
    let refused = |args: &[&str], out: &str, flag: &str, what: &str| {
        let run = s.store(args).fails();
        assert_eq!(
            run.stderr,
            format!("error: {out}: {flag} names the {what} this command reads; nothing was written\n  = help: choose another file for {flag}\n\n")
        );
    };
    refused(
        &[
            "export",
            "payroll",
            "--period",
            "2026-M03",
            "--out",
            "attain.db",
        ],
        "attain.db",
        "--out",
        "store",
    );
    refused(
        &[
            "chart",
            "distribution",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--out",
            "deals.csv",
        ],
        "deals.csv",
        "--out",
        "transactions file",
    );
    refused(
        &[
            "chart",
            "curve",
            "--plan",
            "retention_commission",
            "--component",
            "commission",
            "--out",
            "attain.toml",
        ],
        "attain.toml",
        "--out",
        "workspace file",
    );
    refused(
        &[
            "sweep",
            "--vary",
            "quota.nrr_target=300000,400000",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--out",
            "people.csv",
        ],
        "people.csv",
        "--out",
        "participants file",
    );
    refused(
        &[
            "whatif",
            "--candidate",
            "retention_commission=retention_commission",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--svg",
            "deals.csv",
        ],
        "deals.csv",
        "--svg",
        "transactions file",
    );
    assert_eq!(s.snapshot(), before);
}

// ---------------------------------------------------------------------------
// 4. Plan errors from `attain check`
// ---------------------------------------------------------------------------

/// The tiny workspace with one more plan file, checked.
fn check_with_plan(name: &str, plan: &str) -> Run {
    let s = Sandbox::tiny(name);
    s.write(&format!("plans/{name}.toml"), plan);
    s.attain(&["check"])
}

/// The tiny workspace with `attain.toml` edited, checked.
fn check_with_workspace_edit(name: &str, from: &str, to: &str) -> Run {
    let s = Sandbox::tiny(name);
    s.edit("attain.toml", from, to);
    s.attain(&["check"])
}

#[test]
fn check_passes_on_the_tiny_workspace() {
    let s = Sandbox::tiny("check-ok");
    let run = s.attain(&["check"]).ok();
    assert_eq!(run.stdout, "ok: 1 plan, 1 component, 5 measures, 1 quota\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn check_without_a_workspace() {
    let s = Sandbox::empty("check-nothing");
    let run = s.attain(&["check"]).fails();
    let diags = diagnostics(&run.stderr);
    assert_eq!(diags.len(), 1, "{run:?}");
    assert!(
        diags[0].starts_with("error: ") && diags[0].contains("attain.toml: no attain.toml here"),
        "{run:?}"
    );
    assert!(
        diags[0].ends_with(
            "\n  = help: run `attain init DIR` to start a workspace, or pass `--workspace DIR`"
        ),
        "{run:?}"
    );
}

#[test]
fn check_gap_between_bands() {
    let run = check_with_plan(
        "gap",
        r#"[plan]
id = "gap"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
quota = "nrr_target"
bands = [
  { from = "0%", to = "90%", rate = "5%" },
  { from = "100%", rate = "10%" },
]
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/gap.toml:11:12: band 2 starts at 100% but the previous band ends at 90%: 90% to 100% is not covered
   |
11 |   { from = "100%", rate = "10%" },
   |            ^^^^^^
   = help: make each band start where the previous one ends

"#
    );
}

#[test]
fn check_overlapping_bands() {
    let run = check_with_plan(
        "overlap",
        r#"[plan]
id = "overlap"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
quota = "nrr_target"
bands = [
  { from = "0%", to = "110%", rate = "5%" },
  { from = "100%", rate = "10%" },
]
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/overlap.toml:11:12: band 2 starts at 100% but the previous band ends at 110%: the bands overlap
   |
11 |   { from = "100%", rate = "10%" },
   |            ^^^^^^
   = help: make each band start where the previous one ends

"#
    );
}

#[test]
fn check_bands_mixing_percent_and_amounts() {
    let run = check_with_plan(
        "mixed",
        r#"[plan]
id = "mixed"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
quota = "nrr_target"
bands = [
  { from = "0%", rate = "5%" },
  { from = "$300_000", rate = "10%" },
]
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/mixed.toml:11:12: band 2 is written in amounts but the previous bands in attainment
   |
11 |   { from = "$300_000", rate = "10%" },
   |            ^^^^^^^^^^
   = help: write every edge of one table the same way

"#
    );
}

#[test]
fn check_band_gap_in_amounts_of_the_workspaces_currency() {
    let s = Sandbox::tiny("gap-euro");
    s.edit("attain.toml", "currency = \"USD\"", "currency = \"EUR\"");
    s.write(
        "plans/gap.toml",
        r#"[plan]
id = "gap"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
bands = [
  { from = "$0", to = "$300_000", rate = "5%" },
  { from = "$310_000", rate = "10%" },
]
"#,
    );
    let run = s.attain(&["check"]).fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/gap.toml:10:12: band 2 starts at €310,000.00 but the previous band ends at €300,000.00: €300,000.00 to €310,000.00 is not covered
   |
10 |   { from = "$310_000", rate = "10%" },
   |            ^^^^^^^^^^
   = help: make each band start where the previous one ends

"#
    );
}

#[test]
fn check_unknown_measure_in_a_component() {
    let run = check_with_plan(
        "typo",
        r#"[plan]
id = "typo"

[[components]]
id = "commission"
period = "quarter"
measure = "nrrr"
rate = "5%"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/typo.toml:7:11: unknown measure `nrrr`
  |
7 | measure = "nrrr"
  |           ^^^^^^
  = help: did you mean `nrr`?

"#
    );
}

#[test]
fn check_money_plus_a_plain_number() {
    let run = check_with_plan(
        "types",
        r#"[plan]
id = "types"

[[components]]
id = "bonus"
period = "quarter"
payout = "grr + 1_000"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/types.toml:7:11: cannot add money and a number
  |
7 | payout = "grr + 1_000"
  |           ^^^^^^^^^^^
  = help: write an amount with a `$`, as in `$1_000`

"#
    );
}

const MEASURE_CYCLE: &str = r#"error: attain.toml:41:5: measures depend on each other in a cycle: a → b → a
   |
41 | a = "b + $1"
   |     ^^^^^^^^
   = help: a measure cannot be computed from itself; break the cycle"#;

fn check_measure_cycle_run(name: &str) -> Run {
    check_with_workspace_edit(
        name,
        "nrr         = \"renewal + expansion - contraction\"\n",
        "nrr         = \"renewal + expansion - contraction\"\na = \"b + $1\"\nb = \"a\"\n",
    )
    .fails()
}

/// Fixed split shares over 100% would refuse every deal at `calc`; the
/// checker says so first, at the share that goes over.
#[test]
fn check_fixed_split_shares_over_the_whole_deal() {
    let s = tiny_with_splits("fixed-splits-over");
    s.edit(
        "attain.toml",
        "percent = \"split_pct\"\n",
        "percent = \"60%\"\n\n[[credit.split]]\nto = \"split_owner\"\npercent = \"53%\"\n",
    );
    let run = s.attain(&["check"]).fails();
    let diags = diagnostics(&run.stderr);
    assert_eq!(
        diags,
        [
            "error: attain.toml:43:11: the fixed split shares add up to 113%, more than the whole deal\n   \
             |\n\
             43 | percent = \"53%\"\n   \
             |           ^^^^^\n   \
             = help: the owner keeps what the splits leave: make the fixed shares add up to at most 100%"
        ],
        "{run:?}"
    );
}

#[test]
fn check_cycle_between_measures() {
    let run = check_measure_cycle_run("cycle");
    assert_eq!(diagnostics(&run.stderr)[0], MEASURE_CYCLE, "{run:?}");
}

#[test]
fn check_cycle_between_measures_is_the_only_error() {
    let run = check_measure_cycle_run("cycle-alone");
    assert_eq!(run.stderr, format!("{MEASURE_CYCLE}\n\n"));
}

const UNKNOWN_WHERE_FIELD: &str = r#"error: attain.toml:36:42: unknown name `knd`
   |
36 | renewal     = { sum = "credit", where = "knd == 'renewal'" }
   |                                          ^^^
   = help: did you mean `kind`?"#;

fn check_unknown_where_field_run(name: &str) -> Run {
    check_with_workspace_edit(
        name,
        "where = \"kind == 'renewal'\"",
        "where = \"knd == 'renewal'\"",
    )
    .fails()
}

#[test]
fn check_unknown_field_in_a_where_filter() {
    let run = check_unknown_where_field_run("where-field");
    assert_eq!(diagnostics(&run.stderr)[0], UNKNOWN_WHERE_FIELD, "{run:?}");
}

#[test]
fn check_unknown_field_in_a_where_filter_is_the_only_error() {
    let run = check_unknown_where_field_run("where-field-alone");
    assert_eq!(run.stderr, format!("{UNKNOWN_WHERE_FIELD}\n\n"));
}

#[test]
fn check_text_literal_not_among_the_field_values() {
    let run = check_with_workspace_edit(
        "text-value",
        "where = \"kind == 'renewal'\"",
        "where = \"kind == 'renwal'\"",
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: attain.toml:36:50: `kind` is never 'renwal'
   |
36 | renewal     = { sum = "credit", where = "kind == 'renwal'" }
   |                                                  ^^^^^^^^
   = help: did you mean 'renewal'? `kind` takes renewal, upsell, cross_sell, downsell, churn

"#
    );
}

#[test]
fn check_unknown_key_in_a_table() {
    let run = check_with_plan(
        "unknown-key",
        r#"[plan]
id = "unknown_key"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
rate = "5%"
captial = "$1_000"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/unknown-key.toml:9:1: unknown field `captial`, expected one of `id`, `name`, `period`, `measure`, `quota`, `gate`, `rate`, `tiers`, `bands`, `per_point`, `points_rounding`, `curve`, `amount`, `payout`, `cap`, `floor`, `rounding`, `holdback`, `accept`
  |
9 | captial = "$1_000"
  | ^^^^^^^

"#
    );
}

#[test]
fn check_misspelt_key_gets_the_nearest_name() {
    let run = check_with_plan(
        "misspelt-key",
        r#"[plan]
id = "misspelt_key"

[[components]]
id = "commission"
period = "quarter"
measrue = "nrr"
rate = "5%"
"#,
    )
    .fails();
    assert!(
        run.stderr.starts_with(
            "error: plans/misspelt-key.toml:7:1: unknown field `measrue`, expected one of `id`, "
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .ends_with("  = help: did you mean `measure`?\n\n"),
        "{run:?}"
    );
}

#[test]
fn check_unknown_key_in_the_workspace_file() {
    let run = check_with_workspace_edit("unknown-ws-key", "year = 2026", "yaer = 2026").fails();
    assert_eq!(
        run.stderr,
        r#"error: attain.toml:10:1: unknown field `yaer`, expected `first_month` or `year`
   |
10 | yaer = 2026
   | ^^^^
   = help: did you mean `year`?

"#
    );
}

#[test]
fn check_toml_syntax_error() {
    let run = check_with_plan(
        "syntax",
        r#"[plan]
id = "syntax"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
rate = "5%
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/syntax.toml:8:11: invalid basic string, expected `"`
  |
8 | rate = "5%
  |           ^
  = help: a string ends on its own line with the quote it opened with; text over several lines goes between `"""`

"#
    );
}

#[test]
fn check_rate_written_as_money() {
    let run = check_with_plan(
        "rate-money",
        r#"[plan]
id = "rate_money"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
rate = "$5"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/rate-money.toml:8:8: `rate` is a rate, but `"$5"` is an amount of money
  |
8 | rate = "$5"
  |        ^^^^
  = help: write a rate as `"7.5%"` or `0.075`

"#
    );
}

#[test]
fn check_negative_quota_in_the_workspace_file() {
    let run = check_with_workspace_edit(
        "negative-quota-plan",
        "nrr_target = { amount = 300_000,",
        "nrr_target = { amount = -300_000,",
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: attain.toml:43:25: quota `nrr_target` is `-300_000`, which is below zero
   |
43 | nrr_target = { amount = -300_000, prorate = "none" }
   |                         ^^^^^^^^
   = help: a quota must be at least 0, like `300_000` or `"$300_000"`

"#
    );
}

#[test]
fn check_negative_quota_in_a_plan_test() {
    let s = Sandbox::tiny("negative-quota-test");
    s.append(
        "plans/retention_commission.toml",
        "\n[[tests]]\nname = \"below zero\"\nmeasures = { nrr = 1 }\nquotas = { nrr_target = -5 }\nexpect = { commission = 0 }\n",
    );
    let run = s.attain(&["test"]).fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/retention_commission.toml:25:25: quota `nrr_target` is `-5`, which is below zero
   |
25 | quotas = { nrr_target = -5 }
   |                         ^^
   = help: a quota must be at least 0, like `300_000` or `"$300_000"`

"#
    );
}

#[test]
fn check_unknown_plan_in_includes() {
    let run = check_with_plan(
        "includes",
        r#"[plan]
id = "includes"
includes = ["retention_comission"]

[[components]]
id = "upsell"
period = "quarter"
measure = "expansion"
rate = "5%"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/includes.toml:3:13: unknown plan `retention_comission`
  |
3 | includes = ["retention_comission"]
  |             ^^^^^^^^^^^^^^^^^^^^^
  = help: did you mean `retention_commission`?

"#
    );
}

#[test]
fn check_reports_every_error_of_a_file_in_one_run() {
    let run = check_with_plan(
        "several",
        r#"[plan]
id = "several"

[[components]]
id = "a"
period = "quarter"
measure = "nrrr"
rate = "5%"

[[components]]
id = "b"
period = "quarter"
payout = "grr + 1_000"

[[components]]
id = "c"
period = "quarter"
measure = "nrr"
rate = "$5"
"#,
    )
    .fails();
    let heads: Vec<&str> = diagnostics(&run.stderr)
        .iter()
        .map(|d| d.lines().next().unwrap_or(""))
        .collect();
    assert_eq!(
        heads,
        [
            "error: plans/several.toml:7:11: unknown measure `nrrr`",
            "error: plans/several.toml:13:11: cannot add money and a number",
            "error: plans/several.toml:19:8: `rate` is a rate, but `\"$5\"` is an amount of money",
        ]
    );
    assert!(run.stderr.ends_with("\n\n3 errors\n"), "{run:?}");
}

/// A workspace made by `attain init` (the brief's thirteen plans, some
/// including others) with one file edited, checked.
fn check_init_workspace_with_edit(name: &str, file: &str, from: &str, to: &str) -> Run {
    let s = Sandbox::empty(name);
    s.attain(&["init", "ws"]).ok();
    s.edit(&format!("ws/{file}"), from, to);
    s.attain_in("ws", &["check"])
}

#[test]
fn check_a_component_that_fails_is_reported_once_not_at_each_plan_test() {
    // Nine plan tests name `commission`, in its plan and in plans that
    // include it: none is reported, the component's own problem is.
    let run = check_init_workspace_with_edit(
        "broken-component",
        "plans/retention_commission.toml",
        "measure = \"nrr\"               #",
        "measure = \"nrrr\"               #",
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/retention_commission.toml:27:11: unknown measure `nrrr`
   |
27 | measure = "nrrr"               # what is paid on (see [measures] in attain.toml)
   |           ^^^^^^
   = help: did you mean `nrr`?

"#
    );
}

#[test]
fn check_a_quota_that_fails_is_reported_once_not_where_it_is_read() {
    // `nrr_target` is read by two roll-up measures, four components and
    // their plan tests in five plans.
    let run = check_init_workspace_with_edit(
        "broken-quota",
        "attain.toml",
        "nrr_target       = { amount = 300_000,",
        "nrr_target       = { amount = \"7.5%\",",
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: attain.toml:209:31: a quota is an amount of money, but `"7.5%"` is a percent
    |
209 | nrr_target       = { amount = "7.5%", prorate = "active_days", description = "Quarterly net revenue retention quota (plans 1, 3 and the NRR plan)" }
    |                               ^^^^^^
    = help: write an amount such as `"$5_000"` or `5_000`

"#
    );
}

#[test]
fn check_a_plan_test_naming_a_missing_component_suggests_the_nearest() {
    let s = Sandbox::tiny("test-component-typo");
    s.append(
        "plans/retention_commission.toml",
        r#"
[[tests]]
name = "a typo"
measures = { nrr = 300_000 }
expect = { comission = 22_500 }
"#,
    );
    let run = s.attain(&["check"]).fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/retention_commission.toml:25:12: plan `retention_commission` has no component `comission`
   |
25 | expect = { comission = 22_500 }
   |            ^^^^^^^^^
   = help: did you mean `commission`?

"#
    );
}

#[test]
fn check_a_plan_test_naming_a_missing_component_beside_a_broken_one() {
    // `commission` is declared but broken (reported once); `bonus` is
    // named by no component at all, and is reported.
    let s = Sandbox::tiny("test-component-missing");
    s.edit(
        "plans/retention_commission.toml",
        "measure = \"nrr\"",
        "measure = \"nrrr\"",
    );
    s.append(
        "plans/retention_commission.toml",
        r#"
[[tests]]
name = "a component that is not there"
measures = { nrr = 300_000 }
expect = { commission = 22_500, bonus = 1_000 }
"#,
    );
    let run = s.attain(&["check"]).fails();
    let heads: Vec<&str> = diagnostics(&run.stderr)
        .iter()
        .map(|d| d.lines().next().unwrap_or(""))
        .collect();
    assert_eq!(
        heads,
        [
            "error: plans/retention_commission.toml:8:11: unknown measure `nrrr`",
            "error: plans/retention_commission.toml:25:33: plan `retention_commission` has no component `bonus`",
        ],
        "{run:?}"
    );
    assert!(
        run.stderr
            .ends_with("  = help: components: commission\n\n2 errors\n"),
        "{run:?}"
    );
}

#[test]
fn check_a_plan_including_a_rejected_plan_file_is_not_reported_again() {
    let s = Sandbox::tiny("include-broken");
    s.write(
        "plans/broken.toml",
        "[plan]\nid = \"broken\"\n\n[[components]]\nid = \"upsell\"\nperiod = \"quarter\"\nmeasure = \"expansion\"\nrate = \"5%\n",
    );
    s.write(
        "plans/wrapper.toml",
        r#"[plan]
id = "wrapper"
includes = ["broken"]

[[tests]]
name = "upsell"
measures = { expansion = 100_000 }
expect = { upsell = 5_000 }
"#,
    );
    let run = s.attain(&["check"]).fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/broken.toml:8:11: invalid basic string, expected `"`
  |
8 | rate = "5%
  |           ^
  = help: a string ends on its own line with the quote it opened with; text over several lines goes between `"""`

"#
    );
}

#[test]
fn check_a_rate_written_as_a_plain_number_above_100_percent_warns() {
    let s = Sandbox::tiny("bare-rate");
    s.write(
        "plans/rates.toml",
        r#"[plan]
id = "rates"

[[components]]
id = "flat"
period = "quarter"
measure = "nrr"
rate = 5_000

[[components]]
id = "tiered"
period = "quarter"
measure = "nrr"
quota = "nrr_target"
bands = [
  { from = "0%", rate = 0.075 },
  { from = "100%", rate = 12 },
  { from = "150%", rate = "150%" },
]

[[components]]
id = "pass_through"
period = "quarter"
measure = "expansion"
rate = 1
"#,
    );
    let run = s.attain(&["check"]).ok();
    assert_eq!(
        run.stdout,
        "ok: 2 plans, 4 components, 5 measures, 1 quota, 2 warnings\n"
    );
    assert_eq!(
        run.stderr,
        r#"warning: plans/rates.toml:8:8: `rate = 5_000` is 500,000% of the measure
  |
8 | rate = 5_000
  |        ^^^^^
  = help: a plain number in a rate is a fraction (0.075 is 7.5%): write `"5_000%"` if you meant 5_000 percent, or `"500000%"` to keep it; a fixed amount is written `amount = "$5_000"`

warning: plans/rates.toml:17:27: `rate = 12` is 1,200% of the measure
   |
17 |   { from = "100%", rate = 12 },
   |                           ^^
   = help: a plain number in a rate is a fraction (0.075 is 7.5%): write `"12%"` if you meant 12 percent, or `"1200%"` to keep it

"#
    );
    let run = s.attain(&["check", "--deny-warnings"]).fails();
    assert!(
        run.stderr
            .ends_with("error: .: 2 warnings and `--deny-warnings`\n\n"),
        "{run:?}"
    );
}

#[test]
fn check_unknown_function_suggests_the_nearest() {
    let run = check_with_plan(
        "function",
        r#"[plan]
id = "function"

[[components]]
id = "bonus"
period = "quarter"
measure = "nrr"
payout = "$125 * flor(nrr / $1_000)"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/function.toml:8:18: unknown function `flor`
  |
8 | payout = "$125 * flor(nrr / $1_000)"
  |                  ^^^^^^^^^^^^^^^^^^
  = help: did you mean `floor`?

"#
    );
}

#[test]
fn check_two_plans_with_one_id() {
    let run = check_with_plan(
        "copy",
        r#"[plan]
id = "retention_commission"

[[components]]
id = "upsell"
period = "quarter"
measure = "expansion"
rate = "5%"
"#,
    )
    .fails();
    assert_eq!(
        run.stderr,
        r#"error: plans/retention_commission.toml:2:6: plan `retention_commission` is also defined in plans/copy.toml
  |
2 | id = "retention_commission"
  |      ^^^^^^^^^^^^^^^^^^^^^^
  = help: each plan file needs an `id` of its own: rename one of them (`attain plan clone` copies a plan under a new id)

"#
    );
}

// ---------------------------------------------------------------------------
// 5. `attain test`
// ---------------------------------------------------------------------------

#[test]
fn plan_test_passes_on_the_tiny_workspace() {
    let s = Sandbox::tiny("plan-test-ok");
    let run = s.attain(&["test"]).ok();
    assert_eq!(
        run.stdout,
        "ok    retention_commission · at quota: 7.5% of $300,000\n1 passed, 0 failed\n"
    );
}

#[test]
fn plan_test_with_a_wrong_expected_amount() {
    let s = Sandbox::tiny("plan-test-fail");
    s.append(
        "plans/retention_commission.toml",
        r#"
[[tests]]
name = "120%: 22,500 + 7,500"
measures = { nrr = 360_000 }
expect = { commission = 31_000 }
"#,
    );
    let run = s.attain(&["test"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "\
ok    retention_commission · at quota: 7.5% of $300,000
FAIL  retention_commission · 120%: 22,500 + 7,500
      `commission`: expected $31,000.00, calculated $30,000.00, difference -$1,000.00
1 passed, 1 failed
"
    );
    assert_eq!(
        run.stderr,
        "error: plans/retention_commission.toml:22: plan test `120%: 22,500 + 7,500`: `commission`: expected $31,000.00, calculated $30,000.00, difference -$1,000.00\n\n"
    );
}

/// A plan test with data: its rows read, credited and calculated as `calc`
/// does (the filters and the deal of another quarter included), a quota
/// replaced for the test, an error in the rows named by its line in the
/// plan file, and data given wrongly refused by the checker.
#[test]
fn plan_test_with_data() {
    let s = Sandbox::tiny("plan-test-data");
    let data_test = |expect: &str, date: &str| {
        format!(
            r#"
[[tests]]
name = "from deals"
period = "2026-Q1"
participant = "am1"
quotas = {{ nrr_target = 200_000 }}
participants = """
participant_id,name,manager_id,plan
am1,Ada,,
am2,Bo,,retention_commission
"""
transactions = """
deal_id,close_date,account_id,kind,amount,owner_id
d1,{date},acme,renewal,200000.00,am1
d2,2026-02-10,acme,upsell,40000.00,am1
d3,2026-03-01,acme,churn,20000.00,am1
d4,2026-03-02,globex,renewal,50000.00,am2
d5,2026-04-01,acme,renewal,90000.00,am1
"""
expect = {{ commission = {expect} }}
"#
        )
    };
    let plan = "plans/retention_commission.toml";
    let original = s.read(plan);
    // 220,000 against 200,000: 200,000 x 7.5% + 20,000 x 12.5% = 17,500.
    s.append(plan, &data_test("17_500", "2026-01-15"));
    let run = s.attain(&["test"]).ok();
    assert_eq!(
        run.stdout,
        "ok    retention_commission · at quota: 7.5% of $300,000\n\
         ok    retention_commission · from deals\n\
         2 passed, 0 failed\n"
    );
    s.write(plan, &original);
    s.append(plan, &data_test("17_500", "2026-01-32"));
    let run = s.attain(&["test"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout.lines().nth(2),
        Some(
            "      `commission`: expected $17,500.00, could not calculate: \
             plans/retention_commission.toml:34: `close_date` is `2026-01-32`, which is not a \
             date (expected YYYY-MM-DD, like 2026-03-31)"
        ),
        "{run:?}"
    );
    let text = String::from_utf8_lossy(&s.read(plan)).into_owned();
    assert_eq!(
        text.lines().nth(33),
        Some("d1,2026-01-32,acme,renewal,200000.00,am1")
    );
    s.write(plan, &original);
    s.append(
        plan,
        &data_test("17_500", "2026-01-15")
            .replace("quotas = ", "measures = { nrr = 1 }\nquotas = "),
    );
    let run = s.attain(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: plans/retention_commission.toml:26:14: a test gives measures or data \
             (`participants` and `transactions`), not both"
        ),
        "{run:?}"
    );
    s.write(plan, &original);
    s.append(
        plan,
        &data_test("17_500", "2026-01-15").replace("participant = \"am1\"\n", ""),
    );
    let run = s.attain(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: plans/retention_commission.toml:26:16: a test with data needs \
             `participant`, `participants` and `transactions`"
        ),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------
// 6. `attain init`
// ---------------------------------------------------------------------------

#[test]
fn init_creates_a_workspace_that_checks_tests_and_calculates() {
    let s = Sandbox::empty("init");
    let run = s.attain(&["init", "ws"]).ok();
    assert!(
        run.stdout.starts_with("created a workspace in ws:\n"),
        "{run:?}"
    );
    assert!(s.exists("ws/attain.toml"));
    assert!(s.exists("ws/data/participants.csv"));
    assert!(s.exists("ws/data/deals.csv"));

    // From outside, with `-w`.
    let run = s.attain(&["check", "-w", "ws"]).ok();
    assert!(run.stdout.starts_with("ok: "), "{run:?}");
    // The brief's GRR plan has a real cliff at its 80% gate, which the plan
    // accepts: the check passes even with `--deny-warnings` and says so.
    assert!(!run.stderr.contains("error:"), "{run:?}");
    assert!(
        run.stdout.ends_with(", 1 note, 1 accepted finding\n"),
        "{run:?}"
    );
    let run = s
        .attain(&["check", "-w", "ws", "--deny-warnings", "--show-accepted"])
        .ok();
    assert!(
        run.stderr.contains("note: ws/plans/grr_bonus.toml:22:6: accepted `cliff`: component `grr_bonus` has a cliff at 80% of quota"),
        "{run:?}"
    );
    let run = s.attain(&["test", "-w", "ws"]).ok();
    assert!(
        run.stdout.lines().all(|l| !l.starts_with("FAIL")),
        "{run:?}"
    );
    assert!(run.stdout.ends_with(" passed, 0 failed\n"), "{run:?}");

    // From inside, as the `next:` lines of `attain init` say.
    s.attain_in("ws", &["check"]).ok();
    s.attain_in("ws", &["test"]).ok();
    let run = s
        .attain_in(
            "ws",
            &[
                "calc",
                "--participants",
                "data/participants.csv",
                "--transactions",
                "data/deals.csv",
                "--out",
                "payouts.csv",
            ],
        )
        .ok();
    assert!(
        run.stderr.ends_with(", written to payouts.csv\n"),
        "{run:?}"
    );
    let payouts = s.read_text("ws/payouts.csv");
    assert!(payouts.starts_with("participant_id,period,component,payout\n"));
    assert!(payouts.lines().count() > 16, "{payouts}");
}

/// Every command the comments of the new `attain.toml` suggest works as
/// written, run from the workspace.
#[test]
fn init_the_commands_suggested_in_attain_toml_work() {
    let s = Sandbox::empty("init-suggested");
    s.attain(&["init", "ws"]).ok();
    let text = s.read_text("ws/attain.toml");
    let mut commands: Vec<String> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("#   attain ") else {
            continue;
        };
        let mut command = format!("attain {rest}");
        while command.ends_with('\\') {
            command.pop();
            let Some(next) = lines.next() else {
                panic!("continued line at the end: {command}");
            };
            command.push(' ');
            command.push_str(next.trim_start_matches('#').trim_start());
        }
        // A command, then its description after a run of spaces.
        let command = command.split("   ").next().unwrap_or("").to_string();
        commands.push(command.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    assert_eq!(
        commands,
        [
            "attain check",
            "attain test",
            "attain calc --participants data/participants.csv --transactions data/deals.csv --out payouts.csv",
            "attain explain --participants data/participants.csv --transactions data/deals.csv --participant R0000003 --period 2026-Q2",
        ]
    );
    for command in &commands {
        let args: Vec<&str> = command.split(' ').skip(1).collect();
        let run = s.attain_in("ws", &args).ok();
        assert!(!run.stderr.contains("error"), "{run:?}");
    }
    let run = s
        .attain_in(
            "ws",
            &[
                "explain",
                "--participants",
                "data/participants.csv",
                "--transactions",
                "data/deals.csv",
                "--participant",
                "R0000003",
                "--period",
                "2026-Q2",
            ],
        )
        .ok();
    assert!(run.stdout.contains("\ntotal for 2026-Q2: $"), "{run:?}");
}

#[test]
fn init_twice_fails_and_changes_nothing() {
    let s = Sandbox::empty("init-twice");
    s.attain(&["init", "ws"]).ok();
    s.write("ws/notes.txt", "mine\n");
    s.append("ws/attain.toml", "# edited by hand\n");
    let before = s.snapshot();
    let run = s.attain(&["init", "ws"]).fails();
    assert_eq!(
        run.stderr,
        "error: ws/attain.toml: a workspace is already here; nothing was changed\n\n"
    );
    assert_eq!(s.snapshot(), before);
}

// ---------------------------------------------------------------------------
// 7. `attain demo`
// ---------------------------------------------------------------------------

#[test]
fn demo_prints_the_summary_and_is_deterministic() {
    let s = Sandbox::empty("demo");
    let first = s.attain(&["demo"]).ok();
    let second = s.attain(&["demo"]).ok();
    assert_eq!(first.stdout, second.stdout, "two runs differ");
    assert_eq!(first.stderr, "");
    assert!(s.files().is_empty(), "demo without --out writes nothing");
    let out = &first.stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "demo company: 137 participants (120 account managers), 30,000 deals in 2026, plans of the product brief"
    );

    // Totals by plan and component add up to the headline total.
    let headline = lines
        .iter()
        .find(|l| l.contains(" payouts to ") && l.contains(", total $"))
        .unwrap_or_else(|| panic!("no headline in:\n{out}"));
    let total = cents(headline.rsplit(", total ").next().unwrap());
    let at = lines
        .iter()
        .position(|l| *l == "totals by plan and component:")
        .unwrap_or_else(|| panic!("no totals in:\n{out}"));
    assert!(lines[at + 1]
        .split_whitespace()
        .eq(["plan", "component", "people", "total", "share"]));
    let rows: Vec<Vec<&str>> = lines[at + 2..]
        .iter()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.len() >= 6, "{out}");
    let sum: i64 = rows.iter().map(|r| cents(r[3])).sum();
    assert_eq!(sum, total, "table total vs headline:\n{out}");
    // Every plan of the brief that a rep can be on alone pays someone.
    for component in [
        "commission",
        "monthly_commission",
        "retention",
        "upsell",
        "bonus",
        "monthly_bonus",
        "grr_bonus",
        "nrr_bonus",
        "renewal_rate",
        "multi_product_spiff",
        "override",
        "team_goal",
    ] {
        assert!(
            rows.iter().any(|r| r[1] == component),
            "{component}:\n{out}"
        );
    }

    // Top earners, highest first.
    let at = lines
        .iter()
        .position(|l| *l == "top 10 earners:")
        .unwrap_or_else(|| panic!("no top earners in:\n{out}"));
    let earners: Vec<i64> = lines[at + 2..at + 12]
        .iter()
        .map(|l| cents(l.split_whitespace().last().unwrap()))
        .collect();
    assert!(earners.windows(2).all(|w| w[0] >= w[1]), "{out}");

    // The attainment spread: the bucket counts add up to the payouts counted.
    let at = lines
        .iter()
        .position(|l| l.starts_with("attainment across "))
        .unwrap_or_else(|| panic!("no attainment spread in:\n{out}"));
    let counted: usize = lines[at]
        .strip_prefix("attainment across ")
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    for word in ["p10", "median", "p90", "lowest", "highest"] {
        assert!(lines[at].contains(word), "{}", lines[at]);
    }
    let buckets = [
        "below 50%",
        "50-80%",
        "80-100%",
        "100-150%",
        "150% and above",
    ];
    let mut in_buckets = 0;
    for (line, name) in lines[at + 1..at + 6].iter().zip(buckets) {
        let rest = line.trim_start().strip_prefix(name).unwrap_or_else(|| {
            panic!("bucket `{name}` expected, got `{line}`");
        });
        in_buckets += rest
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap();
    }
    assert_eq!(in_buckets, counted, "{out}");
}

#[test]
fn demo_payouts_match_calc_on_the_same_data() {
    let s = Sandbox::empty("demo-out");
    let run = s
        .attain(&["demo", "--reps", "12", "--deals", "1500", "--out", "d"])
        .ok();
    assert!(
        run.stdout
            .contains("\nwrote participants.csv, deals.csv, quotas.csv and payouts.csv to d\n"),
        "{run:?}"
    );
    s.attain(&["init", "ws"]).ok();
    s.attain(&[
        "calc",
        "-w",
        "ws",
        "--participants",
        "d/participants.csv",
        "--transactions",
        "d/deals.csv",
        "--quotas",
        "d/quotas.csv",
        "--out",
        "payouts.csv",
    ])
    .ok();
    assert_eq!(s.read("payouts.csv"), s.read("d/payouts.csv"));
}

// ---------------------------------------------------------------------------
// 8. Determinism and explanations
// ---------------------------------------------------------------------------

#[test]
fn calc_payouts_of_the_tiny_workspace() {
    let s = Sandbox::tiny("calc-tiny");
    let run = s.calc().ok();
    assert_eq!(run.stdout, TINY_PAYOUTS);
    assert_eq!(run.stderr, "");
}

#[test]
fn calc_does_not_depend_on_the_order_of_rows() {
    let s = Sandbox::empty("shuffle");
    s.attain(&["init", "ws"]).ok();
    let deals = s.read_text("ws/data/deals.csv");
    s.write("ws/data/shuffled.csv", shuffle_rows(&deals, 0x2026));
    let mut reversed: Vec<&str> = deals.lines().collect();
    reversed[1..].reverse();
    s.write("ws/data/reversed.csv", reversed.join("\n") + "\n");
    assert_ne!(s.read("ws/data/shuffled.csv"), deals.as_bytes());
    let calc = |file: &str, out: &str| {
        s.attain_in(
            "ws",
            &[
                "calc",
                "--participants",
                "data/participants.csv",
                "--transactions",
                file,
                "--out",
                out,
            ],
        )
        .ok()
    };
    let a = calc("data/deals.csv", "a.csv");
    let b = calc("data/shuffled.csv", "b.csv");
    let c = calc("data/reversed.csv", "c.csv");
    assert_eq!(s.read("ws/a.csv"), s.read("ws/b.csv"));
    assert_eq!(s.read("ws/a.csv"), s.read("ws/c.csv"));
    assert_eq!(a.stderr.replace("a.csv", ""), b.stderr.replace("b.csv", ""));
    assert_eq!(a.stderr.replace("a.csv", ""), c.stderr.replace("c.csv", ""));

    // The explanation of the largest payout does not change either.
    let payouts = s.read_text("ws/a.csv");
    let top = payouts
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .max_by_key(|r| cents(r[3]))
        .unwrap();
    let explain = |file: &str| {
        s.attain_in(
            "ws",
            &[
                "explain",
                "--participants",
                "data/participants.csv",
                "--transactions",
                file,
                "--participant",
                top[0],
                "--period",
                top[1],
                "--all",
            ],
        )
        .ok()
        .stdout
    };
    assert_eq!(explain("data/deals.csv"), explain("data/shuffled.csv"));
}

fn explain(s: &Sandbox, participant: &str, period: &str) -> Run {
    s.attain(&[
        "explain",
        "--participants",
        "people.csv",
        "--transactions",
        "deals.csv",
        "--participant",
        participant,
        "--period",
        period,
    ])
}

#[test]
fn explain_shows_how_a_payout_was_reached() {
    let s = Sandbox::tiny("explain");
    let run = explain(&s, "am1", "2026-Q1").ok();
    assert_eq!(run.stderr, "");
    assert_lines_in_order(
        &run.stdout,
        &[
            "am1 · name: Ada",
            "plan: retention_commission (Retention commission)",
            "period: 2026-Q1 (2026-01-01 to 2026-03-31), active 90 of 90 days",
            "credited transactions: 3",
            "  date        id  account  kind     amount       credit       as",
            "  2026-01-15  d1  acme     renewal  $300,000.00  $300,000.00  owner",
            "  2026-02-10  d2  acme     upsell   $40,000.00   $40,000.00   owner",
            "  2026-03-31  d3  globex   renewal  $20,000.00   $20,000.00   owner",
            "measures:",
            "  nrr          $360,000.00             renewal + expansion - contraction",
            "commission — commission: $30,000.00",
            "  nrr = $360,000.00",
            "  quota nrr_target = $300,000.00 (from the plan)",
            "  attainment = 120%",
            "  base (0% to 100%): $300,000.00 × 7.5% = $22,500.00",
            "  accelerator (100% to 150%): $60,000.00 × 12.5% = $7,500.00",
            "  tier reached: accelerator",
            "total for 2026-Q1: $30,000.00",
        ],
    );
    // d6 (April) belongs to Q2 and am2's deals to am2.
    for other in ["d4", "d5", "d6"] {
        assert!(
            !run.stdout.contains(&format!("  {other}  ")),
            "{other}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn explain_below_quota_with_churn() {
    let s = Sandbox::tiny("explain-churn");
    let run = explain(&s, "am2", "2026-Q1").ok();
    assert_lines_in_order(
        &run.stdout,
        &[
            "credited transactions: 2",
            "  2026-02-01  d4  initech  renewal  $150,000.00  $150,000.00  owner",
            "  2026-03-01  d5  initech  churn    $10,000.00   $10,000.00   owner",
            "  nrr          $140,000.00             renewal + expansion - contraction",
            "commission — commission: $10,500.00",
            "  attainment = 46.6667%",
            "  base (0% to 100%): $140,000.00 × 7.5% = $10,500.00",
            "total for 2026-Q1: $10,500.00",
        ],
    );
}

#[test]
fn explain_unknown_participant() {
    let s = Sandbox::tiny("explain-nobody");
    let run = explain(&s, "bob", "2026-Q1").fails();
    assert_eq!(run.stderr, "error: people.csv: no participant `bob`\n\n");
}

#[test]
fn explain_period_that_does_not_parse() {
    let s = Sandbox::tiny("explain-bad-period");
    let run = explain(&s, "am1", "Q1").fails();
    assert_eq!(
        run.stderr,
        "error: --period: `Q1` is not a period
  = help: write `2026-Q2`, `2026-M05` or `2026`

"
    );
}

#[test]
fn explain_period_of_another_fiscal_year() {
    let s = Sandbox::tiny("explain-other-year");
    let run = explain(&s, "am1", "2025-Q1").fails();
    assert_eq!(
        run.stderr,
        "error: --period: `2025-Q1` is not in fiscal year 2026
  = help: pass `--year 2025` to explain a period of that year

"
    );
}

/// The last line says why there is nothing to pay: a period kind the
/// person's plan does not pay by, or no plan at all.
#[test]
fn explain_says_why_a_period_has_no_payout() {
    let s = Sandbox::tiny("explain-no-payout");
    s.write(
        "plans/monthly_spiff.toml",
        r#"[plan]
id = "monthly_spiff"

[[components]]
id = "spiff"
period = "month"
measure = "nrr"
rate = "1%"
"#,
    );
    let rep = explain(&s, "am1", "2026-M02").ok();
    assert!(
        rep.stdout.ends_with(
            "\nno payout for 2026-M02: retention_commission pays nothing by month; \
             its components are paid by quarter\n"
        ),
        "{}",
        rep.stdout
    );
    let manager = explain(&s, "mgr1", "2026-Q1").ok();
    assert!(
        manager
            .stdout
            .ends_with("\nno payout for 2026-Q1: not on any plan in this period\n"),
        "{}",
        manager.stdout
    );
}

/// Amounts in the workspace's currency with its decimals: yen have none.
#[test]
fn explain_in_a_currency_without_minor_units() {
    let s = Sandbox::tiny("explain-yen");
    s.edit(
        "attain.toml",
        "currency = \"USD\"\n",
        "currency = \"JPY\"\nminor_unit = 0\n",
    );
    let run = explain(&s, "am1", "2026-Q1").ok();
    assert_lines_in_order(
        &run.stdout,
        &[
            "  date        id  account  kind     amount       credit       as",
            "  2026-01-15  d1  acme     renewal  JPY 300,000  JPY 300,000  owner",
            "  nrr          JPY 360,000             renewal + expansion - contraction",
            "commission — commission: JPY 30,000",
            "  quota nrr_target = JPY 300,000 (from the plan)",
            "  base (0% to 100%): JPY 300,000 × 7.5% = JPY 22,500",
            "  accelerator (100% to 150%): JPY 60,000 × 12.5% = JPY 7,500",
            "total for 2026-Q1: JPY 30,000",
        ],
    );
    assert!(!run.stdout.contains('$'), "{}", run.stdout);
    let run = s
        .attain(&[
            "calc",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--out",
            "payouts.csv",
        ])
        .ok();
    assert_eq!(
        run.stderr,
        "8 payouts, total JPY 48,000, written to payouts.csv\n"
    );
}

/// Band edges written as amounts are shown in the workspace's currency,
/// in the trace as in the payout.
#[test]
fn explain_bands_on_amounts_in_the_workspaces_currency() {
    let s = Sandbox::tiny("explain-euro-edges");
    s.edit("attain.toml", "currency = \"USD\"", "currency = \"EUR\"");
    let plan = "plans/retention_commission.toml";
    s.edit(plan, "from = \"0%\"", "from = \"$0\"");
    s.edit(plan, "from = \"100%\"", "from = \"$300_000\"");
    s.edit(plan, "from = \"150%\"", "from = \"$450_000\"");
    let run = explain(&s, "am1", "2026-Q1").ok();
    assert_lines_in_order(
        &run.stdout,
        &[
            "commission — commission: €30,000.00",
            "  base (€0.00 to €300,000.00): €300,000.00 × 7.5% = €22,500.00",
            "  accelerator (€300,000.00 to €450,000.00): €60,000.00 × 12.5% = €7,500.00",
            "total for 2026-Q1: €30,000.00",
        ],
    );
    assert!(!run.stdout.contains('$'), "{}", run.stdout);
}

// ---------------------------------------------------------------------------
// 9. The store
// ---------------------------------------------------------------------------

impl Sandbox {
    /// `attain ARGS` as user `ada`, on `attain.db` in the sandbox.
    fn store(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(args)
            .current_dir(&self.root)
            .env_remove("RUST_BACKTRACE")
            .env_remove("ATTAIN_TIMINGS")
            .env_remove("ATTAIN_STORE")
            .env("ATTAIN_USER", "ada")
            .output()
            .unwrap();
        Run {
            args: args.join(" "),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Plans applied, people and deals imported, one run recorded.
    fn stored(name: &str) -> Sandbox {
        let s = Sandbox::tiny(name);
        s.store(&["plan", "apply"]).ok();
        s.store(&["import", "participants", "people.csv"]).ok();
        s.store(&["import", "transactions", "deals.csv"]).ok();
        s.store(&["run"]).ok();
        s
    }
}

/// A command that reads or changes the store refuses to start where there
/// is none, and leaves no empty `attain.db` behind.
#[test]
fn store_commands_other_than_apply_and_import_need_a_store() {
    let s = Sandbox::empty("store_missing");
    for args in [
        &["ledger"][..],
        &["periods"][..],
        &[
            "adjust",
            "--participant",
            "am1",
            "--period",
            "2026-M01",
            "--amount",
            "abc",
            "--reason",
            "r",
        ][..],
    ] {
        let run = s.store(args).fails();
        assert_eq!(
            run.stderr,
            "error: ./attain.db: no store here\n  = help: `attain plan apply` in the workspace folder creates it with the plans; or pass `--store` with the store's path or postgres:// address\n\n",
            "{run:?}"
        );
    }
    assert!(s.files().is_empty(), "{:?}", s.files());
}

#[test]
fn store_from_an_empty_folder_to_a_closed_period() {
    let s = Sandbox::tiny("store_walk");
    let applied = s.store(&["plan", "apply"]).ok();
    assert_eq!(
        applied.stdout,
        "stored attain.toml version 1, effective from the beginning\n\
         stored plans/retention_commission.toml version 1, effective from the beginning\n"
    );
    let people = s.store(&["import", "participants", "people.csv"]).ok();
    assert_eq!(
        people.stdout,
        "import 1: 3 rows from people.csv: 3 added, 0 revised, 0 unchanged\n"
    );
    s.store(&["import", "transactions", "deals.csv"]).ok();
    let again = s.store(&["import", "transactions", "deals.csv"]).ok();
    assert_eq!(
        again.stdout,
        "import 3: 6 rows from deals.csv: 0 added, 0 revised, 6 unchanged\n"
    );
    let run = s.store(&["run"]).ok();
    assert!(
        run.stdout
            .starts_with("run 1: fiscal year 2026, 8 payouts, total $48,000.00\n"),
        "{run:?}"
    );
    s.store(&["period", "approve", "2026-M03"]).ok();
    // Pay periods close in order.
    let early = s.store(&["period", "close", "2026-M03"]).fails();
    assert!(
        early
            .stderr
            .contains("2026-M01 is not closed yet; pay periods close in order"),
        "{early:?}"
    );
    for m in ["2026-M01", "2026-M02"] {
        s.store(&["period", "approve", m]).ok();
        s.store(&["period", "close", m]).ok();
    }
    s.store(&["period", "close", "2026-M03"]).ok();
    let paid = s.store(&["payouts", "--period", "2026-M03"]).ok();
    assert_eq!(
        paid.stdout,
        "participant_id,period,component,kind,amount\n\
         am1,2026-Q1,commission,earning,30000.00\n\
         am2,2026-Q1,commission,earning,10500.00\n"
    );
    let periods = s.store(&["periods"]).ok();
    let statuses: Vec<&str> = periods
        .stdout
        .lines()
        .take(4)
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .map(|l| Box::leak(l.into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        statuses,
        vec![
            "2026-M01 closed",
            "2026-M02 closed",
            "2026-M03 closed",
            "2026-M04 calculated"
        ]
    );
    let audit = s.store(&["audit"]).ok();
    let actions: Vec<&str> = audit
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        vec![
            "plan", "plan", "import", "import", "import", "run", "approve", "approve", "close",
            "approve", "close", "close"
        ],
        "{audit:?}"
    );
    assert!(
        audit.stdout.lines().all(|l| l.contains(" ada ")),
        "{audit:?}"
    );
}

#[test]
fn store_a_bad_import_names_the_row_and_writes_nothing() {
    let s = Sandbox::stored("store_bad_import");
    let before = s.read("attain.db");
    s.write(
        "more.csv",
        format!("{DEALS_HEADER}d7,2026-05-01,acme,renewal,1000.00,am1\nd8,2026-05-02,acme,renewal,12,5.00,am1\n"),
    );
    let bad = s.store(&["import", "transactions", "more.csv"]).fails();
    assert!(bad.stderr.contains("more.csv:3:"), "{bad:?}");
    let imports = s.store(&["audit"]).ok();
    assert_eq!(
        imports
            .stdout
            .lines()
            .filter(|l| l.contains(" import "))
            .count(),
        2,
        "{imports:?}"
    );
    // The data is as it was: a new run gives the same total.
    let run = s.store(&["run"]).ok();
    assert!(
        run.stdout.contains("8 payouts, total $48,000.00"),
        "{run:?}"
    );
    assert!(!before.is_empty());
}

#[test]
fn store_a_deal_revised_after_the_close_is_an_adjustment_in_the_open_period() {
    let s = Sandbox::stored("store_adjustment");
    for m in ["2026-M01", "2026-M02", "2026-M03"] {
        s.store(&["period", "approve", m]).ok();
        s.store(&["period", "close", m]).ok();
    }
    // d4 was $150,000 and becomes $160,000: am2's Q1 nrr goes from
    // 150,000 − 10,000 churn = 140,000 (paid $10,500 at 7.5%) to 150,000
    // ($11,250): $750 more, paid in April.
    s.write(
        "late.csv",
        format!("{DEALS_HEADER}d4,2026-02-01,initech,renewal,160000.00,am2\n"),
    );
    s.store(&["import", "transactions", "late.csv"]).ok();
    let run = s.store(&["run"]).ok();
    assert!(
        run.stdout.contains(
            "1 prior-period adjustment to closed periods, paid in 2026-M04:\n  \
             am2 2026-Q1 commission: paid $10,500.00, now $11,250.00, difference +$750.00\n      \
             d4: amount 150000.00 → 160000.00\n"
        ),
        "{run:?}"
    );
    let paid = s.store(&["payouts", "--period", "2026-M04"]).ok();
    assert_eq!(
        paid.stdout,
        "participant_id,period,component,kind,amount\n\
         am2,2026-Q1,commission,adjustment,750.00\n"
    );
    let closed = s.store(&["payouts", "--period", "2026-M03"]).ok();
    assert!(closed
        .stdout
        .contains("am2,2026-Q1,commission,earning,10500.00"));
}

#[test]
fn store_payroll_matches_the_ledger_with_a_draw_and_a_manual_adjustment() {
    let s = Sandbox::stored("store_payroll");
    // am2 earns $10,500 in March (Q1); a recoverable draw of $2,000 a
    // month from January tops up January and February, earned back in March.
    s.write(
        "draws.csv",
        "participant_id,amount,start,end,recoverable\nam2,2000.00,2026-M01,2026-M03,yes\n",
    );
    s.store(&["import", "draws", "draws.csv"]).ok();
    s.store(&[
        "adjust",
        "--participant",
        "am1",
        "--period",
        "2026-M03",
        "--amount",
        "-500.00",
        "--reason",
        "deal d3 was booked twice",
    ])
    .ok();
    let early = s
        .store(&["export", "payroll", "--period", "2026-M03"])
        .fails();
    assert!(
        early.stderr.contains(
            "2026-M03 is calculated: payroll is exported from approved or closed periods"
        ),
        "{early:?}"
    );
    s.store(&["period", "approve", "2026-M03"]).ok();
    let payroll = s
        .store(&[
            "export",
            "payroll",
            "--period",
            "2026-M03",
            "--out",
            "payroll.csv",
        ])
        .ok();
    assert_eq!(
        s.read_text("payroll.csv"),
        "participant_id,pay_period,earned,manual_adjustments,withheld,released,carried_in,draw,payment\n\
         am1,2026-M03,30000.00,-500.00,0.00,0.00,0.00,0.00,29500.00\n\
         am2,2026-M03,10500.00,0.00,0.00,0.00,-4000.00,0.00,6500.00\n"
    );
    assert!(
        payroll
            .stderr
            .contains("2026-M03: 2 people to pay, total $36,000.00"),
        "{payroll:?}"
    );
    let ledger = s.store(&["ledger", "--participant", "am2"]).ok();
    assert!(
        ledger.stdout.contains(
            "earned $10,500.00, paid $0.00, due $10,500.00, withheld $0.00, owed by am2 $0.00"
        ),
        "{ledger:?}"
    );
}

/// `n` deals for the tiny workspace, spread over the year.
fn many_deals(n: usize, amount: &str) -> String {
    let mut out = String::from(DEALS_HEADER);
    for i in 0..n {
        let month = i % 12 + 1;
        let owner = if i % 2 == 0 { "am1" } else { "am2" };
        out.push_str(&format!(
            "k{i},2026-{month:02}-15,acct{},renewal,{amount},{owner}\n",
            i % 997
        ));
    }
    out
}

/// The store's invariants, whatever was killed when: the database is
/// sound; each recorded import holds exactly the rows it counted and has
/// its audit entry; each recorded run holds exactly its payouts and has its
/// audit entry; a closed period was approved on a recorded run.
fn assert_store_consistent(path: &Path) {
    use attain_store::driver::{self, Driver};
    let mut db: Box<dyn Driver> =
        Box::new(attain_store::sqlite::Sqlite::open(&path.display().to_string()).unwrap());
    let check = db.query("PRAGMA integrity_check", &[]).unwrap();
    assert_eq!(driver::text(&check[0], 0), "ok");
    let Ok(imports) = db.query(
        "SELECT id, kind, added + revised FROM imports WHERE kind = 'transactions'",
        &[],
    ) else {
        return; // killed before the schema was created: an empty store
    };
    for r in &imports {
        let (id, written) = (driver::int(r, 0), driver::int(r, 2));
        let stored = db
            .query(
                "SELECT count(*) FROM transactions WHERE import_id = $1",
                &[attain_store::driver::Value::Int(id)],
            )
            .unwrap();
        assert_eq!(driver::int(&stored[0], 0), written, "import {id}");
    }
    let audited = db
        .query(
            "SELECT count(*) FROM audit_log WHERE action = 'import'",
            &[],
        )
        .unwrap();
    let all_imports = db.query("SELECT count(*) FROM imports", &[]).unwrap();
    assert_eq!(driver::int(&audited[0], 0), driver::int(&all_imports[0], 0));
    for r in db.query("SELECT id, payouts FROM runs", &[]).unwrap() {
        let stored = db
            .query(
                "SELECT count(*) FROM results WHERE run_id = $1 AND kind = 'earning'",
                &[r[0].clone()],
            )
            .unwrap();
        assert_eq!(driver::int(&stored[0], 0), driver::int(&r, 1));
    }
    let runs = db.query("SELECT count(*) FROM runs", &[]).unwrap();
    let audited_runs = db
        .query("SELECT count(*) FROM audit_log WHERE action = 'run'", &[])
        .unwrap();
    assert_eq!(driver::int(&runs[0], 0), driver::int(&audited_runs[0], 0));
    let current = db
        .query(
            "SELECT count(*) FROM (SELECT deal_id FROM transactions WHERE is_current = 1 GROUP BY deal_id HAVING count(*) > 1) d",
            &[],
        )
        .unwrap();
    assert_eq!(
        driver::int(&current[0], 0),
        0,
        "one current revision per deal"
    );
    for r in db
        .query(
            "SELECT period, approved_run FROM periods WHERE status = 'closed'",
            &[],
        )
        .unwrap()
    {
        let run = db
            .query("SELECT count(*) FROM runs WHERE id = $1", &[r[1].clone()])
            .unwrap();
        assert_eq!(driver::int(&run[0], 0), 1, "closed {:?}", r[0]);
    }
}

#[test]
fn store_a_killed_import_run_or_close_leaves_a_consistent_store() {
    let s = Sandbox::stored("store_killed");
    s.write("big.csv", many_deals(60_000, "10.00"));
    s.write("bigger.csv", many_deals(60_000, "11.00"));
    let db = s.path("attain.db");
    // Kill points spread over the length of each command; whatever the
    // moment, the store is consistent and the command can be run again.
    let commands: [&[&str]; 6] = [
        &["import", "transactions", "big.csv"],
        &["import", "transactions", "bigger.csv"],
        &["run"],
        &["period", "approve", "2026-M01"],
        &["period", "close", "2026-M01"],
        &["run"],
    ];
    for (round, delay_ms) in [5u64, 40, 90, 160, 250, 330, 120, 200, 60, 300, 400, 700]
        .iter()
        .enumerate()
    {
        let args = commands[round % commands.len()];
        let mut child = Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(args)
            .current_dir(&s.root)
            .env("ATTAIN_USER", "ada")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(*delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        assert_store_consistent(&db);
    }
    // Afterwards, everything still works.
    s.store(&["import", "transactions", "bigger.csv"]).ok();
    let run = s.store(&["run"]).ok();
    assert!(run.stdout.starts_with("run "), "{run:?}");
    assert_store_consistent(&db);
}

#[test]
fn store_two_imports_at_once_both_land() {
    let s = Sandbox::stored("store_concurrent");
    let mut a = many_deals(20_000, "10.00");
    let b = many_deals(20_000, "10.00").replace("\nk", "\nq");
    a = a.replace("\nk", "\np");
    s.write("a.csv", a);
    s.write("b.csv", b);
    let spawn = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(["import", "transactions", file])
            .current_dir(&s.root)
            .env("ATTAIN_USER", "ada")
            .output()
            .unwrap()
    };
    let (ra, rb) = std::thread::scope(|scope| {
        let ha = scope.spawn(|| spawn("a.csv"));
        let hb = scope.spawn(|| spawn("b.csv"));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    for r in [&ra, &rb] {
        assert_eq!(
            r.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(String::from_utf8_lossy(&r.stdout).contains("20,000 added"));
    }
    assert_store_consistent(&s.path("attain.db"));
}

/// d4 grows from $150,000 to $160,000 after the first run: am2's Q1 nrr
/// goes from $140,000 ($10,500 at 7.5%) to $150,000 ($11,250).
fn revise_d4(s: &Sandbox) {
    s.write(
        "late.csv",
        format!("{DEALS_HEADER}d4,2026-02-01,initech,renewal,160000.00,am2\n"),
    );
    s.store(&["import", "transactions", "late.csv"]).ok();
}

#[test]
fn store_diff_after_a_revised_deal_names_the_deal_the_field_and_the_amounts() {
    let s = Sandbox::stored("store_diff_revised");
    revise_d4(&s);
    s.store(&["run"]).ok();
    let diff = s.store(&["diff"]).ok();
    assert_eq!(
        diff.stdout,
        "run 1 → run 2, fiscal year 2026\n\
         \n\
         participant  period   component        run 1       run 2  difference\n\
         am2          2026-Q1  commission  $10,500.00  $11,250.00    +$750.00\n    \
             d4 revised: amount 150000.00 → 160000.00\n\
         \n\
         inputs that differ\n  \
           transactions (run 1 saw imports through 2, run 2 through 3):\n    \
             d4 revised: amount 150000.00 → 160000.00\n\
         \n\
         1 person changed, total difference +$750.00\n"
    );
    let csv = s.store(&["diff", "1", "2", "--csv"]).ok();
    assert_eq!(
        csv.stdout,
        "participant_id,period,component,run_a,run_b,difference,why\n\
         am2,2026-Q1,commission,10500.00,11250.00,750.00,d4 revised: amount 150000.00 → 160000.00\n"
    );
    // am1's pay did not change, and d4 does not credit them.
    let am1 = s.store(&["diff", "--participant", "am1"]).ok();
    assert_eq!(
        am1.stdout,
        "run 1 → run 2, fiscal year 2026, participant am1\n\
         \n\
         no payout differs\n\
         \n\
         0 people changed, total difference $0.00\n"
    );
}

#[test]
fn store_diff_after_a_plan_version_names_the_file_and_the_versions() {
    let s = Sandbox::stored("store_diff_plan");
    s.edit(
        "plans/retention_commission.toml",
        "rate = \"7.5%\"",
        "rate = \"8%\"",
    );
    s.store(&["plan", "apply", "--effective", "2026-04-01"])
        .ok();
    s.store(&["run"]).ok();
    // From April the base band pays 8%: am1's Q2 $100,000 pays $8,000,
    // not $7,500. Q1 ends before the new version and is unchanged.
    let diff = s.store(&["diff"]).ok();
    assert_eq!(
        diff.stdout,
        "run 1 → run 2, fiscal year 2026\n\
         \n\
         participant  period   component       run 1      run 2  difference\n\
         am1          2026-Q2  commission  $7,500.00  $8,000.00    +$500.00\n    \
             plan file plans/retention_commission.toml version 1 → version 2, from 2026-04-01\n\
         \n\
         inputs that differ\n  \
           plan versions:\n    \
             plans/retention_commission.toml version 1 → version 2, from 2026-04-01\n\
         \n\
         1 person changed, total difference +$500.00\n"
    );
}

#[test]
fn store_diff_of_identical_runs_says_nothing_changed() {
    let s = Sandbox::stored("store_diff_same");
    let one = s.store(&["diff"]).fails();
    assert_eq!(
        one.stderr,
        "error: store: the store holds 1 run; a diff compares two\n  \
           = help: record another with `attain run`\n\n"
    );
    s.store(&["run"]).ok();
    let diff = s.store(&["diff"]).ok();
    assert_eq!(
        diff.stdout,
        "run 1 → run 2, fiscal year 2026\n\
         \n\
         nothing changed: the same inputs and the same payouts\n\
         \n\
         0 people changed, total difference $0.00\n"
    );
    let unknown = s.store(&["diff", "1", "7"]).fails();
    assert_eq!(
        unknown.stderr,
        "error: store: no run 7 in the store\n  \
           = help: the store's runs are numbered 1 to 2 (`attain audit` lists them)\n\n"
    );
    let nobody = s.store(&["diff", "--participant", "AM1"]).fails();
    assert_eq!(
        nobody.stderr,
        "error: store: no participant `AM1` in the store\n  \
           = help: participant ids are as imported, like `am1` (ids are case-sensitive)\n\n"
    );
}

#[test]
fn store_statement_of_a_closed_month_with_an_adjustment() {
    let s = Sandbox::stored("store_statement");
    for m in ["2026-M01", "2026-M02", "2026-M03"] {
        s.store(&["period", "approve", m]).ok();
        s.store(&["period", "close", m]).ok();
    }
    revise_d4(&s);
    s.store(&["run"]).ok();
    s.store(&["period", "approve", "2026-M04"]).ok();
    s.store(&["period", "close", "2026-M04"]).ok();
    // April pays am2 no earning (Q2 is paid in June) and the $750 Q1
    // adjustment; the year so far: March's $10,500 and April's $750.
    let april = s
        .store(&["statement", "--participant", "am2", "--period", "2026-M04"])
        .ok();
    assert_eq!(
        april.stdout,
        "statement for am2 (Alan), pay period 2026-M04\n\
         plan: retention_commission\n\
         manager: mgr1\n\
         status: closed, paying run 2\n\
         \n\
         earnings\n  \
           none paid in 2026-M04\n\
         \n\
         prior-period adjustments\n  \
           2026-Q1 commission                                $750.00\n      \
               prior-period adjustment: commission of 2026-Q1 was paid $10,500.00, recalculated $11,250.00: difference +$750.00, paid in 2026-M04\n        \
                 d4: amount 150000.00 → 160000.00\n\
         \n\
         payment due                                         $750.00\n\
         paid year to date: $11,250.00 (closed pay periods 2026-M01 to 2026-M04)\n"
    );
    // March as it was paid, by run 1, with the stored explanation.
    let march = s
        .store(&["statement", "--participant", "am1", "--period", "2026-M03"])
        .ok();
    assert_eq!(
        march.stdout,
        "statement for am1 (Ada), pay period 2026-M03\n\
         plan: retention_commission\n\
         manager: mgr1\n\
         status: closed, paying run 1\n\
         \n\
         earnings\n  \
           2026-Q1 commission                             $30,000.00\n      \
               nrr = $360,000.00\n      \
               quota nrr_target = $300,000.00 (from the plan)\n      \
               attainment = 120%\n      \
               base (0% to 100%): $300,000.00 × 7.5% = $22,500.00\n      \
               accelerator (100% to 150%): $60,000.00 × 12.5% = $7,500.00\n      \
               tier reached: accelerator\n\
         \n\
         payment due                                      $30,000.00\n\
         paid year to date: $30,000.00 (closed pay periods 2026-M01 to 2026-M03)\n"
    );
    let quarter = s
        .store(&["statement", "--participant", "am1", "--period", "2026-Q1"])
        .fails();
    assert_eq!(
        quarter.stderr,
        "error: store: `2026-Q1` is not a pay period\n  \
           = help: pay periods are fiscal months, written like 2026-M03\n\n"
    );
    let run = s
        .store(&[
            "statement",
            "--participant",
            "am1",
            "--period",
            "2026-M03",
            "--run",
            "9",
        ])
        .fails();
    assert!(run.stderr.contains("no run 9 in the store"), "{run:?}");
}

/// The store prints amounts in the stored workspace's currency with its
/// decimals: yen have none. am2's recoverable draw of JPY 2,000 a month
/// tops up January and February and is earned back from March's JPY 10,500
/// (paid JPY 6,500); am1's March is JPY 30,000 less a manual JPY 500.
#[test]
fn store_statement_and_ledger_in_a_currency_without_minor_units() {
    let s = Sandbox::tiny("store-yen");
    s.edit(
        "attain.toml",
        "currency = \"USD\"\n",
        "currency = \"JPY\"\nminor_unit = 0\n",
    );
    s.store(&["plan", "apply"]).ok();
    s.store(&["import", "participants", "people.csv"]).ok();
    s.store(&["import", "transactions", "deals.csv"]).ok();
    s.write(
        "draws.csv",
        "participant_id,amount,start,end,recoverable\nam2,2000,2026-M01,2026-M03,yes\n",
    );
    s.store(&["import", "draws", "draws.csv"]).ok();
    let run = s.store(&["run"]).ok();
    assert!(
        run.stdout
            .starts_with("run 1: fiscal year 2026, 8 payouts, total JPY 48,000\n"),
        "{run:?}"
    );
    let adjusted = s
        .store(&[
            "adjust",
            "--participant",
            "am1",
            "--period",
            "2026-M03",
            "--amount",
            "-500",
            "--reason",
            "deal d3 was booked twice",
        ])
        .ok();
    assert_eq!(
        adjusted.stdout,
        "-JPY 500 for am1 in 2026-M03: deal d3 was booked twice\n"
    );
    for m in ["2026-M01", "2026-M02", "2026-M03"] {
        s.store(&["period", "approve", m]).ok();
        s.store(&["period", "close", m]).ok();
    }
    let statement = s
        .store(&["statement", "--participant", "am2", "--period", "2026-M03"])
        .ok();
    assert_eq!(
        statement.stdout,
        "statement for am2 (Alan), pay period 2026-M03\n\
         plan: retention_commission\n\
         manager: mgr1\n\
         status: closed, paying run 1\n\
         \n\
         earnings\n  \
           2026-Q1 commission                             JPY 10,500\n      \
               nrr = JPY 140,000\n      \
               quota nrr_target = JPY 300,000 (from the plan)\n      \
               attainment = 46.6667%\n      \
               base (0% to 100%): JPY 140,000 × 7.5% = JPY 10,500\n      \
               tier reached: base\n\
         \n\
         payment\n  \
           earned this period                             JPY 10,500\n  \
           carried in from earlier periods                -JPY 4,000\n\
         \n\
         payment due                                       JPY 6,500\n\
         paid year to date: JPY 10,500 (closed pay periods 2026-M01 to 2026-M03)\n"
    );
    let ledger = s.store(&["ledger", "--participant", "am2"]).ok();
    assert_eq!(
        ledger.stdout,
        "am2\n  \
         period    status          earned  manual  withheld  released  carried in       draw    payment  carried out\n  \
         2026-M01  closed           JPY 0   JPY 0     JPY 0     JPY 0       JPY 0  JPY 2,000  JPY 2,000   -JPY 2,000\n      \
         recoverable draw of JPY 2,000: JPY 2,000 to earn back\n  \
         2026-M02  closed           JPY 0   JPY 0     JPY 0     JPY 0  -JPY 2,000  JPY 4,000  JPY 2,000   -JPY 4,000\n      \
         recoverable draw of JPY 2,000: JPY 4,000 to earn back\n      \
         carried in from earlier periods: -JPY 2,000\n  \
         2026-M03  closed      JPY 10,500   JPY 0     JPY 0     JPY 0  -JPY 4,000      JPY 0  JPY 6,500        JPY 0\n      \
         carried in from earlier periods: -JPY 4,000\n  \
         2026-M04  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M05  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M06  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M07  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M08  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M09  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M10  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M11  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         2026-M12  calculated       JPY 0   JPY 0     JPY 0     JPY 0       JPY 0      JPY 0      JPY 0        JPY 0\n  \
         earned JPY 10,500, paid JPY 10,500, due JPY 0, withheld JPY 0, owed by am2 JPY 0\n\
         \n\
         "
    );
    let payroll = s.store(&["export", "payroll", "--period", "2026-M03"]).ok();
    assert_eq!(payroll.stderr, "2026-M03: total JPY 36,000\n");
    // A revised deal in a closed quarter: the difference is signed.
    revise_d4(&s);
    s.store(&["run"]).ok();
    let diff = s.store(&["diff"]).ok();
    assert_eq!(
        diff.stdout,
        "run 1 → run 2, fiscal year 2026\n\
         \n\
         participant  period   component        run 1       run 2  difference\n\
         am2          2026-Q1  commission  JPY 10,500  JPY 11,250    +JPY 750\n    \
             d4 revised: amount 150000.00 → 160000.00\n    \
             its period is closed: paid as a prior-period adjustment of +JPY 750 in 2026-M04\n\
         \n\
         inputs that differ\n  \
           transactions (run 1 saw imports through 3, run 2 through 4):\n    \
             d4 revised: amount 150000.00 → 160000.00\n\
         \n\
         1 person changed, total difference +JPY 750\n"
    );
}

#[test]
fn store_diff_names_a_changed_quota_and_assignments() {
    let s = Sandbox::stored("store_diff_quota");
    // am1's Q2 quota drops to $80,000: their $100,000 is 125%, paying
    // 80,000 × 7.5% + 20,000 × 12.5% = 6,000 + 2,500 = $8,500, not $7,500.
    s.write(
        "quotas.csv",
        "participant_id,quota,period,amount\nam1,nrr_target,2026-Q2,80000\n",
    );
    s.store(&["import", "quotas", "quotas.csv"]).ok();
    // am2's plan now ends in June: their $0.00 Q3 and Q4 are not paid at
    // all, which changes nobody's pay.
    s.write(
        "assignments.csv",
        "participant_id,plan,start,end\nam2,retention_commission,2026-01-01,2026-06-30\n",
    );
    s.store(&["import", "assignments", "assignments.csv"]).ok();
    s.store(&["run"]).ok();
    let diff = s.store(&["diff"]).ok();
    assert_eq!(
        diff.stdout,
        "run 1 → run 2, fiscal year 2026\n\
         \n\
         participant  period   component       run 1      run 2  difference\n\
         am1          2026-Q2  commission  $7,500.00  $8,500.00  +$1,000.00\n    \
             quota nrr_target of am1 for 2026-Q2: the plan's → 80000\n\
         \n\
         inputs that differ\n  \
           quotas:\n    \
             quota nrr_target of am1 for 2026-Q2: the plan's → 80000\n  \
           assignments:\n    \
             assignments of am2: the participants file's plan → retention_commission 2026-01-01..2026-06-30\n\
         \n\
         1 person changed, total difference +$1,000.00\n"
    );
}

#[test]
fn store_backup_is_a_consistent_copy_that_opens_as_a_store() {
    let s = Sandbox::stored("store_backup");
    let backup = s.store(&["backup", "copy.db"]).ok();
    assert_eq!(backup.stdout, "backed up the store to copy.db\n");
    // The copy is a store of its own: same periods, same audit trail.
    let original = s.store(&["audit"]).ok();
    let copy = s.store(&["audit", "--store", "copy.db"]).ok();
    assert_eq!(copy.stdout, original.stdout);
    assert_store_consistent(&s.path("copy.db"));
    let again = s.store(&["backup", "copy.db"]).fails();
    assert!(
        again
            .stderr
            .contains("a file is already here; nothing was written"),
        "{again:?}"
    );
}

// ---------------------------------------------------------------------------
// 10. Plan lint and charts
// ---------------------------------------------------------------------------

/// The tiny workspace's commission made retroactive: at 100% the whole
/// $300,000 is paid 12.5% (37,500) instead of 7.5% (299,999.99 -> 22,500.00).
const RETROACTIVE_PLAN: &str = r#"[plan]
id = "retroactive"

[[components]]
id = "commission"
period = "quarter"
measure = "nrr"
quota = "nrr_target"
tiers = "retroactive"
bands = [
  { from = "0%", rate = "7.5%" },
  { name = "accelerator", from = "100%", rate = "12.5%" },
]
"#;

#[test]
fn lint_a_retroactive_cliff_is_a_warning_with_its_numbers() {
    let s = Sandbox::tiny("lint-retro");
    s.write("plans/retroactive.toml", RETROACTIVE_PLAN);
    let run = s.attain(&["check"]).ok();
    assert_eq!(
        run.stdout,
        "ok: 2 plans, 2 components, 5 measures, 1 quota, 1 warning\n"
    );
    assert_eq!(
        run.stderr,
        "warning: plans/retroactive.toml:5:6: component `commission` has a cliff at 100% of quota ($300,000.00 of `nrr`): one cent more pays $15,000.00 more ($299,999.99 pays $22,500.00, $300,000.00 pays $37,500.00)\n  |\n5 | id = \"commission\"\n  |      ^^^^^^^^^^^^\n  = help: tiers are retroactive: reaching `accelerator` pays 12.5% on the whole measure; `tiers = \"marginal\"` pays each rate on its own band, without a jump\n\n"
    );
    let run = s.attain(&["check", "--deny-warnings"]).fails();
    assert!(
        run.stderr
            .ends_with("error: .: 1 warning and `--deny-warnings`\n\n"),
        "{run:?}"
    );
}

/// An accepted finding passes `--deny-warnings`, is counted, and is shown
/// on request.
#[test]
fn lint_an_accepted_cliff_passes_deny_warnings() {
    let s = Sandbox::tiny("lint-accepted");
    s.write(
        "plans/retroactive.toml",
        RETROACTIVE_PLAN.replace(
            "tiers = \"retroactive\"",
            "tiers = \"retroactive\"\naccept = [\"cliff\"]",
        ),
    );
    let run = s.attain(&["check", "--deny-warnings"]).ok();
    assert_eq!(
        run.stdout,
        "ok: 2 plans, 2 components, 5 measures, 1 quota, 1 accepted finding\n"
    );
    assert_eq!(run.stderr, "");
    let run = s.attain(&["check", "--show-accepted"]).ok();
    assert!(
        run.stderr.starts_with(
            "note: plans/retroactive.toml:5:6: accepted `cliff`: component `commission` has a cliff at 100% of quota"
        ),
        "{run:?}"
    );
}

#[test]
fn lint_deny_warnings_passes_a_clean_workspace() {
    let s = Sandbox::tiny("lint-clean");
    let run = s.attain(&["check", "--deny-warnings"]).ok();
    assert_eq!(run.stdout, "ok: 1 plan, 1 component, 5 measures, 1 quota\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn chart_curve_beside_a_candidate_file() {
    let s = Sandbox::tiny("chart-curve");
    s.write(
        "candidate/retention_commission.toml",
        TINY_PLAN.replace("\"marginal\"", "\"retroactive\""),
    );
    let run = s
        .attain(&[
            "chart",
            "curve",
            "--plan",
            "retention_commission",
            "--component",
            "commission",
            "--candidate",
            "candidate/retention_commission.toml",
            "--out",
            "curve.svg",
        ])
        .ok();
    assert_eq!(run.stderr, "wrote curve.svg\n");
    let svg = s.read_text("curve.svg");
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"560\"")
    );
    assert!(svg.contains(">attainment (% of quota)</text>"));
    assert!(svg.contains(">payout (USD)</text>"));
    assert!(svg.contains(">current: plan retention_commission</text>"));
    assert!(svg.contains(">candidate: candidate/retention_commission.toml</text>"));
    // Only the candidate (retroactive) has cliffs: at 100% and at 150%.
    assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    assert!(svg.contains(">+$15,000.00 at 100%</text>"), "{svg}");
    assert!(svg.ends_with("</svg>\n"));
}

#[test]
fn chart_curve_names_what_it_cannot_find() {
    let s = Sandbox::tiny("chart-unknown");
    let run = s
        .attain(&[
            "chart",
            "curve",
            "--plan",
            "retention_commission",
            "--component",
            "bonus",
        ])
        .fails();
    assert_eq!(
        run.stderr,
        "error: --component: plan `retention_commission` has no component `bonus`; its components: commission\n\n"
    );
}

#[test]
fn chart_distribution_from_data_files() {
    let s = Sandbox::tiny("chart-distribution");
    let run = s
        .attain(&[
            "chart",
            "distribution",
            "--participants",
            "people.csv",
            "--transactions",
            "deals.csv",
            "--component",
            "commission",
            "--out",
            "people.svg",
        ])
        .ok();
    assert_eq!(run.stderr, "wrote people.svg\n");
    let svg = s.read_text("people.svg");
    assert!(svg.contains(">Attainment across people</text>"));
    assert!(svg.contains(">Payouts across people</text>"));
    // am1 earned 37,500 in the year, am2 10,500 (see the top of this file).
    assert!(
        svg.contains(
            "component commission, 2026: each person's total; 2 people, $48,000.00 in all"
        ),
        "{svg}"
    );
}

#[test]
fn chart_distribution_from_the_stores_latest_run() {
    let s = Sandbox::tiny("chart-store");
    s.attain(&["plan", "apply"]).ok();
    s.attain(&["import", "participants", "people.csv"]).ok();
    s.attain(&["import", "transactions", "deals.csv"]).ok();
    let run = s.attain(&["chart", "distribution"]).fails();
    assert_eq!(
        run.stderr,
        "error: store: no run recorded: pass --participants and --transactions, or run `attain run` first\n\n"
    );
    s.attain(&["run"]).ok();
    let run = s.attain(&["chart", "distribution"]).ok();
    // Attainment is read back from the stored explanations: 8 quarters.
    assert!(
        run.stdout
            .contains("2026: 8 values (one per person, period and component with a quota)"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("2 people, $48,000.00 in all"),
        "{run:?}"
    );
}

/// The ledger rounds in the workspace's currency: yen have no decimals. A
/// holdback of 33.3% until the year's end withholds JPY 3,497 of am2's
/// JPY 10,500 (3,496.5, half away from zero) and JPY 2,498 of am1's Q2
/// JPY 7,500 (2,497.5): what is withheld and what is paid add up to the
/// earnings, yen for yen.
#[test]
fn store_a_holdback_in_yen_withholds_whole_yen() {
    let s = Sandbox::tiny("store-yen-holdback");
    s.edit(
        "attain.toml",
        "currency = \"USD\"\n",
        "currency = \"JPY\"\nminor_unit = 0\n",
    );
    s.edit(
        "plans/retention_commission.toml",
        "measure = \"nrr\"\n",
        "measure = \"nrr\"\nholdback = { percent = \"33.3%\", until = \"year_end\" }\n",
    );
    s.store(&["plan", "apply"]).ok();
    s.store(&["import", "participants", "people.csv"]).ok();
    s.store(&["import", "transactions", "deals.csv"]).ok();
    s.store(&["run"]).ok();
    let ledger = s.store(&["ledger", "--participant", "am1"]).ok();
    assert_eq!(
        ledger.stdout,
        "am1\n  \
         period    status          earned  manual   withheld    released  carried in   draw     payment  carried out\n  \
         2026-M01  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M02  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M03  calculated  JPY 30,000   JPY 0  JPY 9,990       JPY 0       JPY 0  JPY 0  JPY 20,010        JPY 0\n      \
         withheld JPY 9,990 until year_end\n  \
         2026-M04  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M05  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M06  calculated   JPY 7,500   JPY 0  JPY 2,498       JPY 0       JPY 0  JPY 0   JPY 5,002        JPY 0\n      \
         withheld JPY 2,498 until year_end\n  \
         2026-M07  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M08  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M09  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M10  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M11  calculated       JPY 0   JPY 0      JPY 0       JPY 0       JPY 0  JPY 0       JPY 0        JPY 0\n  \
         2026-M12  calculated       JPY 0   JPY 0      JPY 0  JPY 12,488       JPY 0  JPY 0  JPY 12,488        JPY 0\n      \
         released JPY 12,488 withheld until year_end: end of the year\n  \
         earned JPY 37,500, paid JPY 0, due JPY 37,500, withheld JPY 0, owed by am1 JPY 0\n\
         \n\
         "
    );
    let am2 = s.store(&["ledger", "--participant", "am2"]).ok();
    assert!(
        am2.stdout.contains(
            "  2026-M03  calculated  JPY 10,500   JPY 0  JPY 3,497      JPY 0       JPY 0  JPY 0  JPY 7,003        JPY 0\n      \
                 withheld JPY 3,497 until year_end\n"
        ),
        "{am2:?}"
    );
    // The payroll file keeps plain numbers, in whole yen.
    for m in ["2026-M03", "2026-M06"] {
        s.store(&["period", "approve", m]).ok();
    }
    let march = s.store(&["export", "payroll", "--period", "2026-M03"]).ok();
    assert_eq!(
        march.stdout,
        "participant_id,pay_period,earned,manual_adjustments,withheld,released,carried_in,draw,payment\n\
         am1,2026-M03,30000,0,9990,0,0,0,20010\n\
         am2,2026-M03,10500,0,3497,0,0,0,7003\n"
    );
    assert_eq!(march.stderr, "2026-M03: total JPY 27,013\n");
    let june = s.store(&["export", "payroll", "--period", "2026-M06"]).ok();
    assert_eq!(
        june.stdout,
        "participant_id,pay_period,earned,manual_adjustments,withheld,released,carried_in,draw,payment\n\
         am1,2026-M06,7500,0,2498,0,0,0,5002\n"
    );
    let statement = s
        .store(&["statement", "--participant", "am1", "--period", "2026-M06"])
        .ok();
    assert!(
        statement.stdout.contains(
            "payment\n  \
               earned this period                              JPY 7,500\n  \
               withheld (holdbacks)                           -JPY 2,498\n      \
                   withheld JPY 2,498 until year_end\n\
             \n\
             payment due                                       JPY 5,002\n"
        ),
        "{statement:?}"
    );
    // An amount finer than a yen is refused where it is entered.
    let half = s
        .store(&[
            "adjust",
            "--participant",
            "am1",
            "--period",
            "2026-M07",
            "--amount",
            "0.5",
            "--reason",
            "half a yen",
        ])
        .fails();
    assert_eq!(
        half.stderr,
        "error: store: `0.5` has more decimals than JPY has\n  \
           = help: JPY amounts have no decimals: write e.g. 250 or -75\n\n"
    );
    let word = s
        .store(&[
            "adjust",
            "--participant",
            "am1",
            "--period",
            "2026-M07",
            "--amount",
            "ten",
            "--reason",
            "typo",
        ])
        .fails();
    assert_eq!(
        word.stderr,
        "error: --amount: `ten` is not an amount\n  \
           = help: write e.g. 250 or -75\n\n"
    );
    s.write(
        "draws.csv",
        "participant_id,amount,start,end,recoverable\nam2,2000.5,2026-M01,2026-M03,yes\n",
    );
    let draws = s.store(&["import", "draws", "draws.csv"]).fails();
    assert!(
        draws.stderr.contains(
            "draws.csv:2:2: `amount` is `2000.5`, which has more decimals than JPY has\n  \
               = help: JPY amounts have no decimals: write e.g. 1500\n"
        ),
        "{draws:?}"
    );
}

/// The ledger's notes and a statement's payment part print amounts in
/// dollars: am2's recoverable draw of $2,000 a month, am1's manual
/// -$500.00 and a cap of $25,000 a month that carries the excess.
#[test]
fn store_ledger_notes_print_amounts_in_dollars() {
    let s = Sandbox::stored("store_notes_usd");
    s.write(
        "draws.csv",
        "participant_id,amount,start,end,recoverable\nam2,2000.00,2026-M01,2026-M03,yes\n",
    );
    s.store(&["import", "draws", "draws.csv"]).ok();
    s.write(
        "caps.csv",
        "participant_id,amount,start,end,carry\nam1,25000.00,2026-M01,,yes\n",
    );
    s.store(&["import", "caps", "caps.csv"]).ok();
    s.store(&[
        "adjust",
        "--participant",
        "am1",
        "--period",
        "2026-M03",
        "--amount",
        "-500.00",
        "--reason",
        "deal d3 was booked twice",
    ])
    .ok();
    let ledger = s.store(&["ledger", "--participant", "am1"]).ok();
    assert!(
        ledger.stdout.contains(
            "  2026-M03  calculated  $30,000.00  -$500.00     $0.00     $0.00       $0.00  $0.00  $25,000.00    $4,500.00\n      \
             manual adjustment -$500.00: deal d3 was booked twice\n      \
             capped at $25,000.00: $4,500.00 carried into later periods\n  \
             2026-M04  calculated       $0.00     $0.00     $0.00     $0.00   $4,500.00  $0.00   $4,500.00        $0.00\n      \
             carried in from earlier periods: +$4,500.00\n\
             "
        ),
        "{ledger:?}"
    );
    let am2 = s.store(&["ledger", "--participant", "am2"]).ok();
    assert!(
        am2.stdout.contains(
            "  2026-M01  calculated       $0.00   $0.00     $0.00     $0.00       $0.00  $2,000.00  $2,000.00   -$2,000.00\n      \
                 recoverable draw of $2,000.00: $2,000.00 to earn back\n  \
             2026-M02  calculated       $0.00   $0.00     $0.00     $0.00  -$2,000.00  $4,000.00  $2,000.00   -$4,000.00\n      \
                 recoverable draw of $2,000.00: $4,000.00 to earn back\n      \
                 carried in from earlier periods: -$2,000.00\n"
        ),
        "{am2:?}"
    );
    let statement = s
        .store(&["statement", "--participant", "am1", "--period", "2026-M03"])
        .ok();
    assert!(
        statement.stdout.ends_with(
            "payment\n  \
               earned this period                             $30,000.00\n  \
               manual adjustments                               -$500.00\n      \
                   manual adjustment -$500.00: deal d3 was booked twice\n      \
                   capped at $25,000.00: $4,500.00 carried into later periods\n  \
               carried into later periods                      $4,500.00\n\
             \n\
             payment due                                      $25,000.00\n\
             paid year to date: $0.00 (no pay period of the year is closed yet)\n"
        ),
        "{statement:?}"
    );
    let draw = s
        .store(&["statement", "--participant", "am2", "--period", "2026-M02"])
        .ok();
    assert!(
        draw.stdout.contains(
            "  draw                                            $4,000.00\n      \
                 recoverable draw of $2,000.00: $4,000.00 to earn back\n"
        ),
        "{draw:?}"
    );
    // The payroll file keeps plain numbers.
    s.store(&["period", "approve", "2026-M03"]).ok();
    let payroll = s.store(&["export", "payroll", "--period", "2026-M03"]).ok();
    assert_eq!(
        payroll.stdout,
        "participant_id,pay_period,earned,manual_adjustments,withheld,released,carried_in,draw,payment\n\
         am1,2026-M03,30000.00,-500.00,0.00,0.00,0.00,0.00,25000.00\n\
         am2,2026-M03,10500.00,0.00,0.00,0.00,-4000.00,0.00,6500.00\n"
    );
}

/// A prior-period adjustment's explanation on a statement is written in
/// the workspace's currency: euros here.
#[test]
fn store_statement_explains_a_prior_period_adjustment_in_euros() {
    let s = Sandbox::tiny("store_statement_eur");
    s.edit(
        "attain.toml",
        "currency = \"USD\"\n",
        "currency = \"EUR\"\n",
    );
    s.store(&["plan", "apply"]).ok();
    s.store(&["import", "participants", "people.csv"]).ok();
    s.store(&["import", "transactions", "deals.csv"]).ok();
    s.store(&["run"]).ok();
    for m in ["2026-M01", "2026-M02", "2026-M03"] {
        s.store(&["period", "approve", m]).ok();
        s.store(&["period", "close", m]).ok();
    }
    revise_d4(&s);
    s.store(&["run"]).ok();
    let april = s
        .store(&["statement", "--participant", "am2", "--period", "2026-M04"])
        .ok();
    assert_eq!(
        april.stdout,
        "statement for am2 (Alan), pay period 2026-M04\n\
         plan: retention_commission\n\
         manager: mgr1\n\
         status: calculated, paying run 2\n\
         \n\
         earnings\n  \
           none paid in 2026-M04\n\
         \n\
         prior-period adjustments\n  \
           2026-Q1 commission                                €750.00\n      \
               prior-period adjustment: commission of 2026-Q1 was paid €10,500.00, recalculated €11,250.00: difference +€750.00, paid in 2026-M04\n        \
                 d4: amount 150000.00 → 160000.00\n\
         \n\
         payment due                                         €750.00\n\
         paid year to date: €10,500.00 (closed pay periods 2026-M01 to 2026-M03)\n"
    );
    // The payouts file keeps the plain number.
    let paid = s.store(&["payouts", "--period", "2026-M04"]).ok();
    assert_eq!(
        paid.stdout,
        "participant_id,period,component,kind,amount\n\
         am2,2026-Q1,commission,adjustment,750.00\n"
    );
}
