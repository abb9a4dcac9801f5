#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Plan modeling from the outside: `attain plan clone`, `attain whatif` and
//! `attain sweep`, each test in a temporary folder holding the workspace of
//! `fixtures/modeling/`.
//!
//! Its data, worked by hand (quarterly quota $300,000, no proration):
//!
//! - retention_commission (7.5% to 100%, 12.5% to 150%, 15% above):
//!   am1 Q1 nrr $360,000: 22,500 + 60,000 × 12.5% = $30,000; am1 Q2
//!   $100,000: $7,500; am2 Q1 $150,000: $11,250; sam1 Q1 $480,000 (160%):
//!   22,500 + 150,000 × 12.5% + 30,000 × 15% = $45,750.
//! - flat (5%): am3 Q1 $200,000: $10,000. mgr1 has no plan.
//! - In force: $104,500 on $1,290,000 of credited revenue (8.10%).
//!
//! The candidate `rc_v2` (a clone, then 7% / 14% / 16%): am1 Q1 21,000 +
//! 8,400 = $29,400 and Q2 $7,000 (−$1,100); am2 $10,500 (−$750); sam1
//! 21,000 + 21,000 + 4,800 = $46,800 (+$1,050); am3 unchanged. Total
//! $103,700 (−$800): one gains $1,050, two lose $1,850, one is unchanged;
//! changes sorted −1,100, −750, 0, +1,050 give (nearest rank) P10 = P25 =
//! −1,100, median −750, P75 0, P90 +1,050.
//!
//! Golden files are in `golden/`; `UPDATE_GOLDEN=1 cargo test -p
//! attain-cli --test modeling` rewrites them (then read the diff).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const FIXTURE: &[(&str, &str)] = &[
    ("attain.toml", include_str!("fixtures/modeling/attain.toml")),
    (
        "plans/retention_commission.toml",
        include_str!("fixtures/modeling/plans/retention_commission.toml"),
    ),
    (
        "plans/flat.toml",
        include_str!("fixtures/modeling/plans/flat.toml"),
    ),
    ("people.csv", include_str!("fixtures/modeling/people.csv")),
    ("deals.csv", include_str!("fixtures/modeling/deals.csv")),
];

struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "attain-modeling-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in FIXTURE {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Folder(root)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.0.join(rel)).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.0.join(rel), text).unwrap();
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(text.matches(from).count(), 1, "`{from}` in {rel}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    fn attain(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_attain"))
            .args(args)
            .current_dir(&self.0)
            .env_remove("ATTAIN_TIMINGS")
            .env_remove("ATTAIN_STORE")
            .env("ATTAIN_USER", "tester")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.success(), stdout, stderr)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.attain(args);
        assert!(ok, "attain {}\n{stdout}\n{stderr}", args.join(" "));
        stdout
    }

    fn fails(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.attain(args);
        assert!(!ok, "attain {} should fail\n{stdout}", args.join(" "));
        assert_eq!(stdout, "");
        stderr
    }

    /// Clones retention_commission as `rc_v2` and sets its rates to 7%,
    /// 14% and 16%.
    fn candidate(&self) {
        self.ok(&[
            "plan",
            "clone",
            "retention_commission",
            "rc_v2",
            "--name",
            "Retention v2",
        ]);
        let plan = "plans/rc_v2.toml";
        self.edit(plan, "rate = \"7.5%\"", "rate = \"7%\"");
        self.edit(plan, "rate = \"12.5%\"", "rate = \"14%\"");
        self.edit(plan, "rate = \"15%\"", "rate = \"16%\"");
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const CSV_DATA: &[&str] = &[
    "--participants",
    "people.csv",
    "--transactions",
    "deals.csv",
];

fn with_data<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend_from_slice(CSV_DATA);
    all
}

/// Compares `actual` with `golden/NAME`, or rewrites it with UPDATE_GOLDEN.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual, expected,
        "golden/{name} differs (UPDATE_GOLDEN=1 rewrites it)"
    );
}

