//! The plan lint: one plan per kind of finding, with the exact text, and the
//! example workspaces' findings as a golden file (`ATTAIN_BLESS=1 cargo test
//! -p attain-core --test lint` rewrites it).
#![allow(clippy::panic)]

mod common;

use attain_core::diag::{render, Diagnostic, Severity, SourceFile};
use attain_core::plan::{check_workspace, lint::lint};
use common::example_sources;
use std::path::Path;

const WORKSPACE: &str = r#"
[workspace]
name = "lint cases"
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
kind = { type = "text", values = ["renewal", "churn"] }
owner = { column = "owner_id", type = "participant" }

[credit]
to = "owner"

[measures]
renewal = { sum = "credit", where = "kind == 'renewal'" }
churn = { sum = "credit", where = "kind == 'churn'" }
nrr = "renewal - churn"
rate = "if(renewal + churn > 0, round(renewal / (renewal + churn), 6), 0)"

[quotas]
target = { amount = 300_000, per = "quarter" }
"#;

/// The findings of one component written after a `[plan]` header, each as
/// `severity line:column: message` and its hint.
fn findings(component: &str) -> Vec<String> {
    findings_in(WORKSPACE, component)
}

/// [`findings`] in another workspace (`WORKSPACE` in another currency).
fn findings_in(workspace: &str, component: &str) -> Vec<String> {
    let plan = format!("[plan]\nid = \"p\"\nname = \"p\"\n\n[[components]]\n{component}");
    let checked = check_workspace(
        &SourceFile::new("attain.toml", workspace),
        &[SourceFile::new("plans/p.toml", plan)],
    );
    let Some(ws) = checked.workspace else {
        panic!("{}", render(&checked.diagnostics));
    };
    lint(&ws).reported.iter().map(compact).collect()
}

fn compact(d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    format!(
        "{level} {}:{}: {}\n  = help: {}",
        d.location.line,
        d.location.column,
        d.message,
        d.hint.clone().unwrap_or_default()
    )
}

#[test]
fn a_payout_that_drops_at_a_threshold_pays_less_for_more() {
    // 359,999.99 x 1% = 3,599.9999 -> 3,600.00; from 120% a flat 1,000.
    let found = findings(
        r#"id = "drops"
period = "quarter"
measure = "renewal"
quota = "target"
payout = "if(attainment >= 120%, $1_000, renewal * 1%)"
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: component `drops` pays less for more: $359,999.99 pays $3,600.00, but one cent more, at 120% of quota ($360,000.00 of `renewal`), pays $1,000.00\n  = help: a rep loses $2,600.00 by doing better; check the rates, the cap and the formula",
            "note 6:6: component `drops` pays $1,000.00 from 120% of quota ($360,000.00 of `renewal`) up: more performance pays nothing more\n  = help: the payout stops rising here; check that this ceiling is meant",
        ]
    );
}

#[test]
fn a_payout_that_shrinks_as_the_measure_grows_pays_less_for_more() {
    // 6,000 - 1% of the measure: 6,000 at 0, 0 at 600,000 (200%), then the
    // floor; a zero that stays zero is not reported.
    let found = findings(
        r#"id = "shrinks"
period = "quarter"
measure = "renewal"
quota = "target"
payout = "$6_000 - renewal * 1%"
floor = 0
"#,
    );
    assert_eq!(
        found,
        ["warning 6:6: component `shrinks` pays less for more: 0% of quota ($0.00 of `renewal`) pays $6,000.00, but 200% of quota ($600,000.00 of `renewal`) pays $0.00\n  = help: a rep loses $6,000.00 by doing better; check the rates, the cap and the formula"]
    );
}

#[test]
fn a_retroactive_tier_is_a_cliff() {
    // 329,999.99 x 5% = 16,499.9995 -> 16,500.00; 330,000 x 8% = 26,400.
    let found = findings(
        r#"id = "retro"
period = "quarter"
measure = "nrr"
quota = "target"
tiers = "retroactive"
bands = [
  { from = "0%", rate = "5%" },
  { name = "club", from = "110%", rate = "8%" },
]
"#,
    );
    assert_eq!(
        found,
        ["warning 6:6: component `retro` has a cliff at 110% of quota ($330,000.00 of `nrr`): one cent more pays $9,900.00 more ($329,999.99 pays $16,500.00, $330,000.00 pays $26,400.00)\n  = help: tiers are retroactive: reaching `club` pays 8% on the whole measure; `tiers = \"marginal\"` pays each rate on its own band, without a jump"]
    );
}

/// `WORKSPACE` paid in `currency` with `minor_unit` decimals.
fn workspace_in(currency: &str, minor_unit: u32) -> String {
    let usd = "currency = \"USD\"\n";
    assert_eq!(WORKSPACE.matches(usd).count(), 1);
    WORKSPACE.replace(
        usd,
        &format!("currency = \"{currency}\"\nminor_unit = {minor_unit}\n"),
    )
}

