#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `attain forecast` and `attain estimate` from the outside: each test runs
//! the built binary in a temporary folder holding the reference workload's
//! plans and a hand-made company (director D1, manager M1, reps R1 and R2
//! on the retention commission), on CSV files and on the store.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const PEOPLE: &str = "\
participant_id,name,role,manager_id,plan,hire_date
D1,Director,director,,director_override,2020-01-01
M1,Manager,manager,D1,manager_override,2020-01-01
R1,Rep one,am,M1,retention_commission,2020-01-01
R2,Rep two,am,M1,retention_commission,2020-01-01
";

const HEADER: &str =
    "deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct\n";

/// R1 renews $10,000 on the first day of every week of Q1 and Q2 2026;
/// R2 renews $100,000 on 2026-01-11 and on 2026-04-11 (so the flow to date
/// is at Q1's level).
fn deals() -> String {
    let mut out = String::from(HEADER);
    let mut n = 0;
    // Day offsets 0, 7, … 84 from each quarter's start, written out.
    let q1 = [
        "2026-01-01",
        "2026-01-08",
        "2026-01-15",
        "2026-01-22",
        "2026-01-29",
        "2026-02-05",
        "2026-02-12",
        "2026-02-19",
        "2026-02-26",
        "2026-03-05",
        "2026-03-12",
        "2026-03-19",
        "2026-03-26",
    ];
    let q2 = [
        "2026-04-01",
        "2026-04-08",
        "2026-04-15",
        "2026-04-22",
        "2026-04-29",
        "2026-05-06",
        "2026-05-13",
        "2026-05-20",
        "2026-05-27",
        "2026-06-03",
        "2026-06-10",
        "2026-06-17",
        "2026-06-24",
    ];
    for day in q1.iter().chain(&q2) {
        n += 1;
        out.push_str(&format!("d{n},{day},A{n},P1,renewal,10000.00,R1,,\n"));
    }
    out.push_str("r2a,2026-01-11,B1,P1,renewal,100000.00,R2,,\n");
    out.push_str("r2b,2026-04-11,B1,P1,renewal,100000.00,R2,,\n");
    out
}

struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "attain-forecast-test-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("plans")).unwrap();
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reference-workload");
        std::fs::copy(example.join("attain.toml"), root.join("attain.toml")).unwrap();
        for entry in std::fs::read_dir(example.join("plans")).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, root.join("plans").join(p.file_name().unwrap())).unwrap();
        }
        std::fs::write(root.join("people.csv"), PEOPLE).unwrap();
        std::fs::write(root.join("deals.csv"), deals()).unwrap();
        Sandbox { root }
    }

    fn attain(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(args)
            .current_dir(&self.root)
            .env_remove("ATTAIN_STORE")
            .env("ATTAIN_USER", "tester")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.attain(args);
        assert!(
            ok,
            "attain {args:?} failed in {}:\n{err}",
            self.root.display()
        );
        out
    }

    fn fails(&self, args: &[&str]) -> String {
        let (ok, _, err) = self.attain(args);
        assert!(!ok, "attain {args:?} should fail");
        err
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

const FILES: [&str; 4] = [
    "--participants",
    "people.csv",
    "--transactions",
    "deals.csv",
];

fn with_files<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(FILES);
    v
}

/// 49 days of Q2 observed: R1 has 7 renewals ($70,000), the six weeks to
/// come are drawn from Q1's, each with one $10,000 renewal, so R1 ends at
/// $130,000 in every simulation: $9,750.00. R2 renewed in Q1's second
/// week only, so nothing more is drawn for them: $100,000 × 7.5% =
/// $7,500.00.
/// M1: 2% of $230,000 = $4,600.00; D1: 0.5% = $1,150.00.
const FORECAST_CSV: &str = "\
participant_id,plan,period,as_of,drawn_from,attainment_to_date,attainment_p10,attainment_p50,attainment_p90,paid_to_date,payout_p10,payout_p50,payout_p90
D1,director_override,2026-Q2,2026-05-19,own history,,,,,850.00,1150.00,1150.00,1150.00
M1,manager_override,2026-Q2,2026-05-19,own history,,,,,3400.00,4600.00,4600.00,4600.00
R1,retention_commission,2026-Q2,2026-05-19,own history,0.233333,0.433333,0.433333,0.433333,5250.00,9750.00,9750.00,9750.00
R2,retention_commission,2026-Q2,2026-05-19,own history,0.333333,0.333333,0.333333,0.333333,7500.00,7500.00,7500.00,7500.00
,total,2026-Q2,2026-05-19,,,,,,17000.00,23000.00,23000.00,23000.00
";