#[test]
fn clone_copies_the_file_with_its_comments_and_records_its_origin() {
    let f = Folder::new("clone");
    let out = f.ok(&[
        "plan",
        "clone",
        "retention_commission",
        "rc_v2",
        "--name",
        "Retention v2",
    ]);
    assert!(
        out.starts_with("created plans/rc_v2.toml: plan `rc_v2`, a copy of `retention_commission`"),
        "{out}"
    );
    let source = f.read("plans/retention_commission.toml");
    let digest = {
        let text = f.read("plans/rc_v2.toml");
        let line = text
            .lines()
            .find(|l| l.starts_with("cloned_from"))
            .unwrap()
            .to_string();
        line
    };
    assert!(digest.starts_with("cloned_from = { plan = \"retention_commission\", file = \"plans/retention_commission.toml\", digest = \""), "{digest}");
    let expected = source.replace(
        "id = \"retention_commission\"\nname = \"Retention commission\"\n",
        &format!("id = \"rc_v2\"\n{digest}\nname = \"Retention v2\"\n"),
    );
    assert_eq!(f.read("plans/rc_v2.toml"), expected);
    assert!(expected.contains("# to quota"));
    f.ok(&["check"]);

    let again = f.fails(&["plan", "clone", "retention_commission", "rc_v2"]);
    assert!(
        again.contains("a plan `rc_v2` already exists; nothing was changed"),
        "{again}"
    );
    let unknown = f.fails(&["plan", "clone", "retention", "x"]);
    assert!(
        unknown.contains("no plan `retention` in the workspace"),
        "{unknown}"
    );
    assert!(
        unknown.contains("plans: flat, rc_v2, retention_commission"),
        "{unknown}"
    );
}

#[test]
fn whatif_compares_a_clone_with_the_plan_it_replaces() {
    let f = Folder::new("whatif");
    f.candidate();
    let table = f.ok(&with_data(&["whatif", "--candidate", "rc_v2"]));
    golden("whatif.txt", &table);
    assert!(
        table.contains("  cost                 $104,500.00    $103,700.00  -$800.00 (-0.8%)"),
        "{table}"
    );
    assert!(
        table.contains("people: 1 gain (+$1,050.00), 2 lose (-$1,850.00), 1 unchanged"),
        "{table}"
    );
    let csv = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--format",
        "csv",
    ]));
    golden("whatif.csv", &csv);
    assert!(
        csv.contains(
            "rc_v2 replaces retention_commission,total,,4,1290000.00,104500.00,103700.00,-800.00\n"
        ),
        "{csv}"
    );
    let json = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--format",
        "json",
    ]));
    golden("whatif.json", &json);
    // Written to a file, the same bytes.
    f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--format",
        "json",
        "--out",
        "w.json",
    ]));
    assert_eq!(f.read("w.json"), json);
}

#[test]
fn whatif_counts_only_the_periods_asked_for() {
    let f = Folder::new("period");
    f.candidate();
    let csv = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--period",
        "2026-Q2",
        "--format",
        "csv",
    ]));
    // Q2 pays am1 $7,500 (now $7,000); am2, am3 and sam1 are paid $0.00.
    assert!(
        csv.contains(",total,,4,100000.00,7500.00,7000.00,-500.00\n"),
        "{csv}"
    );
    let bad = f.fails(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--period",
        "2025-Q2",
    ]));
    assert!(
        bad.contains("`2025-Q2` is not in fiscal year 2026"),
        "{bad}"
    );
}

#[test]
fn whatif_counts_a_measure_as_revenue_when_asked() {
    let f = Folder::new("revenue");
    f.candidate();
    // am2 loses $50,000 to churn in Q1: a credit of $50,000 that is
    // revenue lost, not earned. Every credit: $1,290,000 + $50,000; `nrr`
    // (renewal + expansion - contraction) summed over everyone:
    // $1,290,000 - $50,000. am2's Q1 nrr is now $100,000: $7,500 before,
    // $7,000 after; the rest as in the module comment.
    let deals = f.read("deals.csv") + "d7,2026-03-15,churn,50000.00,am2\n";
    f.write("deals.csv", &deals);
    let credits = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--format",
        "csv",
    ]));
    assert!(
        credits.contains(",total,,4,1340000.00,100750.00,100200.00,-550.00\n"),
        "{credits}"
    );
    let nrr = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--revenue",
        "nrr",
        "--format",
        "csv",
    ]));
    assert!(
        nrr.contains(",total,,4,1240000.00,100750.00,100200.00,-550.00\n"),
        "{nrr}"
    );
    let table = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--revenue",
        "nrr",
    ]));
    assert!(
        table.contains("  credited revenue (nrr)   $1,240,000.00  $1,240,000.00\n"),
        "{table}"
    );
    assert!(
        table.contains("  (credited revenue: `nrr` summed over everyone)\n"),
        "{table}"
    );
    let json = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--revenue",
        "nrr",
        "--format",
        "json",
    ]));
    assert!(json.contains("\"revenue_measure\": \"nrr\""), "{json}");
    let rollup = f.fails(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--revenue",
        "expansion_x",
    ]));
    assert!(
        rollup.contains("error: --revenue: no measure `expansion_x`; measures: "),
        "{rollup}"
    );
}

