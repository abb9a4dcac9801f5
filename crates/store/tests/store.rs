#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One suite, two backends: every test runs on a fresh SQLite file and on
//! a fresh PostgreSQL schema (127.0.0.1:5432, database `test`, or
//! `ATTAIN_TEST_POSTGRES`). Without a reachable server the PostgreSQL half
//! is skipped with a note, unless `ATTAIN_REQUIRE_POSTGRES` is set (CI sets
//! it), in which case it fails.
//!
//! Contents: imports (idempotent, revisions, all or nothing, JSON lines),
//! plan versions, runs, the period close and prior-period adjustments,
//! the audit log, the ledger (draws, caps, holdbacks, manual adjustments,
//! payroll; whole units of the workspace's currency, notes printed in it),
//! migrations, run diffs (revised and cancelled deals, plan
//! versions, identical runs) and pay-period statements.

use attain_core::money::Currency;
use attain_store::driver::Driver;
use attain_store::{ImportFormat, ImportKind, PeriodStatus, PlanFile, Store};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

const ATTAIN_TOML: &str = r#"
[workspace]
name = "store test"
currency = "USD"
rounding = "half_away_from_zero"

[calendar]
first_month = 1
year = 2026

[participants]
id = "participant_id"
manager = "manager_id"
plan = "plan"

[transactions]
id = "deal_id"
date = "close_date"
amount = { column = "amount", type = "money", min = 0 }

[transactions.fields]
owner = { column = "owner_id", type = "participant" }

[credit]
to = "owner"

[measures]
bookings = { sum = "credit" }
team = { sum_over = "direct_reports", of = "bookings" }
"#;

const REP_PLAN: &str = r#"
[plan]
id = "rep"
name = "Rep commission"

[[components]]
id = "commission"
period = "month"
measure = "bookings"
rate = "10%"
"#;

const MANAGER_PLAN: &str = r#"
[plan]
id = "manager"
name = "Manager override"

[[components]]
id = "override"
period = "quarter"
measure = "team"
rate = "2%"
"#;

const PEOPLE: &str = "participant_id,manager_id,plan\nM1,,manager\nR1,M1,rep\nR2,M1,rep\n";

const DEALS: &str = "deal_id,close_date,amount,owner_id\n\
D1,2026-01-10,1000.00,R1\n\
D2,2026-01-20,500.00,R2\n\
D3,2026-02-05,2000.00,R1\n";

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn workspace() -> Vec<PlanFile> {
    vec![
        PlanFile {
            path: "attain.toml".into(),
            text: ATTAIN_TOML.into(),
        },
        PlanFile {
            path: "plans/manager.toml".into(),
            text: MANAGER_PLAN.into(),
        },
        PlanFile {
            path: "plans/rep.toml".into(),
            text: REP_PLAN.into(),
        },
    ]
}

/// A store for one test; a PostgreSQL one drops its schema when done.
struct TestStore {
    store: Store,
    schema: Option<(String, String)>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl std::ops::DerefMut for TestStore {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.schema {
            if let Ok(mut admin) = attain_store::postgres::Postgres::connect(url, None) {
                let _ = admin.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), &[]);
            }
        }
    }
}