#[test]
fn forecast_csv_worked_by_hand() {
    let s = Sandbox::new("csv");
    let out = s.ok(&with_files(&[
        "forecast",
        "--as-of",
        "2026-05-19",
        "--format",
        "csv",
    ]));
    assert_eq!(out, FORECAST_CSV);
}

#[test]
fn forecast_from_the_store_reads_the_same_and_records_nothing() {
    let s = Sandbox::new("store");
    s.ok(&["plan", "apply"]);
    s.ok(&["import", "participants", "people.csv"]);
    s.ok(&["import", "transactions", "deals.csv"]);
    let audit = s.ok(&["audit"]);
    let out = s.ok(&["forecast", "--as-of", "2026-05-19", "--format", "csv"]);
    assert_eq!(out, FORECAST_CSV);
    let estimate = s.ok(&[
        "estimate",
        "--participant",
        "R2",
        "--deal",
        "kind=upsell,amount=1000,account=B2,product=P2",
        "--date",
        "2026-05-01",
    ]);
    assert!(
        estimate.contains("R2  2026-Q2  commission: $7,500.00 -> $7,575.00 (+$75.00)"),
        "{estimate}"
    );
    assert_eq!(s.ok(&["audit"]), audit);
}

#[test]
fn forecast_table_and_json() {
    let s = Sandbox::new("formats");
    let table = s.ok(&with_files(&["forecast", "--as-of", "2026-05-19"]));
    assert!(
        table.starts_with(
            "forecast of 2026-Q2 as of 2026-05-19 (49 of 91 days), 1,000 simulations, seed 1\n"
        ),
        "{table}"
    );
    assert!(table.ends_with("plan cost of 2026-Q2: P10 $23,000.00, P50 $23,000.00, P90 $23,000.00 ($17,000.00 to date)\n"), "{table}");
    let json = s.ok(&with_files(&[
        "forecast",
        "--as-of",
        "2026-05-19",
        "--format",
        "json",
    ]));
    assert!(
        json.contains(
            "\"total\": {\"p10\": \"23000.00\", \"p50\": \"23000.00\", \"p90\": \"23000.00\"}"
        ),
        "{json}"
    );
    assert!(json.contains("\"history\": [\"2026-Q1\"]"), "{json}");
}

/// The figures of `FORECAST_CSV` in a workspace paid in euros.
#[test]
fn forecast_table_in_the_workspaces_currency() {
    let s = Sandbox::new("euro");
    let ws = s.root.join("attain.toml");
    let text = std::fs::read_to_string(&ws).unwrap();
    assert_eq!(text.matches("currency = \"USD\"").count(), 1);
    std::fs::write(
        &ws,
        text.replace("currency = \"USD\"", "currency = \"EUR\""),
    )
    .unwrap();
    let table = s.ok(&with_files(&["forecast", "--as-of", "2026-05-19"]));
    assert_eq!(
        table,
        "forecast of 2026-Q2 as of 2026-05-19 (49 of 91 days), 1,000 simulations, seed 1\n\
         the remaining weeks are drawn from the same weeks of 2026-Q1, at this period's level\n\
         \n\
         participant  plan                  drawn from   attainment to date  attainment P50  paid to date  payout P10         P50         P90\n\
         D1           director_override     own history                                           €850.00   €1,150.00   €1,150.00   €1,150.00\n\
         M1           manager_override      own history                                         €3,400.00   €4,600.00   €4,600.00   €4,600.00\n\
         R1           retention_commission  own history               23.3%           43.3%     €5,250.00   €9,750.00   €9,750.00   €9,750.00\n\
         R2           retention_commission  own history               33.3%           33.3%     €7,500.00   €7,500.00   €7,500.00   €7,500.00\n\
         total                                                                                 €17,000.00  €23,000.00  €23,000.00  €23,000.00\n\
         \n\
         plan cost of 2026-Q2: P10 €23,000.00, P50 €23,000.00, P90 €23,000.00 (€17,000.00 to date)\n"
    );
    // Each quarter paid €23,000 (see `FORECAST_CSV`).
    let backtest = s.ok(&with_files(&[
        "forecast",
        "--backtest",
        "--simulations",
        "50",
    ]));
    let rows: Vec<&str> = backtest.lines().skip(3).collect();
    assert_eq!(rows.len(), 2, "{backtest}");
    assert!(
        rows[0].starts_with("2026-Q1  2026-02-14  0                  €23,000.00    €23,000.00  "),
        "{backtest}"
    );
    assert!(!backtest.contains('$'), "{backtest}");
}