#[test]
fn whatif_draws_the_changes_and_the_changed_curves() {
    let f = Folder::new("svg");
    f.candidate();
    f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--svg",
        "whatif.svg",
        "--format",
        "csv",
    ]));
    let svg = f.read("whatif.svg");
    assert!(svg.starts_with("<svg"), "{svg}");
    // The changes of the module comment: one gains, two lose, one is
    // unchanged, -$800.00 in all; then the commission's two curves.
    assert!(
        svg.contains("Change in pay per person: rc_v2 replaces retention_commission"),
        "{svg}"
    );
    assert!(
        svg.contains("1 gain, 2 lose, 1 unchanged; -$800.00 in all"),
        "{svg}"
    );
    assert!(
        svg.contains("Payout curve of commission (retention_commission → rc_v2)"),
        "{svg}"
    );
    assert!(svg.contains("current: plan retention_commission"), "{svg}");
    assert!(svg.contains("candidate: plan rc_v2"), "{svg}");
}

#[test]
fn whatif_needs_to_know_what_a_plan_that_is_not_a_clone_replaces() {
    let f = Folder::new("replaces");
    let err = f.fails(&with_data(&["whatif", "--candidate", "flat"]));
    assert!(
        err.contains("plan `flat` was not cloned from another: which plan does it replace?"),
        "{err}"
    );
    assert!(err.contains("write `--candidate flat=PLAN`"), "{err}");
    // Everyone on retention_commission paid 5% flat: am1 460,000 × 5% =
    // 23,000, am2 7,500, sam1 24,000; am3 10,000 → 64,500.
    let csv = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "flat=retention_commission",
        "--format",
        "csv",
    ]));
    assert!(
        csv.contains(
            "flat replaces retention_commission,total,,4,1290000.00,104500.00,64500.00,-40000.00\n"
        ),
        "{csv}"
    );
    let err = f.fails(&with_data(&["whatif", "--candidate", "nope=flat"]));
    assert!(err.contains("no plan `nope` in the workspace"), "{err}");
}

#[test]
fn sweep_reports_cost_and_payouts_per_point() {
    let f = Folder::new("sweep");
    let vary = "retention_commission.commission.bands[1].rate=10%..15%/2.5%";
    let table = f.ok(&with_data(&["sweep", "--vary", vary]));
    golden("sweep.txt", &table);
    let csv = f.ok(&with_data(&["sweep", "--vary", vary, "--format", "csv"]));
    golden("sweep.csv", &csv);
    // The accelerator pays on am1's $60,000 and sam1's $150,000 above
    // quota: each 2.5 points move the cost by $5,250.
    assert!(csv.contains("\n1,0.1,99250.00,-5250.00,"), "{csv}");
    assert!(csv.contains("\n2,0.125,104500.00,0.00,"), "{csv}");
    assert!(csv.contains("\n3,0.15,109750.00,5250.00,"), "{csv}");
    let json = f.ok(&with_data(&["sweep", "--vary", vary, "--format", "json"]));
    golden("sweep.json", &json);
}

/// The same what-if and sweep in a workspace paid in euros: every amount
/// carries `€`, none `$`. The what-if is the golden table sign for sign.
#[test]
fn whatif_and_sweep_in_the_workspaces_currency() {
    let f = Folder::new("euro");
    f.edit("attain.toml", "currency = \"USD\"", "currency = \"EUR\"");
    f.candidate();
    let table = f.ok(&with_data(&[
        "whatif",
        "--candidate",
        "rc_v2",
        "--svg",
        "whatif.svg",
    ]));
    assert!(
        table.contains("  cost                 €104,500.00    €103,700.00  -€800.00 (-0.8%)\n"),
        "{table}"
    );
    assert!(
        table.contains("people: 1 gain (+€1,050.00), 2 lose (-€1,850.00), 1 unchanged\n"),
        "{table}"
    );
    let in_dollars = include_str!("golden/whatif.txt");
    assert_eq!(table, in_dollars.replace('$', "€"));
    let svg = f.read("whatif.svg");
    assert!(
        svg.contains("1 gain, 2 lose, 1 unchanged; -€800.00 in all"),
        "{svg}"
    );
    assert!(svg.contains("change in pay per person (EUR)"), "{svg}");
    assert!(!svg.contains('$'), "{svg}");
    let sweep = f.ok(&with_data(&[
        "sweep",
        "--vary",
        "quota.nrr_target=240_000..300_000/60_000",
    ]));
    assert_eq!(
        sweep,
        "sweep: quota.nrr_target\n\
         fiscal year 2026, credited revenue €1,290,000.00\n\
         \n  \
           quota.nrr_target               cost      change  cost/rev  gain  lose         p10      median         p90         max\n  \
           €300,000.00 (in force)  €104,500.00       €0.00     8.10%     0     0  €10,000.00  €11,250.00  €45,750.00  €45,750.00\n  \
           €240,000.00             €112,750.00  +€8,250.00     8.74%     2     0  €10,000.00  €11,250.00  €51,000.00  €51,000.00\n  \
           €300,000.00             €104,500.00       €0.00     8.10%     0     0  €10,000.00  €11,250.00  €45,750.00  €45,750.00\n\
         \n  \
           p10, median, p90, max: each paid person's total payout; gain, lose: people paid more or less than now\n"
    );
}

