#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Modeling against full calculations: every sweep point and every
//! scenario pays what `engine::calculate` pays with the change written into
//! the plans, and a sweep shares the credits and measures of the plans in
//! force (counted in `model::Work`). The data is the CLI modeling tests'
//! (worked by hand in `crates/cli/tests/modeling.rs`).

use attain_core::data::{load_participants, load_transactions, Participants, Transactions};
use attain_core::diag::SourceFile;
use attain_core::engine::{self, measures::QuotaOverrides};
use attain_core::model::{compare, sweep, Basis, Scope, Work};
use attain_core::plan::{check_workspace, Workspace};
use rust_decimal::Decimal;

const WORKSPACE: &str = include_str!("../../cli/tests/fixtures/modeling/attain.toml");
const PLAN: &str =
    include_str!("../../cli/tests/fixtures/modeling/plans/retention_commission.toml");
const FLAT: &str = include_str!("../../cli/tests/fixtures/modeling/plans/flat.toml");
const PEOPLE: &str = include_str!("../../cli/tests/fixtures/modeling/people.csv");
const DEALS: &str = include_str!("../../cli/tests/fixtures/modeling/deals.csv");

fn workspace(attain: &str, plan: &str, extra: &[&str]) -> Workspace {
    let mut plans = vec![
        SourceFile::new("plans/flat.toml", FLAT),
        SourceFile::new("plans/retention_commission.toml", plan),
    ];
    for (i, text) in extra.iter().enumerate() {
        plans.push(SourceFile::new(format!("plans/extra{i}.toml"), *text));
    }
    let checked = check_workspace(&SourceFile::new("attain.toml", attain), &plans);
    checked
        .workspace
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

fn data(ws: &Workspace, people: &str) -> (Participants, Transactions) {
    let p = load_participants(ws, "people.csv", people.as_bytes()).unwrap();
    let t = load_transactions(ws, &p, "deals.csv", DEALS.as_bytes()).unwrap();
    (p, t)
}

/// The year's total under `ws`, by a full calculation.
fn full_cost(ws: &Workspace, people: &str) -> Decimal {
    let (p, t) = data(ws, people);
    engine::calculate(ws, &p, &t, &QuotaOverrides::new(), 2026)
        .unwrap()
        .payouts
        .iter()
        .map(|x| x.amount)
        .sum()
}

fn dec(text: &str) -> Decimal {
    attain_core::money::parse_literal(text).unwrap().0
}

#[test]
fn a_rate_sweep_of_20_points_shares_credits_and_measures() {
    let ws = workspace(WORKSPACE, PLAN, &[]);
    let (people, txns) = data(&ws, PEOPLE);
    let overrides = QuotaOverrides::new();
    let mut basis = Basis::new(&ws, &people, &txns, &overrides, 2026).unwrap();
    // 4 people paid (mgr1 has no plan) × 4 quarters.
    assert_eq!(basis.baseline.len(), 16);
    let parameter = sweep::parse_parameter(
        "retention_commission.commission.bands[1].rate=10%..19.5%/0.5%",
        &ws,
    )
    .unwrap();
    assert_eq!(parameter.values.len(), 20);
    let result = sweep::sweep(&mut basis, &[parameter], &Scope::default()).unwrap();
    assert_eq!(
        basis.work,
        Work {
            credit_passes: 1,
            measure_tables: 1,
            quota_tables: 0,
            // The plans in force, then per point only the 12 payouts of the
            // component varied (am1, am2, sam1 × 4 quarters).
            evaluations: 16 + 20 * 12,
        }
    );
    for point in &result.points {
        let rate = point.values[0];
        let plan = PLAN.replace("rate = \"12.5%\"", &format!("rate = \"{}\"", rate));
        assert_eq!(
            point.cost,
            full_cost(&workspace(WORKSPACE, &plan, &[]), PEOPLE),
            "rate {rate}"
        );
    }
    // 60,000 (am1) + 150,000 (sam1) above quota: $2,100 per point of rate.
    assert_eq!(result.points[0].cost, dec("99250.00"));
    assert_eq!(result.points[19].cost, dec("119200.00"));
}

#[test]
fn band_edge_and_quota_sweeps_match_full_calculations() {
    let ws = workspace(WORKSPACE, PLAN, &[]);
    let (people, txns) = data(&ws, PEOPLE);
    let overrides = QuotaOverrides::new();
    let mut basis = Basis::new(&ws, &people, &txns, &overrides, 2026).unwrap();
    let edges = sweep::parse_parameter(
        "retention_commission.commission.bands[1].from=80%,90%,110%,140%",
        &ws,
    )
    .unwrap();
    let result = sweep::sweep(&mut basis, &[edges], &Scope::default()).unwrap();
    for point in &result.points {
        let edge = attain_core::money::format_percent(point.values[0], 4);
        let plan = PLAN.replace("from = \"100%\"", &format!("from = \"{edge}\""));
        assert_eq!(
            point.cost,
            full_cost(&workspace(WORKSPACE, &plan, &[]), PEOPLE),
            "{edge}"
        );
    }
    let quotas =
        sweep::parse_parameter("quota.nrr_target=$200_000..$400_000/$50_000", &ws).unwrap();
    let before = basis.work.clone();
    let result = sweep::sweep(&mut basis, &[quotas], &Scope::default()).unwrap();
    // Quotas recomputed per point (one quarterly table), credits never.
    assert_eq!(basis.work.credit_passes, 1);
    assert_eq!(basis.work.measure_tables, before.measure_tables);
    assert_eq!(basis.work.quota_tables, before.quota_tables + 5);
    for point in &result.points {
        let amount = point.values[0].normalize();
        let attain = WORKSPACE.replace("amount = 300_000", &format!("amount = {amount}"));
        assert_eq!(
            point.cost,
            full_cost(&workspace(&attain, PLAN, &[]), PEOPLE),
            "{amount}"
        );
    }
}

#[test]
fn a_scenario_pays_what_the_candidate_pays_when_assigned() {
    let candidate = PLAN
        .replace(
            "id = \"retention_commission\"",
            "id = \"v2\"\ncloned_from = { plan = \"retention_commission\" }",
        )
        .replace("7.5%", "7%");
    let ws = workspace(WORKSPACE, PLAN, &[&candidate]);
    let (people, txns) = data(&ws, PEOPLE);
    let overrides = QuotaOverrides::new();
    let mut basis = Basis::new(&ws, &people, &txns, &overrides, 2026).unwrap();
    let old = ws.plan("retention_commission").unwrap();
    let new = ws.plan("v2").unwrap();
    assert_eq!(
        ws.plans[new].cloned_from.as_ref().map(|c| c.plan.as_str()),
        Some("retention_commission")
    );
    let scenario = compare::Scenario {
        replacements: vec![(old, new)],
    };
    let c = compare::compare(&mut basis, &scenario, &Scope::default(), Some("role")).unwrap();
    let assigned = PEOPLE.replace(",retention_commission,", ",v2,");
    assert_eq!(c.totals.after, full_cost(&ws, &assigned));
    assert_eq!(c.totals.before, full_cost(&ws, PEOPLE));
    // 0.5% less on the first $300,000 of each quarter: am1 Q1 and sam1
    // −1,500 each, am1 Q2 −500, am2 −750.
    assert_eq!(c.totals.change(), dec("-4250"));
    let rows = compare::scenario_payouts(&basis, &scenario).unwrap();
    assert_eq!(
        rows.iter().map(|p| p.amount).sum::<Decimal>(),
        c.totals.after
    );
    // Only the three people on the replaced plan were evaluated again.
    assert_eq!(basis.work.evaluations, 16 + 12);
}