/// A fresh store on each backend that is reachable.
fn stores(test: &str) -> Vec<(String, TestStore)> {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let mut out = Vec::new();
    let dir = std::env::temp_dir().join(format!("attain-store-{}-{n}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("attain.db");
    let sqlite =
        Store::open(&path.display().to_string(), "tester").unwrap_or_else(|e| panic!("{e}"));
    out.push((
        "sqlite".to_string(),
        TestStore {
            store: sqlite,
            schema: None,
        },
    ));

    let url = std::env::var("ATTAIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string());
    let schema = format!("attain_test_{}_{n}", std::process::id());
    match attain_store::postgres::Postgres::connect(&url, None) {
        Ok(mut admin) => {
            let _ = admin.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), &[]);
            let pg = attain_store::postgres::Postgres::connect(&url, Some(&schema))
                .unwrap_or_else(|e| panic!("{e}"));
            let store =
                Store::with_driver(Box::new(pg), "tester").unwrap_or_else(|e| panic!("{e}"));
            out.push((
                "postgres".to_string(),
                TestStore {
                    store,
                    schema: Some((url.clone(), schema.clone())),
                },
            ));
        }
        Err(e) => {
            if std::env::var_os("ATTAIN_REQUIRE_POSTGRES").is_some() {
                panic!("PostgreSQL is required and unreachable: {e}");
            }
            eprintln!("note: PostgreSQL unreachable, its half of `{test}` is skipped: {e}");
        }
    }
    for (_, s) in &mut out {
        let clock = std::sync::atomic::AtomicI64::new(1_780_000_000);
        s.set_clock(move || {
            let t = clock.fetch_add(60, Ordering::SeqCst);
            jiff::Timestamp::from_second(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        });
    }
    out
}

/// The error of what must fail, as text.
fn fails<T: std::fmt::Debug>(r: Result<T, attain_store::Error>, backend: &str) -> String {
    match r {
        Ok(v) => panic!("{backend}: expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Imports `text` as `source`: JSON lines when its name ends in `.jsonl`,
/// CSV otherwise.
fn import(
    s: &mut Store,
    kind: ImportKind,
    source: &str,
    text: &str,
) -> Result<attain_store::ImportReport, attain_store::Error> {
    let format = if source.ends_with(".jsonl") {
        ImportFormat::JsonLines
    } else {
        ImportFormat::Csv
    };
    s.import(kind, source, text.as_bytes().to_vec(), format, None)
}

fn ok<T>(r: Result<T, attain_store::Error>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn seeded(test: &str) -> Vec<(String, TestStore)> {
    let mut out = stores(test);
    for (_, s) in &mut out {
        ok(s.apply_plans(&workspace(), None));
        ok(import(s, ImportKind::Participants, "people.csv", PEOPLE));
        ok(import(s, ImportKind::Transactions, "deals.csv", DEALS));
    }
    out
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `participant period component kind amount` lines of a pay period.
fn pays(s: &mut Store, period: &str) -> Vec<String> {
    ok(s.pay_period_results(period))
        .iter()
        .filter(|r| !r.amount.is_zero())
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r.participant, r.period, r.component, r.kind, r.amount
            )
        })
        .collect()
}

#[test]
fn reimporting_the_same_file_changes_nothing_and_a_changed_row_is_a_new_revision() {
    for (backend, mut s) in seeded("reimport") {
        let again = ok(import(&mut s, ImportKind::Transactions, "deals.csv", DEALS));
        assert_eq!(
            (again.rows, again.added, again.revised, again.unchanged),
            (3, 0, 0, 3),
            "{backend}"
        );
        // Columns reordered and an extra column: the same values, no change.
        let reordered = "owner_id,deal_id,note,amount,close_date\n\
R1,D1,x,1000.00,2026-01-10\nR2,D2,y,500.00,2026-01-20\nR1,D3,z,2000.00,2026-02-05\n";
        let r = ok(import(
            &mut s,
            ImportKind::Transactions,
            "crm.csv",
            reordered,
        ));
        assert_eq!((r.added, r.revised, r.unchanged), (0, 0, 3), "{backend}");
        let changed = "deal_id,close_date,amount,owner_id\nD1,2026-01-10,1200.00,R1\nD4,2026-03-01,100.00,R2\n";
        let r = ok(import(
            &mut s,
            ImportKind::Transactions,
            "deals2.csv",
            changed,
        ));
        assert_eq!((r.added, r.revised, r.unchanged), (1, 1, 0), "{backend}");
        let run = ok(s.record_run(None));
        // R1: January 1,200 + 10% = 120; R2: January 50, March 10;
        // R1 February 200. Manager: Q1 team 1,200 + 500 + 2,000 + 100 = 3,800 → 76.
        assert_eq!(run.total, dec("456.00"), "{backend}");
        assert_eq!(
            pays(&mut s, "2026-M01"),
            vec![
                "R1 2026-M01 commission earning 120.00",
                "R2 2026-M01 commission earning 50.00"
            ],
            "{backend}"
        );
        assert_eq!(
            pays(&mut s, "2026-M03"),
            vec![
                "M1 2026-Q1 override earning 76.00",
                "R2 2026-M03 commission earning 10.00"
            ],
            "{backend}"
        );
    }
}

#[test]
fn a_bad_row_fails_the_whole_import_and_names_line_column_and_value() {
    for (backend, mut s) in seeded("bad_row") {
        let bad = "deal_id,close_date,amount,owner_id\nD9,2026-01-10,12.00,R1\nD10,2026-13-01,5.00,R1\nD11,2026-01-02,7.00,NOBODY\n";
        let e = fails(
            import(&mut s, ImportKind::Transactions, "bad.csv", bad),
            &backend,
        );
        assert!(e.contains("bad.csv:3:2"), "{backend}: {e}");
        assert!(e.contains("`2026-13-01`"), "{backend}: {e}");
        assert!(e.contains("bad.csv:4:4"), "{backend}: {e}");
        assert!(e.contains("`NOBODY`"), "{backend}: {e}");
        // Nothing of it was written: D9 is not in the store.
        let run = ok(s.record_run(None));
        assert_eq!(run.total, dec("420.00"), "{backend}");
        assert_eq!(
            ok(s.imports()).len(),
            2,
            "{backend}: the failed import is not recorded"
        );
    }
}

#[test]
fn json_lines_import_like_csv_and_point_at_their_own_lines() {
    for (backend, mut s) in seeded("jsonl") {
        let lines = "{\"deal_id\": \"D1\", \"close_date\": \"2026-01-10\", \"amount\": 1000.00, \"owner_id\": \"R1\"}\n\
{\"deal_id\": \"D5\", \"close_date\": \"2026-02-11\", \"amount\": 0.10, \"owner_id\": \"R2\"}\n";
        let r = ok(import(
            &mut s,
            ImportKind::Transactions,
            "deals.jsonl",
            lines,
        ));
        assert_eq!((r.added, r.revised, r.unchanged), (1, 0, 1), "{backend}");
        let bad = "{\"deal_id\": \"D6\", \"close_date\": \"2026-02-11\", \"amount\": 5, \"owner_id\": \"R2\"}\n\n{\"deal_id\": \"D7\", \"close_date\": \"soon\", \"amount\": 5, \"owner_id\": \"R2\"}\n";
        let e = fails(
            import(&mut s, ImportKind::Transactions, "more.jsonl", bad),
            &backend,
        );
        assert!(e.contains("more.jsonl:3:"), "{backend}: {e}");
        assert!(e.contains("`soon`"), "{backend}: {e}");
    }
}

#[test]
fn plan_versions_are_kept_and_a_mid_year_change_applies_from_its_date() {
    for (backend, mut s) in seeded("plan_versions") {
        let mut files = workspace();
        files[2].text = REP_PLAN.replace("10%", "20%");
        let applied = ok(s.apply_plans(&files, Some("2026-02-01")));
        assert_eq!(applied.len(), 1, "{backend}");
        assert_eq!(
            (applied[0].path.as_str(), applied[0].version),
            ("plans/rep.toml", 2),
            "{backend}"
        );
        // Applying the same files again stores nothing.
        assert!(ok(s.apply_plans(&files, Some("2026-02-01"))).is_empty());
        let history = ok(s.plan_history());
        assert_eq!(history.len(), 4, "{backend}");
        let run = ok(s.record_run(None));
        assert_eq!(run.stretches, 2, "{backend}");
        // January at 10%: 100 + 50; February at 20%: 400; Q1 override 70.
        assert_eq!(
            pays(&mut s, "2026-M01"),
            vec![
                "R1 2026-M01 commission earning 100.00",
                "R2 2026-M01 commission earning 50.00"
            ],
            "{backend}"
        );
        assert_eq!(
            pays(&mut s, "2026-M02"),
            vec!["R1 2026-M02 commission earning 400.00"],
            "{backend}"
        );
        // A workspace with an error stores nothing.
        let mut broken = workspace();
        broken[2].text = REP_PLAN.replace("bookings", "bokings");
        let e = fails(s.apply_plans(&broken, Some("2026-03-01")), &backend);
        assert!(e.contains("plans/rep.toml"), "{backend}: {e}");
        assert_eq!(ok(s.plan_history()).len(), 4, "{backend}");
    }
}

#[test]
fn the_currency_is_the_latest_stored_workspaces() {
    for (backend, mut s) in stores("currency") {
        let e = fails(s.currency(), &backend);
        assert!(e.contains("the store holds no plans yet"), "{backend}: {e}");
        ok(s.apply_plans(&workspace(), None));
        assert_eq!(ok(s.currency()), Currency::usd(), "{backend}");
        let mut files = workspace();
        files[0].text = ATTAIN_TOML.replacen(
            "currency = \"USD\"",
            "currency = \"JPY\"\nminor_unit = 0",
            1,
        );
        ok(s.apply_plans(&files, None));
        let yen = ok(s.currency());
        assert_eq!(yen, Currency::new("JPY", 0), "{backend}");
        assert_eq!(yen.format(dec("32466")), "JPY 32,466", "{backend}");
    }
}

#[test]
fn a_closed_period_is_never_rewritten_and_later_changes_become_adjustments() {
    for (backend, mut s) in seeded("close") {
        let first = ok(s.record_run(None));
        assert_eq!(first.total, dec("420.00"), "{backend}");
        let e = fails(s.close_period("2026-M01"), &backend);
        assert!(
            e.contains("2026-M01 is calculated, not approved"),
            "{backend}: {e}"
        );
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        let e = fails(s.approve_period("2026-M01"), &backend);
        assert!(e.contains("2026-M01 is closed"), "{backend}: {e}");

        // After the close: D1 grows, D2 is cancelled.
        let revised = "deal_id,close_date,amount,owner_id\nD1,2026-01-10,1500.00,R1\n";
        ok(import(
            &mut s,
            ImportKind::Transactions,
            "late.csv",
            revised,
        ));
        assert_eq!(
            ok(s.cancel_transactions(&["D2".into()], "customer refunded")),
            1
        );
        let second = ok(s.record_run(None));
        assert_eq!(second.adjustments.len(), 2, "{backend}");
        // January stays as it was paid.
        assert_eq!(
            pays(&mut s, "2026-M01"),
            vec![
                "R1 2026-M01 commission earning 100.00",
                "R2 2026-M01 commission earning 50.00"
            ],
            "{backend}"
        );
        // The differences are paid in February, the first open period.
        assert_eq!(
            pays(&mut s, "2026-M02"),
            vec![
                "R1 2026-M01 commission adjustment 50.00",
                "R1 2026-M02 commission earning 200.00",
                "R2 2026-M01 commission adjustment -50.00"
            ],
            "{backend}"
        );
        let r1: Vec<String> = ok(s.run_results(second.id, Some("R1")))
            .into_iter()
            .filter(|r| r.kind == "adjustment")
            .flat_map(|r| r.explanation)
            .collect();
        assert_eq!(
            r1,
            vec![
                "prior-period adjustment: commission of 2026-M01 was paid $100.00, recalculated $150.00: difference +$50.00, paid in 2026-M02",
                "  D1: amount 1000.00 → 1500.00"
            ],
            "{backend}"
        );
        let r2: Vec<String> = ok(s.run_results(second.id, Some("R2")))
            .into_iter()
            .filter(|r| r.kind == "adjustment")
            .flat_map(|r| r.explanation)
            .collect();
        assert_eq!(r2[1], "  D2: cancelled (customer refunded)", "{backend}");

        // Once February closes, its adjustments count as paid: a run with
        // no new change finds nothing more to adjust.
        ok(s.approve_period("2026-M02"));
        ok(s.close_period("2026-M02"));
        let third = ok(s.record_run(None));
        assert!(
            third.adjustments.is_empty(),
            "{backend}: {:?}",
            third.adjustments
        );

        // An approved period whose results change loses its approval.
        ok(s.approve_period("2026-M03"));
        let grown = "deal_id,close_date,amount,owner_id\nD3,2026-02-05,2100.00,R1\n";
        ok(import(&mut s, ImportKind::Transactions, "later.csv", grown));
        let fourth = ok(s.record_run(None));
        assert_eq!(fourth.unapproved, vec!["2026-M03".to_string()], "{backend}");
        assert_eq!(
            pays(&mut s, "2026-M03"),
            vec![
                "M1 2026-Q1 override earning 72.00",
                "R1 2026-M02 commission adjustment 10.00"
            ],
            "{backend}"
        );
        let statuses: Vec<(String, PeriodStatus)> = ok(s.periods())
            .into_iter()
            .take(4)
            .map(|p| (p.period, p.status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                ("2026-M01".to_string(), PeriodStatus::Closed),
                ("2026-M02".to_string(), PeriodStatus::Closed),
                ("2026-M03".to_string(), PeriodStatus::Calculated),
                ("2026-M04".to_string(), PeriodStatus::Calculated),
            ],
            "{backend}"
        );
        let e = fails(s.close_period("2026-M04"), &backend);
        assert!(e.contains("not approved"), "{backend}: {e}");
    }
}

#[test]
fn every_change_is_in_the_append_only_audit_log() {
    for (backend, mut s) in seeded("audit") {
        ok(s.record_run(None));
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        let log = ok(s.audit_log());
        let actions: Vec<String> = log
            .iter()
            .map(|e| format!("{} {}", e.action, e.subject))
            .collect();
        assert_eq!(
            actions,
            vec![
                "plan apply attain.toml",
                "plan apply plans/manager.toml",
                "plan apply plans/rep.toml",
                "import participants",
                "import transactions",
                "run run 1",
                "approve 2026-M01",
                "close 2026-M01",
            ],
            "{backend}"
        );
        assert!(log.iter().all(|e| e.actor == "tester"), "{backend}");
        assert!(
            log[4]
                .detail
                .contains("3 rows, 3 added, 0 revised, 0 unchanged"),
            "{backend}: {}",
            log[4].detail
        );
    }
}

#[test]
fn the_audit_log_refuses_updates_and_deletes() {
    let dir = std::env::temp_dir().join(format!("attain-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("a.db").display().to_string();
    let mut s = ok(Store::open(&path, "tester"));
    ok(s.apply_plans(&workspace(), None));
    drop(s);
    let mut db = ok(attain_store::sqlite::Sqlite::open(&path));
    for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
        let e = match db.execute(sql, &[]) {
            Ok(n) => panic!("{sql}: changed {n} rows"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("append-only"), "{e}");
    }
}

fn ledger_lines(s: &mut Store, who: &str) -> Vec<String> {
    ok(s.ledger(2026, Some(who)))
        .iter()
        .take(4)
        .map(|l| {
            format!(
                "{} earned {} manual {} held {} released {} in {} draw {} pay {} out {}",
                l.pay_period,
                l.earned,
                l.manual,
                l.held,
                l.released,
                l.carried_in,
                l.draw,
                l.payment,
                l.carried_out
            )
        })
        .collect()
}

#[test]
fn the_ledger_pays_draws_holdbacks_and_manual_adjustments() {
    for (backend, mut s) in seeded("ledger") {
        let mut files = workspace();
        files[2].text =
            format!("{REP_PLAN}holdback = {{ percent = \"20%\", until = \"quarter_end\" }}\n");
        ok(s.apply_plans(&files, None));
        let draws = "participant_id,amount,start,end,recoverable\n\
R2,100.00,2026-M01,2026-M03,yes\n\
M1,50.00,2026-M01,2026-M02,no\n";
        ok(import(&mut s, ImportKind::Draws, "draws.csv", draws));
        ok(s.record_run(None));
        ok(s.adjust("R1", "2026-M04", dec("25.00"), "SPIFF missed in March"));
        // R1 earns 100 in January and 200 in February; 20% is withheld
        // until the quarter ends and paid in March.
        assert_eq!(
            ledger_lines(&mut s, "R1"),
            vec![
                "2026-M01 earned 100.00 manual 0.00 held 20.00 released 0.00 in 0.00 draw 0.00 pay 80.00 out 0.00",
                "2026-M02 earned 200.00 manual 0.00 held 40.00 released 0.00 in 0.00 draw 0.00 pay 160.00 out 0.00",
                "2026-M03 earned 0.00 manual 0.00 held 0.00 released 60.00 in 0.00 draw 0.00 pay 60.00 out 0.00",
                "2026-M04 earned 0.00 manual 25.00 held 0.00 released 0.00 in 0.00 draw 0.00 pay 25.00 out 0.00",
            ],
            "{backend}"
        );
        // R2's recoverable draw of 100 a month: the shortfall is carried
        // and earned back later (nothing more is earned this year).
        assert_eq!(
            ledger_lines(&mut s, "R2"),
            vec![
                "2026-M01 earned 50.00 manual 0.00 held 10.00 released 0.00 in 0.00 draw 60.00 pay 100.00 out -60.00",
                "2026-M02 earned 0.00 manual 0.00 held 0.00 released 0.00 in -60.00 draw 160.00 pay 100.00 out -160.00",
                "2026-M03 earned 0.00 manual 0.00 held 0.00 released 10.00 in -160.00 draw 250.00 pay 100.00 out -250.00",
                "2026-M04 earned 0.00 manual 0.00 held 0.00 released 0.00 in -250.00 draw 0.00 pay 0.00 out -250.00",
            ],
            "{backend}"
        );
        // M1's non-recoverable draw is forgiven; the Q1 override is paid in March.
        assert_eq!(
            ledger_lines(&mut s, "M1")[..3].to_vec(),
            vec![
                "2026-M01 earned 0.00 manual 0.00 held 0.00 released 0.00 in 0.00 draw 50.00 pay 50.00 out 0.00",
                "2026-M02 earned 0.00 manual 0.00 held 0.00 released 0.00 in 0.00 draw 50.00 pay 50.00 out 0.00",
                "2026-M03 earned 70.00 manual 0.00 held 0.00 released 0.00 in 0.00 draw 0.00 pay 70.00 out 0.00",
            ],
            "{backend}"
        );
        let r2 = attain_store::ledger::totals(&ok(s.ledger(2026, Some("R2"))));
        assert_eq!(
            (r2.earned, r2.paid, r2.due, r2.held, r2.owed_by_person),
            (
                dec("50.00"),
                dec("0.00"),
                dec("300.00"),
                dec("0.00"),
                dec("250.00")
            ),
            "{backend}"
        );

        // A cap of 150 a month on R1, the excess carried: February pays
        // 150 and carries 10 into March.
        let caps = "participant_id,amount,start,end,carry\nR1,150.00,2026-M01,,yes\n";
        ok(import(&mut s, ImportKind::Caps, "caps.csv", caps));
        assert_eq!(
            ledger_lines(&mut s, "R1")[1..3].to_vec(),
            vec![
                "2026-M02 earned 200.00 manual 0.00 held 40.00 released 0.00 in 0.00 draw 0.00 pay 150.00 out 10.00",
                "2026-M03 earned 0.00 manual 0.00 held 0.00 released 60.00 in 10.00 draw 0.00 pay 70.00 out 0.00",
            ],
            "{backend}"
        );

        // Payroll: only from an approved period; its total is the ledger's.
        let e = fails(s.payroll("2026-M03"), &backend);
        assert!(e.contains("2026-M03 is calculated"), "{backend}: {e}");
        ok(s.approve_period("2026-M03"));
        let payroll = ok(s.payroll("2026-M03"));
        let total: Decimal = payroll.iter().map(|l| l.payment).sum();
        let ledger_total: Decimal = ok(s.ledger(2026, None))
            .iter()
            .filter(|l| l.pay_period == "2026-M03")
            .map(|l| l.payment)
            .sum();
        assert_eq!(
            (total, ledger_total),
            (dec("240.00"), dec("240.00")),
            "{backend}"
        );

        // A closed period takes no manual adjustment.
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        let e = fails(s.adjust("R1", "2026-M01", dec("1"), "late"), &backend);
        assert!(e.contains("2026-M01 is closed"), "{backend}: {e}");
    }
}

#[test]
fn a_bad_draws_file_names_each_problem() {
    for (backend, mut s) in seeded("bad_draws") {
        let draws = "participant_id,amount,start,end,recoverable\n\
R9,100.00,2026-M01,,yes\n\
R2,-5,2026-Q1,,maybe\n";
        let e = fails(
            import(&mut s, ImportKind::Draws, "draws.csv", draws),
            &backend,
        );
        for expected in [
            "draws.csv:2:1",
            "`R9`, which is not a participant",
            "draws.csv:3:2",
            "`-5`, which is not an amount of zero or more",
            "draws.csv:3:3",
            "`2026-Q1`, which is not a pay period",
            "draws.csv:3:5",
            "`maybe`, which is neither yes nor no",
        ] {
            assert!(e.contains(expected), "{backend}: `{expected}` in {e}");
        }
    }
}

/// Stores seeded like [`seeded`], in `currency` with `minor_unit` decimals,
/// the rep plan ending with `rep_extra` and `deals` as the transactions.
fn seeded_in(
    test: &str,
    currency: &str,
    minor_unit: u32,
    rep_extra: &str,
    deals: &str,
) -> Vec<(String, TestStore)> {
    let mut files = workspace();
    files[0].text = ATTAIN_TOML.replacen(
        "currency = \"USD\"",
        &format!("currency = \"{currency}\"\nminor_unit = {minor_unit}"),
        1,
    );
    files[2].text = format!("{REP_PLAN}{rep_extra}");
    let mut out = stores(test);
    for (_, s) in &mut out {
        ok(s.apply_plans(&files, None));
        ok(import(s, ImportKind::Participants, "people.csv", PEOPLE));
        ok(import(s, ImportKind::Transactions, "deals.csv", deals));
    }
    out
}

const HOLDBACK: &str = "holdback = { percent = \"20%\", until = \"quarter_end\" }\n";

/// `period: note` for every note of `who`'s ledger of 2026.
fn ledger_notes(s: &mut Store, who: &str) -> Vec<String> {
    let lines = ok(s.ledger(2026, Some(who)));
    lines
        .iter()
        .flat_map(|l| l.notes.iter().map(|n| format!("{}: {n}", l.pay_period)))
        .collect()
}

/// What is withheld plus what is paid is what was earned, in every month
/// and over the year: no unit made or lost by rounding.
fn assert_adds_up(s: &mut Store, who: &str, backend: &str) {
    let lines = ok(s.ledger(2026, Some(who)));
    for l in &lines {
        assert_eq!(
            l.held + l.payment - l.released,
            l.earned,
            "{backend}: {who} {}",
            l.pay_period
        );
    }
    let paid: Decimal = lines.iter().map(|l| l.payment).sum();
    let earned: Decimal = lines.iter().map(|l| l.earned).sum();
    assert_eq!(paid, earned, "{backend}: {who} over the year");
}

#[test]
fn a_holdback_in_yen_withholds_whole_yen_and_pays_the_rest() {
    // R1 earns 10% of JPY 10,030 in January and in February: JPY 1,003,
    // of which 20% is JPY 200.6, withheld as JPY 201 (half away from
    // zero). R2 earns JPY 1,001: 20% is JPY 200.2, withheld as JPY 200.
    let deals = "deal_id,close_date,amount,owner_id\n\
D1,2026-01-10,10030,R1\n\
D2,2026-01-20,10010,R2\n\
D3,2026-02-05,10030,R1\n";
    for (backend, mut s) in seeded_in("yen_holdback", "JPY", 0, HOLDBACK, deals) {
        ok(s.record_run(None));
        assert_eq!(
            ledger_lines(&mut s, "R1"),
            vec![
                "2026-M01 earned 1003 manual 0 held 201 released 0 in 0 draw 0 pay 802 out 0",
                "2026-M02 earned 1003 manual 0 held 201 released 0 in 0 draw 0 pay 802 out 0",
                "2026-M03 earned 0 manual 0 held 0 released 402 in 0 draw 0 pay 402 out 0",
                "2026-M04 earned 0 manual 0 held 0 released 0 in 0 draw 0 pay 0 out 0",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_lines(&mut s, "R2")[..3].to_vec(),
            vec![
                "2026-M01 earned 1001 manual 0 held 200 released 0 in 0 draw 0 pay 801 out 0",
                "2026-M02 earned 0 manual 0 held 0 released 0 in 0 draw 0 pay 0 out 0",
                "2026-M03 earned 0 manual 0 held 0 released 200 in 0 draw 0 pay 200 out 0",
            ],
            "{backend}"
        );
        for who in ["R1", "R2", "M1"] {
            assert_adds_up(&mut s, who, &backend);
        }
        assert_eq!(
            ledger_notes(&mut s, "R1"),
            vec![
                "2026-M01: withheld JPY 201 until quarter_end",
                "2026-M02: withheld JPY 201 until quarter_end",
                "2026-M03: released JPY 402 withheld until quarter_end: end of the quarter",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_notes(&mut s, "R2"),
            vec![
                "2026-M01: withheld JPY 200 until quarter_end",
                "2026-M03: released JPY 200 withheld until quarter_end: end of the quarter",
            ],
            "{backend}"
        );
        // Payroll pays whole yen, and its parts are the ledger's.
        ok(s.approve_period("2026-M01"));
        let payroll: Vec<String> = ok(s.payroll("2026-M01"))
            .iter()
            .filter(|l| !l.earned.is_zero())
            .map(|l| {
                format!(
                    "{} earned {} held {} pay {}",
                    l.participant, l.earned, l.held, l.payment
                )
            })
            .collect();
        assert_eq!(
            payroll,
            vec![
                "R1 earned 1003 held 201 pay 802",
                "R2 earned 1001 held 200 pay 801"
            ],
            "{backend}"
        );
    }
}

#[test]
fn a_holdback_in_a_three_decimal_currency_keeps_its_three_decimals() {
    // 10% of KWD 10,000.050 is KWD 1,000.005; 20% of it is KWD 200.001,
    // which two decimals would withhold as 200.00.
    let deals = "deal_id,close_date,amount,owner_id\n\
D1,2026-01-10,10000.050,R1\n\
D2,2026-01-20,500,R2\n";
    for (backend, mut s) in seeded_in("kwd_holdback", "KWD", 3, HOLDBACK, deals) {
        ok(s.record_run(None));
        assert_eq!(
            ledger_lines(&mut s, "R1")[..3].to_vec(),
            vec![
                "2026-M01 earned 1000.005 manual 0.000 held 200.001 released 0.000 in 0.000 draw 0.000 pay 800.004 out 0.000",
                "2026-M02 earned 0.000 manual 0.000 held 0.000 released 0.000 in 0.000 draw 0.000 pay 0.000 out 0.000",
                "2026-M03 earned 0.000 manual 0.000 held 0.000 released 200.001 in 0.000 draw 0.000 pay 200.001 out 0.000",
            ],
            "{backend}"
        );
        assert_adds_up(&mut s, "R1", &backend);
        assert_eq!(
            ledger_notes(&mut s, "R1"),
            vec![
                "2026-M01: withheld KWD 200.001 until quarter_end",
                "2026-M03: released KWD 200.001 withheld until quarter_end: end of the quarter",
            ],
            "{backend}"
        );
    }
}

/// Holdbacks, both kinds of draw, both kinds of cap, a manual adjustment
/// and carried balances, for R1, R2 and M1 (see the ledger test above).
fn ledger_with_every_note(s: &mut Store) {
    let draws = "participant_id,amount,start,end,recoverable\n\
R2,100.00,2026-M01,2026-M03,yes\n\
M1,50.00,2026-M01,2026-M02,no\n";
    ok(import(s, ImportKind::Draws, "draws.csv", draws));
    ok(s.record_run(None));
    ok(s.adjust("R1", "2026-M04", dec("25.00"), "SPIFF missed in March"));
    // R1's February pays 150 and carries 10; M1's March override of 70
    // pays 60 and forfeits 10.
    let caps = "participant_id,amount,start,end,carry\n\
R1,150.00,2026-M01,,yes\n\
M1,60.00,2026-M03,,no\n";
    ok(import(s, ImportKind::Caps, "caps.csv", caps));
}

#[test]
fn ledger_notes_print_amounts_in_the_workspace_currency() {
    for (backend, mut s) in seeded_in("notes_usd", "USD", 2, HOLDBACK, DEALS) {
        ledger_with_every_note(&mut s);
        assert_eq!(
            ledger_notes(&mut s, "R1"),
            vec![
                "2026-M01: withheld $20.00 until quarter_end",
                "2026-M02: withheld $40.00 until quarter_end",
                "2026-M02: capped at $150.00: $10.00 carried into later periods",
                "2026-M03: released $60.00 withheld until quarter_end: end of the quarter",
                "2026-M03: carried in from earlier periods: +$10.00",
                "2026-M04: manual adjustment +$25.00: SPIFF missed in March",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_notes(&mut s, "R2")[..7].to_vec(),
            vec![
                "2026-M01: withheld $10.00 until quarter_end",
                "2026-M01: recoverable draw of $100.00: $60.00 to earn back",
                "2026-M02: recoverable draw of $100.00: $160.00 to earn back",
                "2026-M02: carried in from earlier periods: -$60.00",
                "2026-M03: released $10.00 withheld until quarter_end: end of the quarter",
                "2026-M03: recoverable draw of $100.00: $250.00 to earn back",
                "2026-M03: carried in from earlier periods: -$160.00",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_notes(&mut s, "M1"),
            vec![
                "2026-M01: non-recoverable draw of $50.00: $50.00 forgiven",
                "2026-M02: non-recoverable draw of $50.00: $50.00 forgiven",
                "2026-M03: capped at $60.00: $10.00 forfeited",
            ],
            "{backend}"
        );
    }
    for (backend, mut s) in seeded_in("notes_yen", "JPY", 0, HOLDBACK, DEALS) {
        ledger_with_every_note(&mut s);
        assert_eq!(
            ledger_notes(&mut s, "R1"),
            vec![
                "2026-M01: withheld JPY 20 until quarter_end",
                "2026-M02: withheld JPY 40 until quarter_end",
                "2026-M02: capped at JPY 150: JPY 10 carried into later periods",
                "2026-M03: released JPY 60 withheld until quarter_end: end of the quarter",
                "2026-M03: carried in from earlier periods: +JPY 10",
                "2026-M04: manual adjustment +JPY 25: SPIFF missed in March",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_notes(&mut s, "R2")[..7].to_vec(),
            vec![
                "2026-M01: withheld JPY 10 until quarter_end",
                "2026-M01: recoverable draw of JPY 100: JPY 60 to earn back",
                "2026-M02: recoverable draw of JPY 100: JPY 160 to earn back",
                "2026-M02: carried in from earlier periods: -JPY 60",
                "2026-M03: released JPY 10 withheld until quarter_end: end of the quarter",
                "2026-M03: recoverable draw of JPY 100: JPY 250 to earn back",
                "2026-M03: carried in from earlier periods: -JPY 160",
            ],
            "{backend}"
        );
        assert_eq!(
            ledger_notes(&mut s, "M1"),
            vec![
                "2026-M01: non-recoverable draw of JPY 50: JPY 50 forgiven",
                "2026-M02: non-recoverable draw of JPY 50: JPY 50 forgiven",
                "2026-M03: capped at JPY 60: JPY 10 forfeited",
            ],
            "{backend}"
        );
    }
}

#[test]
fn a_prior_period_adjustment_explains_itself_in_the_workspace_currency() {
    for (backend, mut s) in seeded_in("adjustment_yen", "JPY", 0, "", DEALS) {
        ok(s.record_run(None));
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        let revised = "deal_id,close_date,amount,owner_id\nD1,2026-01-10,1500,R1\n";
        ok(import(
            &mut s,
            ImportKind::Transactions,
            "late.csv",
            revised,
        ));
        ok(s.cancel_transactions(&["D2".into()], "customer refunded"));
        let run = ok(s.record_run(None));
        let explained = |rows: Vec<attain_store::RunRow>| -> Vec<String> {
            rows.into_iter()
                .filter(|r| r.kind == "adjustment")
                .flat_map(|r| r.explanation)
                .collect()
        };
        let r1 = vec![
            "prior-period adjustment: commission of 2026-M01 was paid JPY 100, recalculated JPY 150: difference +JPY 50, paid in 2026-M02",
            "  D1: amount 1000.00 → 1500",
        ];
        let r2 = vec![
            "prior-period adjustment: commission of 2026-M01 was paid JPY 50, recalculated JPY 0: difference -JPY 50, paid in 2026-M02",
            "  D2: cancelled (customer refunded)",
        ];
        assert_eq!(
            explained(ok(s.run_results(run.id, Some("R1")))),
            r1,
            "{backend}"
        );
        assert_eq!(
            explained(ok(s.pay_period_results("2026-M02"))),
            [r1.clone(), r2].concat(),
            "{backend}"
        );
        let st = ok(s.statement("R1", "2026-M02", None));
        assert_eq!(st.adjustments.len(), 1, "{backend}");
        assert_eq!(st.adjustments[0].explanation, r1, "{backend}");
    }
}

#[test]
fn an_amount_finer_than_the_currency_is_refused() {
    for (backend, mut s) in seeded_in("finer_than_yen", "JPY", 0, "", DEALS) {
        let e = fails(
            s.adjust("R1", "2026-M04", dec("0.5"), "half a yen"),
            &backend,
        );
        assert!(
            e.contains("`0.5` has more decimals than JPY has"),
            "{backend}: {e}"
        );
        assert!(
            e.contains("JPY amounts have no decimals: write e.g. 250 or -75"),
            "{backend}: {e}"
        );
        // Trailing zeros are not finer: 25.00 yen is 25 yen.
        ok(s.adjust("R1", "2026-M04", dec("25.00"), "SPIFF"));
        for kind in [ImportKind::Draws, ImportKind::Caps] {
            let flag = if kind == ImportKind::Draws {
                "recoverable"
            } else {
                "carry"
            };
            let terms =
                format!("participant_id,amount,start,end,{flag}\nR2,2000.5,2026-M01,,yes\n");
            let e = fails(import(&mut s, kind, "terms.csv", &terms), &backend);
            assert!(
                e.contains(
                    "terms.csv:2:2: `amount` is `2000.5`, which has more decimals than JPY has"
                ),
                "{backend}: {e}"
            );
            assert!(
                e.contains("JPY amounts have no decimals: write e.g. 1500"),
                "{backend}: {e}"
            );
        }
    }
}

#[test]
fn an_older_store_is_upgraded_and_a_newer_one_refused() {
    use attain_store::driver::{self, Driver};
    use attain_store::migrate::migrate;
    let dir = std::env::temp_dir().join(format!("attain-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db").display().to_string();
    type Reopen = Box<dyn Fn() -> Box<dyn Driver>>;
    let mut backends: Vec<(String, Box<dyn Driver>, Reopen)> = Vec::new();
    {
        let p = path.clone();
        backends.push((
            "sqlite".into(),
            Box::new(attain_store::sqlite::Sqlite::open(&path).unwrap()),
            Box::new(move || Box::new(attain_store::sqlite::Sqlite::open(&p).unwrap())),
        ));
    }
    let url = std::env::var("ATTAIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string());
    let schema = format!("attain_migrate_{}", std::process::id());
    if let Ok(mut admin) = attain_store::postgres::Postgres::connect(&url, None) {
        let _ = admin.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), &[]);
        let (u, sc) = (url.clone(), schema.clone());
        backends.push((
            "postgres".into(),
            Box::new(attain_store::postgres::Postgres::connect(&url, Some(&schema)).unwrap()),
            Box::new(move || {
                Box::new(attain_store::postgres::Postgres::connect(&u, Some(&sc)).unwrap())
            }),
        ));
    }
    for (backend, mut db, reopen) in backends {
        let all = attain_store::migrate::MIGRATIONS;
        // A store written by an attain that knew only the first migration.
        migrate(db.as_mut(), &all[..1], "2026-01-01T00:00:00Z").unwrap();
        assert!(!db.has_table("draws").unwrap(), "{backend}");
        drop(db);
        let mut store = Store::with_driver(reopen(), "tester").unwrap_or_else(|e| panic!("{e}"));
        ok(store.apply_plans(&workspace(), None));
        ok(store.import(
            ImportKind::Participants,
            "people.csv",
            PEOPLE.into(),
            ImportFormat::Csv,
            None,
        ));
        let draws = "participant_id,amount,start,end,recoverable\nR1,10.00,2026-M01,,no\n";
        ok(store.import(
            ImportKind::Draws,
            "draws.csv",
            draws.into(),
            ImportFormat::Csv,
            None,
        ));
        drop(store);
        let mut db = reopen();
        let versions: Vec<i64> = db
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| driver::int(r, 0))
            .collect();
        assert_eq!(versions, vec![1, 2], "{backend}");
        // A store from a newer attain is refused, untouched.
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')",
            &[],
        )
        .unwrap();
        let e = match Store::with_driver(db, "tester") {
            Ok(_) => panic!("{backend}: opened a newer store"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("this store has schema version 99, newer than this attain knows (2)"),
            "{backend}: {e}"
        );
        if backend == "postgres" {
            if let Ok(mut admin) = attain_store::postgres::Postgres::connect(&url, None) {
                let _ = admin.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), &[]);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Why did pay change: `diff_runs` and `statement`.
// ---------------------------------------------------------------------------

fn err<T: std::fmt::Debug>(r: Result<T, attain_store::Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// `participant period component old → new (difference)` lines of a diff.
fn changed(d: &attain_store::RunDiff) -> Vec<String> {
    let show = |v: Option<Decimal>| v.map_or("none".to_string(), |v| v.to_string());
    d.payouts
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} → {} ({})",
                c.participant,
                c.period,
                c.component,
                show(c.old),
                show(c.new),
                c.difference
            )
        })
        .collect()
}

#[test]
fn a_diff_after_a_revised_deal_names_the_deal_the_field_and_the_amounts() {
    for (backend, mut s) in seeded("diff_revised") {
        ok(s.record_run(None));
        let revised = "deal_id,close_date,amount,owner_id\nD1,2026-01-10,1500.00,R1\n";
        ok(import(
            &mut s,
            ImportKind::Transactions,
            "late.csv",
            revised,
        ));
        ok(s.record_run(None));
        let d = ok(s.diff_runs(None, None, None));
        assert_eq!((d.a.id, d.b.id), (1, 2), "{backend}");
        assert_eq!(
            (d.a.through_import, d.b.through_import),
            (2, 3),
            "{backend}"
        );
        // R1's January: 10% of 1,000 → 10% of 1,500. M1's Q1 override: 2% of
        // the team's 3,500 → 4,000.
        assert_eq!(
            changed(&d),
            vec![
                "M1 2026-Q1 override 70.00 → 80.00 (10.00)",
                "R1 2026-M01 commission 100.00 → 150.00 (50.00)",
            ],
            "{backend}"
        );
        let deals: Vec<String> = d.transactions.iter().map(|t| t.describe()).collect();
        assert_eq!(
            deals,
            vec!["D1 revised: amount 1000.00 → 1500.00"],
            "{backend}"
        );
        // The deal explains both: R1's own, and M1's through R1.
        assert!(d.payouts.iter().all(|c| c.deals == vec![0]), "{backend}");
        assert!(d.plans.is_empty() && d.quotas.is_empty(), "{backend}");
        assert_eq!(d.people_changed, 2, "{backend}");
        assert_eq!(d.total_difference, dec("60.00"), "{backend}");

        // Narrowed: R2's pay did not change and D1 does not reach them.
        let r2 = ok(s.diff_runs(None, None, Some("R2")));
        assert!(r2.is_empty(), "{backend}: {r2:?}");
        assert_eq!(r2.total_difference, Decimal::ZERO, "{backend}");
        let m1 = ok(s.diff_runs(Some(1), Some(2), Some("M1")));
        assert_eq!(
            changed(&m1),
            vec!["M1 2026-Q1 override 70.00 → 80.00 (10.00)"],
            "{backend}"
        );
        assert_eq!(m1.transactions.len(), 1, "{backend}");

        // A cancellation is named with its reason.
        ok(s.cancel_transactions(&["D2".into()], "customer refunded"));
        ok(s.record_run(None));
        let d = ok(s.diff_runs(Some(2), Some(3), None));
        assert_eq!(
            changed(&d),
            vec![
                "M1 2026-Q1 override 80.00 → 70.00 (-10.00)",
                "R2 2026-M01 commission 50.00 → 0.00 (-50.00)",
            ],
            "{backend}"
        );
        let deals: Vec<String> = d.transactions.iter().map(|t| t.describe()).collect();
        assert_eq!(deals, vec!["D2 cancelled (customer refunded)"], "{backend}");
        assert_eq!(d.total_difference, dec("-60.00"), "{backend}");
    }
}

#[test]
fn a_diff_after_a_plan_version_change_names_the_file_and_versions() {
    for (backend, mut s) in seeded("diff_plan") {
        ok(s.record_run(None));
        let mut files = workspace();
        files[2].text = REP_PLAN.replace("10%", "20%");
        ok(s.apply_plans(&files, Some("2026-02-01")));
        ok(s.record_run(None));
        let d = ok(s.diff_runs(None, None, None));
        let plans: Vec<String> = d.plans.iter().map(|p| p.describe()).collect();
        assert_eq!(
            plans,
            vec!["plans/rep.toml version 1 → version 2, from 2026-02-01"],
            "{backend}"
        );
        assert_eq!(d.plans[0].plan.as_deref(), Some("rep"), "{backend}");
        // Only February's rep commission changes: 10% → 20% of 2,000.
        assert_eq!(
            changed(&d),
            vec!["R1 2026-M02 commission 200.00 → 400.00 (200.00)"],
            "{backend}"
        );
        assert_eq!(d.payouts[0].plans, vec![0], "{backend}");
        assert!(d.transactions.is_empty(), "{backend}");
        assert_eq!(d.total_difference, dec("200.00"), "{backend}");
        // Backwards, the same change the other way.
        let back = ok(s.diff_runs(Some(2), Some(1), None));
        assert_eq!(
            back.plans.iter().map(|p| p.describe()).collect::<Vec<_>>(),
            vec!["plans/rep.toml version 2 → version 1, from 2026-02-01"],
            "{backend}"
        );
        assert_eq!(back.total_difference, dec("-200.00"), "{backend}");
    }
}

#[test]
fn a_diff_of_two_identical_runs_finds_nothing_and_bad_arguments_are_named() {
    for (backend, mut s) in seeded("diff_same") {
        ok(s.record_run(None));
        let e = err(s.diff_runs(None, None, None));
        assert!(
            e.contains("the store holds 1 run; a diff compares two"),
            "{backend}: {e}"
        );
        ok(s.record_run(None));
        let d = ok(s.diff_runs(None, None, None));
        assert!(d.is_empty(), "{backend}: {d:?}");
        assert_eq!(d.a.inputs_digest, d.b.inputs_digest, "{backend}");
        assert_eq!(
            (d.people_changed, d.total_difference),
            (0, Decimal::ZERO),
            "{backend}"
        );
        let e = err(s.diff_runs(Some(1), Some(9), None));
        assert!(e.contains("no run 9 in the store"), "{backend}: {e}");
        assert!(e.contains("runs are numbered 1 to 2"), "{backend}: {e}");
        let e = err(s.diff_runs(None, None, Some("R9")));
        assert!(
            e.contains("no participant `R9` in the store"),
            "{backend}: {e}"
        );
        assert!(e.contains("like `M1`"), "{backend}: {e}");
    }
}

#[test]
fn a_statement_of_a_closed_month_shows_earnings_adjustments_and_the_year_to_date() {
    for (backend, mut s) in seeded("statement") {
        ok(s.record_run(None));
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        let revised = "deal_id,close_date,amount,owner_id\nD1,2026-01-10,1500.00,R1\n";
        ok(import(
            &mut s,
            ImportKind::Transactions,
            "late.csv",
            revised,
        ));
        ok(s.cancel_transactions(&["D2".into()], "customer refunded"));
        ok(s.record_run(None));
        ok(s.approve_period("2026-M02"));
        ok(s.close_period("2026-M02"));

        let st = ok(s.statement("R1", "2026-M02", None));
        assert_eq!(st.status, PeriodStatus::Closed, "{backend}");
        assert_eq!((st.run, st.period_run), (2, None), "{backend}");
        assert_eq!(st.manager.as_deref(), Some("M1"), "{backend}");
        assert_eq!(st.plans, vec!["rep".to_string()], "{backend}");
        // February: 10% of D3's 2,000.
        let earnings: Vec<String> = st
            .earnings
            .iter()
            .map(|r| format!("{} {} {}", r.period, r.component, r.amount))
            .collect();
        assert_eq!(earnings, vec!["2026-M02 commission 200.00"], "{backend}");
        assert!(!st.earnings[0].explanation.is_empty(), "{backend}");
        // January was paid 100 on D1's 1,000; D1 is now 1,500: 50 more.
        assert_eq!(st.adjustments.len(), 1, "{backend}");
        assert_eq!(st.adjustments[0].amount, dec("50.00"), "{backend}");
        assert_eq!(
            st.adjustments[0].explanation,
            vec![
                "prior-period adjustment: commission of 2026-M01 was paid $100.00, recalculated $150.00: difference +$50.00, paid in 2026-M02",
                "  D1: amount 1000.00 → 1500.00"
            ],
            "{backend}"
        );
        assert_eq!(st.total_due, dec("250.00"), "{backend}");
        // Paid in closed months: January 100, February 200 + 50.
        assert_eq!(st.year_to_date.paid, dec("350.00"), "{backend}");
        assert_eq!(
            st.year_to_date.periods,
            vec!["2026-M01".to_string(), "2026-M02".to_string()],
            "{backend}"
        );

        // R2: nothing earned in February, January's 50 taken back.
        let r2 = ok(s.statement("R2", "2026-M02", None));
        assert_eq!(r2.earnings[0].amount, Decimal::ZERO, "{backend}");
        assert_eq!(r2.total_due, dec("-50.00"), "{backend}");
        assert_eq!(r2.year_to_date.paid, Decimal::ZERO, "{backend}");
        assert_eq!(
            r2.adjustments[0].explanation[1], "  D2: cancelled (customer refunded)",
            "{backend}"
        );

        // January as it was paid: closed periods are never rewritten.
        let jan = ok(s.statement("R1", "2026-M01", None));
        assert_eq!((jan.run, jan.total_due), (1, dec("100.00")), "{backend}");
        assert_eq!(jan.year_to_date.paid, dec("100.00"), "{backend}");
        // The same month from run 2: what January would pay now.
        let jan2 = ok(s.statement("R1", "2026-M01", Some(2)));
        assert_eq!(
            (jan2.run, jan2.period_run, jan2.total_due),
            (2, Some(1), dec("150.00")),
            "{backend}"
        );

        let e = err(s.statement("R1", "2026-Q1", None));
        assert!(
            e.contains("`2026-Q1` is not a pay period"),
            "{backend}: {e}"
        );
        assert!(e.contains("like 2026-M03"), "{backend}: {e}");
        let e = err(s.statement("R7", "2026-M02", None));
        assert!(e.contains("no participant `R7`"), "{backend}: {e}");
        let e = err(s.statement("R1", "2026-M02", Some(42)));
        assert!(e.contains("no run 42 in the store"), "{backend}: {e}");
        let e = err(s.statement("R1", "2027-M01", None));
        assert!(
            e.contains("2027-M01 has not been calculated"),
            "{backend}: {e}"
        );
        assert!(e.contains("attain run --year 2027"), "{backend}: {e}");
    }
}

#[test]
fn a_diff_names_a_participant_version_that_moved_someone_out_of_a_team() {
    for (backend, mut s) in seeded("diff_people") {
        ok(s.record_run(None));
        // From 2026 on, R2 reports to no one: M1's team loses D2's 500.
        let moved = "participant_id,manager_id,plan\nM1,,manager\nR1,M1,rep\nR2,,rep\n";
        ok(s.import(
            ImportKind::Participants,
            "people-2026.csv",
            moved.into(),
            ImportFormat::Csv,
            Some("2026-01-01"),
        ));
        ok(s.record_run(None));
        let d = ok(s.diff_runs(None, None, Some("M1")));
        // M1's Q1 override: 2% of 3,500 → 2% of 3,000.
        assert_eq!(
            changed(&d),
            vec!["M1 2026-Q1 override 70.00 → 60.00 (-10.00)"],
            "{backend}"
        );
        let people: Vec<String> = d.people.iter().map(|p| p.describe()).collect();
        assert_eq!(
            people,
            vec!["participant R2 revised, effective 2026-01-01: manager_id M1 → (empty)"],
            "{backend}"
        );
        assert_eq!(d.payouts[0].people, vec![0], "{backend}");
        // R1 is not R2's manager, before or after: nothing reaches them.
        assert!(
            ok(s.diff_runs(None, None, Some("R1"))).is_empty(),
            "{backend}"
        );
    }
}

/// A tiny deterministic generator, so the live test is the same each time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn posting_a_transaction_live_gives_what_a_full_recalculation_gives() {
    let people = "participant_id,manager_id,plan\nD1,,director\nM1,D1,manager\nM2,D1,manager\n\
R1,M1,rep\nR2,M1,rep\nR3,M2,rep\nR4,M2,rep\nR5,,rep\n";
    let reps = ["R1", "R2", "R3", "R4", "R5", "M1"];
    let mut rng = Rng(2026);
    let deal = |rng: &mut Rng, id: &str| {
        format!(
            "{id},2026-{:02}-{:02},{}.{:02},{}",
            rng.below(12) + 1,
            rng.below(28) + 1,
            rng.below(5_000),
            rng.below(100),
            reps[rng.below(reps.len() as u64) as usize]
        )
    };
    let mut deals = String::from("deal_id,close_date,amount,owner_id\n");
    for i in 0..80 {
        deals.push_str(&deal(&mut rng, &format!("D{i}")));
        deals.push('\n');
    }
    for (backend, mut s) in stores("live") {
        let mut files = workspace();
        files[0].text = format!(
            "{ATTAIN_TOML}org = {{ sum_over = \"all_reports\", of = \"bookings\" }}\n\
             shared = {{ sum_over = \"team\", of = \"bookings\" }}\n"
        );
        files[2].text = format!(
            "{REP_PLAN}\n[[components]]\nid = \"team_goal\"\nperiod = \"quarter\"\nmeasure = \"shared\"\nrate = \"1%\"\n"
        );
        files.push(PlanFile {
            path: "plans/director.toml".into(),
            text: "[plan]\nid = \"director\"\nname = \"Director\"\n\n[[components]]\nid = \"org\"\nperiod = \"year\"\nmeasure = \"org\"\nrate = \"0.5%\"\n".into(),
        });
        ok(s.apply_plans(&files, None));
        ok(import(
            &mut s,
            ImportKind::Participants,
            "people.csv",
            people,
        ));
        ok(import(
            &mut s,
            ImportKind::Transactions,
            "deals.csv",
            &deals.clone(),
        ));
        let mut live = ok(s.live(None));
        for step in 0..20 {
            // Half new deals, half revisions of existing ones (amount,
            // date and owner may all change).
            let id = if step % 2 == 0 {
                format!("N{step}")
            } else {
                format!("D{}", rng.below(80))
            };
            let record = deal(&mut rng, &id);
            let posted = ok(live.post(&mut s, &record));
            assert!(posted.revision.is_some(), "{backend}: {record}");
            let run = ok(s.record_run(None));
            let full: std::collections::BTreeMap<(String, String, String), Decimal> =
                ok(s.run_results(run.id, None))
                    .into_iter()
                    .filter(|r| r.kind == "earning")
                    .map(|r| ((r.participant, r.period, r.component), r.amount))
                    .collect();
            assert_eq!(live.payouts(), &full, "{backend}: after posting {record}");
            // The session's run in the store says the same.
            let stored: std::collections::BTreeMap<(String, String, String), Decimal> =
                ok(s.run_results(live.run(), None))
                    .into_iter()
                    .filter(|r| r.kind == "earning")
                    .map(|r| ((r.participant, r.period, r.component), r.amount))
                    .collect();
            assert_eq!(
                stored,
                full,
                "{backend}: run {} after posting {record}",
                live.run()
            );
            assert!(
                posted.recalculated < 8 || step > 100,
                "{backend}: {posted:?}"
            );
        }
        // A posting into a closed month is paid as an adjustment in the
        // open one, in the session's run as in a full run.
        ok(s.approve_period("2026-M01"));
        ok(s.close_period("2026-M01"));
        ok(live.post(&mut s, "J1,2026-01-20,1234.56,R1"));
        let full = ok(s.record_run(None));
        let adjustments = |s: &mut TestStore, run: i64| -> Vec<String> {
            ok(s.run_results(run, None))
                .into_iter()
                .filter(|r| r.kind == "adjustment")
                .map(|r| {
                    format!(
                        "{} {} {} {} {}",
                        r.participant, r.period, r.component, r.pay_period, r.amount
                    )
                })
                .collect()
        };
        let from_live = adjustments(&mut s, live.run());
        assert!(
            from_live.contains(&"R1 2026-M01 commission 2026-M02 123.46".to_string()),
            "{backend}: {from_live:?}"
        );
        assert_eq!(from_live, adjustments(&mut s, full.id), "{backend}");

        // Posting what is stored already changes nothing.
        let again = ok(live.post(&mut s, "D0,2026-01-01,1.00,R1"));
        let same = ok(live.post(&mut s, "D0,2026-01-01,1.00,R1"));
        assert!(
            again.revision.is_some() && same.revision.is_none(),
            "{backend}"
        );
    }
}