#[test]
fn sweep_of_a_quota_matches_a_calculation_with_that_quota() {
    let f = Folder::new("quota");
    let csv = f.ok(&with_data(&[
        "sweep",
        "--vary",
        "quota.nrr_target=240_000",
        "--format",
        "csv",
    ]));
    f.edit("attain.toml", "amount = 300_000", "amount = 240_000");
    let calc = f.ok(&with_data(&["calc"]));
    let total: i64 = calc
        .lines()
        .skip(1)
        .map(|l| {
            l.rsplit(',')
                .next()
                .unwrap()
                .replace('.', "")
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    let cost = format!("{}.{:02}", total / 100, total % 100);
    assert!(
        csv.contains(&format!("\n1,240000,{cost},")),
        "{cost}\n{csv}"
    );
}

#[test]
fn sweep_explains_a_parameter_it_cannot_vary() {
    let f = Folder::new("bad-vary");
    for (vary, message) in [
        ("retention_commission.commission.rate=1%", "`rate` is not a parameter of component `commission`; it has `bands[N].from`, `bands[N].rate` (`pay` per point) and `cap`"),
        ("retention_commission.commission.bands[3].rate=1%", "component `commission` has 3 bands, numbered from 0: there is no band 3"),
        ("retention_commission.commission.bands[1].from=160%", "does not fit between the band's neighbours (0 to 1.5)"),
        ("quota.target=1", "no quota `target`; quotas: nrr_target"),
        ("flat.commission.rate=5%..1%/1%", "the range ends at 0.01 before it starts at 0.05"),
        ("flat.commission.rate=five", "`five` is not a number"),
    ] {
        let err = f.fails(&with_data(&["sweep", "--vary", vary]));
        assert!(err.contains(message), "{vary}: {err}");
    }
}

#[test]
fn modeling_without_data_files_or_a_store_creates_no_store() {
    let f = Folder::new("no-data");
    let err = f.fails(&["sweep", "--vary", "quota.nrr_target=1"]);
    assert!(
        err.contains("no data: no data files were named and there is no store here"),
        "{err}"
    );
    assert!(!f.0.join("attain.db").exists());
    let err = f.fails(&[
        "whatif",
        "--candidate",
        "flat=retention_commission",
        "--participants",
        "people.csv",
    ]);
    assert!(
        err.contains("--participants and --transactions go together"),
        "{err}"
    );
}

#[test]
fn whatif_reads_the_store_and_records_nothing() {
    let f = Folder::new("store");
    f.ok(&["plan", "apply"]);
    f.ok(&["import", "participants", "people.csv"]);
    f.ok(&["import", "transactions", "deals.csv"]);
    f.candidate();
    // The clone names the stored version it copied.
    assert!(f.read("plans/rc_v2.toml").contains(
        "cloned_from = { plan = \"retention_commission\", file = \"plans/retention_commission.toml\", version = 1 }"
    ));
    let audit_before = f.ok(&["audit"]);
    let from_store = f.ok(&["whatif", "--candidate", "rc_v2"]);
    let from_files = f.ok(&with_data(&["whatif", "--candidate", "rc_v2"]));
    assert_eq!(from_store, from_files);
    let sweep_store = f.ok(&[
        "sweep",
        "--vary",
        "quota.nrr_target=250_000",
        "--format",
        "csv",
    ]);
    let sweep_files = f.ok(&with_data(&[
        "sweep",
        "--vary",
        "quota.nrr_target=250_000",
        "--format",
        "csv",
    ]));
    assert_eq!(sweep_store, sweep_files);
    assert_eq!(
        f.ok(&["audit"]),
        audit_before,
        "modeling wrote to the store"
    );
    let periods = f.ok(&["periods"]);
    assert!(
        periods.contains("no period has been calculated yet"),
        "{periods}"
    );

    // Applied, the clone's version says where it came from.
    f.ok(&["plan", "apply"]);
    let history = f.ok(&["plan", "history"]);
    let line = history
        .lines()
        .find(|l| l.starts_with("plans/rc_v2.toml"))
        .unwrap();
    assert!(
        line.ends_with(
            "by tester, cloned from retention_commission (plans/retention_commission.toml v1)"
        ),
        "{line}"
    );
    let audit = f.ok(&["audit"]);
    assert!(
        audit.contains("cloned from retention_commission (plans/retention_commission.toml v1)"),
        "{audit}"
    );
}
