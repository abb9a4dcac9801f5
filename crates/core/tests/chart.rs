//! Charts as SVG text, compared with golden files (`ATTAIN_BLESS=1 cargo
//! test -p attain-core --test chart` rewrites them; open them in a browser
//! to look).
#![allow(clippy::panic)]

use attain_core::chart::plans::{distribution, payout_curve, CurveOf, PayoutRow, Selection};
use attain_core::chart::{bins, stack, Chart};
use attain_core::diag::{render, SourceFile};
use attain_core::money::Currency;
use attain_core::plan::{check_workspace, Workspace};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

const WORKSPACE: &str = r#"
[workspace]
name = "chart cases"
currency = "USD"

[calendar]
first_month = 1
year = 2026

[participants]
id = "participant_id"
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
revenue = { sum = "credit" }

[quotas]
target = { amount = 100_000, per = "quarter" }
"#;

const PLANS: &str = r#"
[plan]
id = "current"
name = "Retroactive"

[[components]]
id = "commission"
period = "quarter"
measure = "revenue"
quota = "target"
tiers = "retroactive"
bands = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "8%" }]
"#;

const CANDIDATE: &str = r#"
[plan]
id = "candidate"
name = "Marginal"

[[components]]
id = "commission"
period = "quarter"
measure = "revenue"
quota = "target"
bands = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "8%" }]
cap = "$12_000"
"#;

fn workspace() -> Workspace {
    workspace_with(WORKSPACE)
}

fn workspace_with(attain: &str) -> Workspace {
    let checked = check_workspace(
        &SourceFile::new("attain.toml", attain),
        &[
            SourceFile::new("plans/current.toml", PLANS),
            SourceFile::new("plans/candidate.toml", CANDIDATE),
        ],
    );
    match checked.workspace {
        Some(ws) => ws,
        None => panic!("{}", render(&checked.diagnostics)),
    }
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// The golden file `name` as it is (another test blesses it).
fn golden_text(name: &str) -> String {
    std::fs::read_to_string(golden_path(name)).unwrap_or_default()
}

fn golden(name: &str, text: &str) {
    let path = golden_path(name);
    if std::env::var_os("ATTAIN_BLESS").is_some() {
        if let Err(e) = std::fs::write(&path, text) {
            panic!("cannot write {}: {e}", path.display());
        }
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text, expected, "ATTAIN_BLESS=1 rewrites {name}");
}

#[test]
fn a_payout_curve_beside_a_candidate() {
    let ws = workspace();
    let line = |plan: usize, label: &str| CurveOf {
        ws: &ws,
        component: &ws.plans[plan].components[0],
        label: label.to_string(),
    };
    let chart = match payout_curve(
        &[
            line(0, "current: retroactive"),
            line(1, "candidate: marginal, capped"),
        ],
        "Payout curve of commission",
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    // The retroactive line jumps at 100%: 99,999.99 x 5% = 5,000.00, then
    // 100,000 x 8% = 8,000: one cliff of 3,000, marked.
    assert_eq!(chart.markers.len(), 1);
    assert_eq!(chart.markers[0].label, "+$3,000.00 at 100%");
    assert_eq!(chart.markers[0].y, Decimal::from(8_000));
    // The candidate reaches its cap where 5,000 + 8% of the excess is 12,000:
    // 87,500 above quota, 187.5%; flat after.
    let candidate = &chart.series[1].points;
    assert!(candidate.contains(&(Decimal::new(1875, 3), Decimal::from(12_000))));
    assert_eq!(
        candidate.last(),
        Some(&(Decimal::new(25, 1), Decimal::from(12_000)))
    );
    golden("payout-curve.svg", &chart.to_svg());
}

/// The curve above in a workspace paid in euros: the golden picture with
/// every amount in €.
#[test]
fn a_payout_curve_in_the_workspaces_currency() {
    let usd = "currency = \"USD\"";
    assert_eq!(WORKSPACE.matches(usd).count(), 1);
    let ws = workspace_with(&WORKSPACE.replace(usd, "currency = \"EUR\""));
    let line = |plan: usize, label: &str| CurveOf {
        ws: &ws,
        component: &ws.plans[plan].components[0],
        label: label.to_string(),
    };
    let chart = match payout_curve(
        &[
            line(0, "current: retroactive"),
            line(1, "candidate: marginal, capped"),
        ],
        "Payout curve of commission",
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(chart.markers[0].label, "+€3,000.00 at 100%");
    assert_eq!(chart.y_label, "payout (EUR)");
    assert_eq!(
        chart.subtitle.as_deref(),
        Some("payout per quarter against attainment of revenue (quota target: €100,000.00); circles mark cliffs")
    );
    let svg = chart.to_svg();
    assert!(svg.contains(">€20,000</text>"), "{svg}");
    let in_dollars = golden_text("payout-curve.svg");
    assert_eq!(svg, in_dollars.replace('$', "€").replace("(USD)", "(EUR)"));
}

#[test]
fn histograms_of_attainment_and_payouts() {
    let row = |who: &str, period: &str, amount: i64, attainment: i64| PayoutRow {
        participant: who.into(),
        plan: "current".into(),
        component: "commission".into(),
        period: period.into(),
        amount: Decimal::from(amount),
        attainment: Some(Decimal::new(attainment, 2)),
    };
    let rows = [
        row("a", "2026-Q1", 4_000, 80),
        row("a", "2026-Q2", 9_000, 112),
        row("b", "2026-Q1", 2_500, 50),
        row("b", "2026-Q2", 5_000, 99),
        row("c", "2026-Q1", 12_000, 150),
        row("c", "2026-Q2", 10_400, 130),
        row("d", "2026-Q1", 0, 0),
    ];
    let usd = Currency::usd();
    let Some((attainment, payouts)) = distribution(&rows, &Selection::default(), "2026", &usd)
    else {
        panic!("no rows selected");
    };
    // Spread 1.5 / 20 = 0.075 -> bins of 10%; 0% to 160%.
    assert_eq!(attainment.bins.len(), 16);
    // Totals per person: a 13,000, b 7,500, c 22,400, d 0 -> bins of $2,000.
    let counts: Vec<usize> = payouts.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1]);
    golden("distribution.svg", &stack(&[&attainment, &payouts]));
    let one_quarter = Selection {
        period: Some("2026-Q1".into()),
        ..Selection::default()
    };
    let Some((a, _)) = distribution(&rows, &one_quarter, "2026", &usd) else {
        panic!("no rows selected");
    };
    assert_eq!(a.bins.iter().map(|b| b.count).sum::<usize>(), 4);
    assert!(bins(&[], 10).is_empty());
    // The same payouts in yen: no decimals.
    let yen = Currency::new("JPY", 0);
    let Some((_, payouts)) = distribution(&rows, &Selection::default(), "2026", &yen) else {
        panic!("no rows selected");
    };
    assert_eq!(
        payouts.subtitle.as_deref(),
        Some("2026: each person's total; 4 people, JPY 42,900 in all")
    );
    assert_eq!(payouts.x_label, "payout per person (JPY)");
    let svg = payouts.to_svg();
    for tick in ["JPY 0", "JPY 4,000", "JPY 24,000"] {
        assert!(
            svg.contains(&format!("text-anchor=\"middle\">{tick}</text>")),
            "{tick}: {svg}"
        );
    }
    assert!(!svg.contains('$'), "{svg}");
}