#[test]
fn findings_show_amounts_in_the_workspaces_currency() {
    // The gate below, in euros: the amounts, the cent and the zero of the
    // hint all in €.
    let found = findings_in(
        &workspace_in("EUR", 2),
        r#"id = "gated"
period = "quarter"
measure = "renewal"
quota = "target"
gate = "attainment >= 90%"
payout = "$2_500 + max(renewal - quota, 0) * 5%"
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: component `gated` has a cliff at 90% of quota (€270,000.00 of `renewal`): one cent more pays €2,500.00 more (€269,999.99 pays €0.00, €270,000.00 pays €2,500.00)\n  = help: the gate `attainment >= 90%` pays nothing below it: a rep one cent short earns €2,500.00 less, so expect deals pulled into the period; a ramp (a `curve` rising from €0) removes the jump",
            "note 6:6: component `gated` pays €2,500.00 whatever the result from 90% of quota (€270,000.00 of `renewal`) to 100% of quota (€300,000.00 of `renewal`): more performance pays nothing more there\n  = help: a dead zone: reps in it gain nothing for more until the payout rises again",
        ]
    );
}

#[test]
fn findings_in_a_currency_without_minor_units_step_by_one_unit() {
    // The retroactive club above, in yen and capped: 329,999 x 5% =
    // 16,499.95 -> 16,500; 330,000 x 8% = 26,400; the cap of 30,000 is 8% of
    // 375,000, 125%.
    let found = findings_in(
        &workspace_in("JPY", 0),
        r#"id = "retro"
period = "quarter"
measure = "nrr"
quota = "target"
tiers = "retroactive"
bands = [
  { from = "0%", rate = "5%" },
  { name = "club", from = "110%", rate = "8%" },
]
cap = "$30_000"
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: component `retro` has a cliff at 110% of quota (JPY 330,000 of `nrr`): JPY 1 more pays JPY 9,900 more (JPY 329,999 pays JPY 16,500, JPY 330,000 pays JPY 26,400)\n  = help: tiers are retroactive: reaching `club` pays 8% on the whole measure; `tiers = \"marginal\"` pays each rate on its own band, without a jump",
            "note 6:6: component `retro` pays its cap of JPY 30,000 from 125% of quota (JPY 375,000 of `nrr`) up: more performance pays nothing more\n  = help: a cap stops the payout; raise it, or lower the rates near it, if top performers should still earn for more",
        ]
    );
}

#[test]
fn the_same_table_marginal_has_no_finding() {
    let found = findings(
        r#"id = "marginal"
period = "quarter"
measure = "nrr"
quota = "target"
bands = [
  { from = "0%", rate = "5%" },
  { name = "club", from = "110%", rate = "8%" },
]
"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_gate_with_a_fixed_bonus_is_a_cliff_and_the_flat_stretch_after_it_a_dead_zone() {
    // Nothing below 90% (270,000), 2,500 from there; above quota 5% more.
    let found = findings(
        r#"id = "gated"
period = "quarter"
measure = "renewal"
quota = "target"
gate = "attainment >= 90%"
payout = "$2_500 + max(renewal - quota, 0) * 5%"
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: component `gated` has a cliff at 90% of quota ($270,000.00 of `renewal`): one cent more pays $2,500.00 more ($269,999.99 pays $0.00, $270,000.00 pays $2,500.00)\n  = help: the gate `attainment >= 90%` pays nothing below it: a rep one cent short earns $2,500.00 less, so expect deals pulled into the period; a ramp (a `curve` rising from $0) removes the jump",
            "note 6:6: component `gated` pays $2,500.00 whatever the result from 90% of quota ($270,000.00 of `renewal`) to 100% of quota ($300,000.00 of `renewal`): more performance pays nothing more there\n  = help: a dead zone: reps in it gain nothing for more until the payout rises again",
        ]
    );
}

/// A component can accept the findings its author means: they are set
/// aside, and the others are still reported.
#[test]
fn an_accepted_cliff_is_set_aside_and_the_rest_reported() {
    let found = findings(
        r#"id = "gated"
period = "quarter"
measure = "renewal"
quota = "target"
gate = "attainment >= 90%"
payout = "$2_500 + max(renewal - quota, 0) * 5%"
accept = ["cliff"]
"#,
    );
    assert_eq!(
        found,
        ["note 6:6: component `gated` pays $2,500.00 whatever the result from 90% of quota ($270,000.00 of `renewal`) to 100% of quota ($300,000.00 of `renewal`): more performance pays nothing more there\n  = help: a dead zone: reps in it gain nothing for more until the payout rises again"]
    );
}

