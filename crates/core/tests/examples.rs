//! The example workspaces shipped in `examples/` check cleanly.
#![allow(clippy::panic)]

mod common;

use attain_core::diag::render;
use attain_core::plan::check_workspace;
use common::example_sources;

#[test]
fn reference_workload_checks() {
    let (ws, plans) = example_sources("examples/reference-workload");
    let checked = check_workspace(&ws, &plans);
    assert_eq!(render(&checked.diagnostics), "");
    let w = checked.workspace.map(|w| (w.plans.len(), w.measures.len()));
    assert_eq!(w, Some((8, 11)));
}

#[test]
fn brief_checks() {
    let (ws, plans) = example_sources("examples/brief");
    let checked = check_workspace(&ws, &plans);
    assert_eq!(render(&checked.diagnostics), "");
    let w = checked.workspace.map(|w| (w.plans.len(), w.measures.len()));
    assert_eq!(w, Some((13, 16)));
}

#[test]
fn features_checks() {
    let (ws, plans) = example_sources("examples/features");
    let checked = check_workspace(&ws, &plans);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{}", render(&checked.diagnostics));
    let w = checked.workspace.map(|w| (w.plans.len(), w.measures.len()));
    assert_eq!(w, Some((1, 5)));
}

/// Every example's plan tests pass, those with data included (the counts
/// catch a test dropped by the checker).
#[test]
fn every_example_passes_its_plan_tests() {
    for (dir, tests) in [
        ("examples/brief", 80),
        ("examples/reference-workload", 11),
        ("examples/features", 14),
    ] {
        let (ws, plans) = example_sources(dir);
        let Some(ws) = check_workspace(&ws, &plans).workspace else {
            panic!("{dir} does not check");
        };
        let outcomes = attain_core::engine::run_plan_tests(&ws);
        let failed: Vec<_> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
        assert!(failed.is_empty(), "{dir}: {failed:?}");
        assert_eq!(outcomes.len(), tests, "{dir}");
    }
}

/// Which kinds of period read each quota of the brief: as a component's
/// quota, through a roll-up (`team_quota`) or in a formula.
#[test]
fn quotas_are_read_in_the_periods_of_their_components() {
    use attain_core::calendar::PeriodKind::{Month, Quarter};
    let (ws, plans) = example_sources("examples/brief");
    let Some(ws) = check_workspace(&ws, &plans).workspace else {
        panic!("examples/brief does not check");
    };
    let kinds = |name: &str| ws.quota(name).map(|q| ws.quota_periods(q));
    assert_eq!(kinds("nrr_target"), Some(vec![Quarter]));
    assert_eq!(kinds("monthly_nrr_target"), Some(vec![Month]));
    assert_eq!(kinds("monthly_renewal_target"), Some(vec![Month]));
}

/// `sum_over = "team"`: each rep sees the total of everyone with the same
/// manager, itself included; another team's results do not count.
#[test]
fn a_team_goal_is_shared_by_the_reps_of_one_manager() {
    let (ws, plans) = example_sources("examples/brief");
    let Some(ws) = check_workspace(&ws, &plans).workspace else {
        panic!("examples/brief does not check");
    };
    let people = "participant_id,name,role,manager_id,plan,hire_date\n\
        D1,Dana,director,,director_override,2020-01-01\n\
        M1,Mia,manager,D1,manager_override,2020-01-01\n\
        M2,Max,manager,D1,manager_override,2020-01-01\n\
        R1,Ravi,am,M1,team_goal_bonus,2020-01-01\n\
        R2,Rosa,am,M1,team_goal_bonus,2020-01-01\n\
        R3,Remy,am,M2,team_goal_bonus,2020-01-01\n";
    let deals =
        "deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct\n\
        d1,2026-02-01,A1,P1,renewal,400000.00,R1,,\n\
        d2,2026-02-02,A2,P1,renewal,250000.00,R2,,\n\
        d3,2026-02-03,A3,P1,renewal,100000.00,R3,,\n";
    let people = attain_core::data::load_participants(&ws, "people.csv", people.as_bytes())
        .unwrap_or_default();
    let Ok(txns) =
        attain_core::data::load_transactions(&ws, &people, "deals.csv", deals.as_bytes())
    else {
        panic!("deals do not load");
    };
    let Ok(calc) = attain_core::engine::calculate(
        &ws,
        &people,
        &txns,
        &attain_core::engine::measures::QuotaOverrides::new(),
        2026,
    ) else {
        panic!("calculation failed");
    };
    let mut csv = Vec::new();
    let _ = attain_core::report::payouts_csv(&mut csv, &ws, &people, &calc);
    let csv = String::from_utf8(csv).unwrap_or_default();
    // Team of M1: 650,000 against 2 x 300,000: both reps are paid in Q1.
    assert!(
        csv.contains("R1,2026-Q1,team_goal_share,1500.00\n"),
        "{csv}"
    );
    assert!(
        csv.contains("R2,2026-Q1,team_goal_share,1500.00\n"),
        "{csv}"
    );
    // Team of M2: R3 alone, 100,000 against 300,000.
    assert!(csv.contains("R3,2026-Q1,team_goal_share,0.00\n"), "{csv}");
    // Nothing closed in Q2.
    assert!(csv.contains("R1,2026-Q2,team_goal_share,0.00\n"), "{csv}");

    // A manager's explanation shows what each report adds to the team's
    // roll-ups, and not the manager's own (empty) revenue measures; a
    // director's, at most `credit_limit` of the organisation.
    let period = attain_core::calendar::Period::parse("2026-Q1");
    let (Some(period), Some(&m1), Some(&d1)) =
        (period, people.index.get("M1"), people.index.get("D1"))
    else {
        panic!("M1, D1 or 2026-Q1 not found");
    };
    let text = attain_core::report::explain(&ws, &people, &txns, &calc, m1, period, 50);
    let measures = text
        .split("\nmeasures:\n")
        .nth(1)
        .and_then(|rest| rest.split("\noverride").next())
        .unwrap_or_default();
    assert_eq!(
        measures,
        "  team_nrr    $650,000.00    nrr summed over direct reports\n  \
         team_quota  $600,000.00    nrr_target summed over direct reports\n\
         \n\
         team_nrr = nrr of 2 people (direct_reports, active in the period):\n  \
         R1 (Ravi)  $400,000.00\n  \
         R2 (Rosa)  $250,000.00\n\
         \n\
         team_quota = nrr_target of 2 people (direct_reports, active in the period):\n  \
         R1 (Ravi)  $300,000.00\n  \
         R2 (Rosa)  $300,000.00\n",
        "{text}"
    );
    let text = attain_core::report::explain(&ws, &people, &txns, &calc, d1, period, 2);
    assert!(
        text.contains(
            "org_nrr = nrr of 3 people (all_reports, active in the period):\n  \
             R1 (Ravi)  $400,000.00\n  \
             R2 (Rosa)  $250,000.00\n  \
             … and 1 more (use --all to list every one)\n"
        ),
        "{text}"
    );
}