#[test]
fn backtest_lists_the_quarters_the_data_covers() {
    let s = Sandbox::new("backtest");
    let out = s.ok(&with_files(&[
        "forecast",
        "--backtest",
        "--simulations",
        "50",
        "--format",
        "csv",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "period,as_of,history,actual_total,forecast_p10,forecast_p50,forecast_p90,error_p50,total_within_p10_p90,people,mean_abs_error,median_abs_error,mean_actual,people_within_p10_p90");
    assert_eq!(lines.len(), 3, "{out}");
    // Each quarter paid R1 $9,750, R2 $7,500, M1 $4,600, D1 $1,150.
    assert!(
        lines[1].starts_with("2026-Q1,2026-02-14,0,23000.00,"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("2026-Q2,2026-05-15,1,23000.00,"),
        "{out}"
    );
}

#[test]
fn forecast_errors() {
    let s = Sandbox::new("errors");
    let err = s.fails(&with_files(&["forecast"]));
    assert!(err.contains("a forecast needs the day it is made"), "{err}");
    let err = s.fails(&with_files(&["forecast", "--as-of", "2026-13-01"]));
    assert!(err.contains("`2026-13-01` is not a date"), "{err}");
    let err = s.fails(&with_files(&[
        "forecast",
        "--as-of",
        "2026-05-01",
        "--format",
        "xml",
    ]));
    assert!(err.contains("`xml` is not a format"), "{err}");
    let err = s.fails(&with_files(&[
        "forecast",
        "--as-of",
        "2026-05-01",
        "--period",
        "2026-M05",
    ]));
    assert!(err.contains("no component is paid by the month"), "{err}");
}

#[test]
fn estimate_worked_by_hand() {
    let s = Sandbox::new("estimate");
    // Q2 to date: R1 $130,000, R2 $100,000. A $200,000 upsell takes R1 to
    // $330,000 (110%): $300,000 × 7.5% + $30,000 × 12.5% = 22,500 + 3,750 =
    // $26,250.00, from $9,750.00.
    let out = s.ok(&with_files(&[
        "estimate",
        "--participant",
        "R1",
        "--deal",
        "kind=upsell,amount=200000,account=A9,product=P2",
        "--date",
        "2026-06-30",
    ]));
    assert_eq!(
        out,
        "\
if R1 closes account=A9, amount=200000, kind=upsell, owner=R1, product=P2 on 2026-06-30:

R1  2026-Q2  commission: $9,750.00 -> $26,250.00 (+$16,500.00)
    tier: base (0% to 100%) -> accelerator (100% to 150%)
    nrr = $330,000.00
    quota nrr_target = $300,000.00 (from the plan)
    attainment = 110%
    base (0% to 100%): $300,000.00 × 7.5% = $22,500.00
    accelerator (100% to 150%): $30,000.00 × 12.5% = $3,750.00

D1  2026-Q2  override: $1,150.00 -> $2,150.00 (+$1,000.00)
    org_nrr = $430,000.00
    $430,000.00 × 0.5% = $2,150.00

M1  2026-Q2  override: $4,600.00 -> $8,600.00 (+$4,000.00)
    team_nrr = $430,000.00
    $430,000.00 × 2% = $8,600.00

R1 earns +$16,500.00; all payouts moved: +$21,500.00 (3 people recalculated)
"
    );
}

#[test]
fn estimate_errors_name_the_field_the_value_and_the_type() {
    let s = Sandbox::new("estimate-errors");
    let run = |participant: &str, deal: &str| {
        s.fails(&with_files(&[
            "estimate",
            "--participant",
            participant,
            "--deal",
            deal,
            "--date",
            "2026-05-01",
        ]))
    };
    let err = run("R9", "kind=upsell,amount=1,account=A,product=P");
    assert!(err.contains("no participant `R9`"), "{err}");
    let err = run("R1", "kind=upsell,amount=1,account=A,product=P,region=west");
    assert!(err.contains("no transaction field `region`"), "{err}");
    assert!(
        err.contains("the fields are `date`, `amount`, `account`, `kind`"),
        "{err}"
    );
    let err = run("R1", "kind=upsell,amount=12.345,account=A,product=P");
    assert!(err.contains("field `amount`: `12.345` is not an amount of money, like 25000 or 25000.50 (it has more than 2 decimals)"), "{err}");
    let err = run("R1", "kind=renwal,amount=1,account=A,product=P");
    assert!(
        err.contains("field `kind`: `renwal` is not one of"),
        "{err}"
    );
    assert!(err.contains("did you mean `renewal`?"), "{err}");
    let err = s.fails(&with_files(&[
        "estimate",
        "--participant",
        "R1",
        "--deal",
        "kind=upsell,amount=1,account=A,product=P",
        "--date",
        "2027-01-05",
    ]));
    assert!(
        err.contains("2027-01-05 is outside fiscal year 2026"),
        "{err}"
    );
}