/// An acceptance outlives nothing: once the plan stops paying that way,
/// the acceptance itself is reported where it is written.
#[test]
fn an_acceptance_that_matches_nothing_is_reported() {
    let found = findings(
        r#"id = "smooth"
period = "quarter"
measure = "renewal"
quota = "target"
rate = "5%"
accept = ["cliff", "dead_zone"]
"#,
    );
    assert_eq!(
        found,
        [
            "warning 11:11: component `smooth` accepts `cliff`, but has none\n  = help: the plan no longer pays this way; remove `cliff` from `accept`",
            "warning 11:20: component `smooth` accepts `dead_zone`, but has none\n  = help: the plan no longer pays this way; remove `dead_zone` from `accept`",
        ]
    );
}

#[test]
fn accept_names_kinds_of_finding() {
    let plan = "[plan]\nid = \"p\"\n\n[[components]]\nid = \"c\"\nperiod = \"quarter\"\nmeasure = \"renewal\"\nrate = \"5%\"\naccept = [\"cliffs\", \"cliff\", \"cliff\"]\n";
    let checked = check_workspace(
        &SourceFile::new("attain.toml", WORKSPACE),
        &[SourceFile::new("plans/p.toml", plan)],
    );
    let found: Vec<String> = checked.diagnostics.iter().map(compact).collect();
    assert_eq!(
        found,
        [
            "error 9:11: `cliffs` is not a kind of lint finding\n  = help: `accept` lists `cliff`, `falling_pay`, `unreachable_band`, `dead_zone`",
            "error 9:30: `cliff` is accepted twice\n  = help: ",
        ]
    );
}

#[test]
fn a_curve_whose_first_point_pays_is_a_cliff() {
    let found = findings(
        r#"id = "ramp"
period = "quarter"
measure = "renewal"
quota = "target"
curve = [{ at = "90%", pay = 2_000 }, { at = "120%", pay = 8_000 }]
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: component `ramp` has a cliff at 90% of quota ($270,000.00 of `renewal`): one cent more pays $2,000.00 more ($269,999.99 pays $0.00, $270,000.00 pays $2,000.00)\n  = help: the curve pays nothing below its first point; a first point paying $0 removes the jump",
            "note 6:6: component `ramp` pays $8,000.00 from 120% of quota ($360,000.00 of `renewal`) up: more performance pays nothing more\n  = help: the payout stops rising here; check that this ceiling is meant",
        ]
    );
}

#[test]
fn a_cap_below_a_band_makes_a_dead_zone_and_a_band_never_paid() {
    // 300,000 x 7.5% = 22,500; the cap of 30,000 is reached where
    // 22,500 + 12.5% of the excess = 30,000: 60,000 above quota, 120%.
    let found = findings(
        r#"id = "capped"
period = "quarter"
measure = "renewal"
quota = "target"
tiers = "marginal"
bands = [
  { name = "base", from = "0%", rate = "7.5%" },
  { name = "accelerator", from = "100%", rate = "12.5%" },
  { name = "super accelerator", from = "150%", rate = "15%" },
]
cap = "$30_000"
"#,
    );
    assert_eq!(
        found,
        [
            "warning 6:6: band `super accelerator` of component `capped` (15% from 150%) is never paid: the cap of $30,000.00 is reached at 120% of quota ($360,000.00 of `renewal`)\n  = help: the cap stops the payout before this band starts; raise the cap or remove the band",
            "note 6:6: component `capped` pays its cap of $30,000.00 from 120% of quota ($360,000.00 of `renewal`) up: more performance pays nothing more\n  = help: a cap stops the payout; raise it, or lower the rates near it, if top performers should still earn for more",
        ]
    );
}

#[test]
fn whole_point_steps_are_the_plans_arithmetic_not_cliffs() {
    let found = findings(
        r#"id = "points"
period = "quarter"
measure = "nrr"
quota = "target"
payout = "$125 * max(floor(attainment * 100) - 100, 0)"
"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_curve_on_a_rate_stops_at_its_last_point() {
    // A renewal rate cannot pass 100%: the flat top is not a dead zone.
    let found = findings(
        r#"id = "renewal_rate"
period = "quarter"
measure = "rate"
curve = [{ at = 0.90, pay = 0 }, { at = 1.00, pay = 6_000 }]
"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_examples_findings_match_the_golden_file() {
    let mut text = String::new();
    for dir in ["examples/brief", "examples/reference-workload"] {
        let (ws, plans) = example_sources(dir);
        let checked = check_workspace(&ws, &plans);
        let Some(ws) = checked.workspace else {
            panic!("{}", render(&checked.diagnostics));
        };
        text.push_str(&format!("# attain check -w {dir}\n\n"));
        let found = lint(&ws);
        text.push_str(&render(&found.reported));
        text.push_str(&render(&found.accepted_as_notes()));
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lint-examples.txt");
    if std::env::var_os("ATTAIN_BLESS").is_some() {
        if let Err(e) = std::fs::write(&golden, &text) {
            panic!("cannot write {}: {e}", golden.display());
        }
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(text, expected, "ATTAIN_BLESS=1 rewrites the golden file");
}
