//! Forecasts and estimates on a hand-made company under the reference
//! workload's plans, with amounts worked by hand.
//!
//! The company: director D1 over manager M1 over reps R1 and R2, both on
//! the retention commission (quarterly nrr quota $300,000: 7.5% to 100%,
//! 12.5% to 150%, 15% above). R1 renews $10,000 on the first day of every
//! week of each quarter (days 0, 7, … 84 from the quarter's start: 13
//! renewals, $130,000 a quarter); R2 sells nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use attain_core::calendar::{Period, PeriodKind};
use attain_core::data::{
    load_participants, load_transactions, parse_date, Participants, Transactions,
};
use attain_core::engine::measures::QuotaOverrides;
use attain_core::estimate;
use attain_core::forecast::{self, Settings, Source};
use attain_core::plan::Workspace;
use common::example_workspace;
use rust_decimal::Decimal;
use std::str::FromStr;

fn workspace() -> Workspace {
    example_workspace("examples/reference-workload")
}

const PEOPLE: &str = "\
participant_id,name,role,manager_id,plan,hire_date
D1,Director,director,,director_override,2020-01-01
M1,Manager,manager,D1,manager_override,2020-01-01
R1,Rep one,am,M1,retention_commission,2020-01-01
R2,Rep two,am,M1,retention_commission,2020-01-01
";

const HEADER: &str =
    "deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct\n";

/// R1's weekly renewals in Q1 and Q2 2026.
fn weekly_renewals() -> String {
    let mut out = String::from(HEADER);
    let mut n = 0;
    for start in ["2026-01-01", "2026-04-01"] {
        let start = parse_date(start).unwrap();
        for week in 0..13 {
            n += 1;
            let day = start.checked_add(jiff::Span::new().days(7 * week)).unwrap();
            out.push_str(&format!("d{n},{day},A{n},P1,renewal,10000.00,R1,,\n"));
        }
    }
    out
}

fn load(people: &str, deals: &str) -> (Workspace, Participants, Transactions) {
    let ws = workspace();
    let people = load_participants(&ws, "people.csv", people.as_bytes()).unwrap();
    let txns = load_transactions(&ws, &people, "deals.csv", deals.as_bytes()).unwrap();
    (ws, people, txns)
}

fn money(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn q2() -> Period {
    Period {
        year: 2026,
        kind: PeriodKind::Quarter,
        index: 2,
    }
}

fn settings(seed: u64) -> Settings {
    Settings {
        simulations: 200,
        seed,
    }
}

#[test]
fn a_regular_rep_is_forecast_exactly() {
    let (ws, people, txns) = load(PEOPLE, &weekly_renewals());
    let overrides = QuotaOverrides::new();
    let inputs = forecast::Inputs {
        ws: &ws,
        people: &people,
        txns: &txns,
        overrides: &overrides,
    };
    // 49 days of Q2 observed (April 1 to May 19): 7 renewals, $70,000. The
    // six weeks to come are drawn from Q1's same weeks (or one either
    // side), each holding one $10,000 renewal: every simulation ends at
    // $130,000, whatever it draws.
    let as_of = parse_date("2026-05-19").unwrap();
    let f = forecast::forecast(&inputs, q2(), as_of, settings(7)).unwrap();
    assert_eq!((f.days_observed, f.period_days), (49, 91));
    assert_eq!(f.history, vec![Period { index: 1, ..q2() }]);
    let by_id = |id: &str| {
        f.people
            .iter()
            .find(|p| people.ids[p.participant as usize] == id)
            .unwrap()
    };
    let r1 = by_id("R1");
    assert_eq!(r1.source, Source::Own);
    // To date: $70,000 × 7.5% = $5,250.00.
    assert_eq!(r1.to_date, money("5250.00"));
    // End: $130,000 × 7.5% = $9,750.00, in every simulation.
    assert_eq!(r1.payout.p10, money("9750.00"));
    assert_eq!(r1.payout.p90, money("9750.00"));
    let a = r1.attainment.as_ref().unwrap();
    assert_eq!(a.spread.p50.round_dp(6), money("0.433333"));
    assert_eq!(a.to_date.unwrap().round_dp(6), money("0.233333"));
    assert_eq!(by_id("R2").payout.p90, money("0.00"));
    // Manager: 2% of the team's $130,000 = $2,600.00 (the team goal needs
    // $600,000); director: 0.5% = $650.00.
    assert_eq!(by_id("M1").payout.p50, money("2600.00"));
    assert_eq!(by_id("D1").payout.p50, money("650.00"));
    assert_eq!(f.total.p10, money("13000.00"));
    assert_eq!(f.total.p90, money("13000.00"));
    // To date: 5,250 + 1,400 + 350.
    assert_eq!(f.to_date_total, money("7000.00"));
}

#[test]
fn a_new_hire_borrows_from_peers_on_the_same_plan() {
    // R3 starts the day after the forecast, on R1's and R2's plan: each
    // simulation borrows R1's flow ($10,000 a week for the 6 weeks left:
    // $60,000 × 7.5% = $4,500.00) or R2's (nothing).
    let people = format!("{PEOPLE}R3,Rep three,am,M1,retention_commission,2026-05-20\n");
    let (ws, people, txns) = load(&people, &weekly_renewals());
    let overrides = QuotaOverrides::new();
    let inputs = forecast::Inputs {
        ws: &ws,
        people: &people,
        txns: &txns,
        overrides: &overrides,
    };
    let as_of = parse_date("2026-05-19").unwrap();
    let f = forecast::forecast(&inputs, q2(), as_of, settings(1)).unwrap();
    let r3 = f
        .people
        .iter()
        .find(|p| people.ids[p.participant as usize] == "R3")
        .unwrap();
    assert_eq!(r3.source, Source::Peers);
    assert_eq!(r3.to_date, money("0.00"));
    assert_eq!(r3.payout.p10, money("0.00"));
    assert_eq!(r3.payout.p90, money("4500.00"));
}

#[test]
fn the_same_seed_gives_the_same_forecast_whatever_the_row_order() {
    let people_rows: Vec<&str> = PEOPLE.lines().collect();
    let reordered = format!(
        "{}\n{}\n",
        people_rows[0],
        people_rows[1..]
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Deals that vary, so draws matter: R2 sells on odd days.
    let mut deals = weekly_renewals();
    for d in 0..90 {
        if d % 3 == 1 {
            let day = parse_date("2026-01-01")
                .unwrap()
                .checked_add(jiff::Span::new().days(d * 2))
                .unwrap();
            deals.push_str(&format!(
                "x{d},{day},B{d},P2,upsell,{}.00,R2,,\n",
                1000 + 37 * d
            ));
        }
    }
    let run = |people: &str| {
        let (ws, people, txns) = load(people, &deals);
        let overrides = QuotaOverrides::new();
        let inputs = forecast::Inputs {
            ws: &ws,
            people: &people,
            txns: &txns,
            overrides: &overrides,
        };
        let f = forecast::forecast(
            &inputs,
            q2(),
            parse_date("2026-05-10").unwrap(),
            settings(42),
        )
        .unwrap();
        f.people
            .iter()
            .map(|p| (people.ids[p.participant as usize].clone(), p.payout))
            .collect::<Vec<_>>()
    };
    let a = run(PEOPLE);
    assert_eq!(a, run(PEOPLE));
    assert_eq!(a, run(&reordered));
    // R2's flow is uneven: its forecast has a spread.
    let r2 = a.iter().find(|(id, _)| id == "R2").unwrap().1;
    assert!(r2.p10 < r2.p90, "{r2:?}");
}

#[test]
fn transactions_after_the_as_of_date_are_not_read() {
    let (ws, people, txns) = load(PEOPLE, &weekly_renewals());
    let mut later = weekly_renewals();
    later.push_str("late,2026-06-01,A9,P1,renewal,500000.00,R1,,\n");
    let (_, _, txns_later) = load(PEOPLE, &later);
    let overrides = QuotaOverrides::new();
    let as_of = parse_date("2026-05-19").unwrap();
    let f = |t: &Transactions| {
        let inputs = forecast::Inputs {
            ws: &ws,
            people: &people,
            txns: t,
            overrides: &overrides,
        };
        forecast::forecast(&inputs, q2(), as_of, settings(3)).unwrap()
    };
    assert_eq!(f(&txns), f(&txns_later));
}

#[test]
fn backtest_compares_each_quarter_with_its_calculation() {
    let (ws, people, txns) = load(PEOPLE, &weekly_renewals());
    let overrides = QuotaOverrides::new();
    let inputs = forecast::Inputs {
        ws: &ws,
        people: &people,
        txns: &txns,
        overrides: &overrides,
    };
    let periods = forecast::backtest(&inputs, 2026, PeriodKind::Quarter, settings(5)).unwrap();
    // Q3 and Q4 have no deal: only Q1 and Q2 are covered.
    let names: Vec<String> = periods
        .iter()
        .map(|b| b.forecast.period.to_string())
        .collect();
    assert_eq!(names, ["2026-Q1", "2026-Q2"]);
    // Each quarter paid 9,750 + 2,600 + 650.
    for b in &periods {
        assert_eq!(b.actual_total, money("13000.00"));
    }
    // Q1 at its middle (45 of 90 days): 7 renewals seen ($70,000), and six
    // whole weeks to draw from, each with one renewal; so the forecast
    // lands on the actual whenever the partly observed week draws nothing
    // more, and is never below it.
    let q1 = &periods[0];
    assert_eq!(q1.forecast.as_of.to_string(), "2026-02-14");
    assert!(q1.forecast.total.p10 >= money("13000.00"));
}

// ---------------------------------------------------------------------------
// Estimates

const DEALS_Q2: &str = "\
deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct
d1,2026-04-10,A1,P1,renewal,290000.00,R1,,
d2,2026-04-11,A2,P1,renewal,100000.00,R2,,
";

fn estimate_of(
    deal: &str,
) -> Result<(Participants, estimate::Deal, estimate::Estimate), Vec<estimate::DealError>> {
    let (ws, people, before) = load(PEOPLE, DEALS_Q2);
    let date = parse_date("2026-05-14").unwrap();
    let deal = estimate::parse_deal(&ws, &people, deal, "R1", date)?;
    let header: Vec<String> = DEALS_Q2
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let with = format!("{DEALS_Q2}{}\n", deal.record(&ws, &header));
    let after = load_transactions(&ws, &people, "deals.csv", with.as_bytes()).unwrap();
    let e = estimate::estimate(
        &ws,
        &people,
        &QuotaOverrides::new(),
        2026,
        &before,
        &after,
        &deal.credited,
    )
    .unwrap();
    Ok((people, deal, e))
}

#[test]
fn a_deal_that_crosses_the_quota_moves_the_rep_into_the_accelerator() {
    let (people, deal, e) = estimate_of("kind=upsell,amount=25000,account=A9,product=P2").unwrap();
    assert_eq!(deal.date.to_string(), "2026-05-14");
    let moved: Vec<(String, String, String, Decimal, Decimal)> = e
        .moved
        .iter()
        .map(|m| {
            (
                people.ids[m.participant as usize].clone(),
                m.period.to_string(),
                format!("{:?} -> {:?}", m.tier_before, m.tier_after),
                m.before,
                m.after,
            )
        })
        .collect();
    assert_eq!(
        moved,
        vec![
            // Director: 0.5% of $390,000 → of $415,000.
            (
                "D1".into(),
                "2026-Q2".into(),
                "None -> None".into(),
                money("1950.00"),
                money("2075.00")
            ),
            // Manager: 2% of $390,000 → of $415,000.
            (
                "M1".into(),
                "2026-Q2".into(),
                "None -> None".into(),
                money("7800.00"),
                money("8300.00")
            ),
            // R1: $290,000 × 7.5% = $21,750.00 → $300,000 × 7.5% +
            // $15,000 × 12.5% = 22,500 + 1,875 = $24,375.00.
            (
                "R1".into(),
                "2026-Q2".into(),
                "Some(\"base (0% to 100%)\") -> Some(\"accelerator (100% to 150%)\")".into(),
                money("21750.00"),
                money("24375.00")
            ),
        ]
    );
    assert_eq!(e.total_change(), money("3250.00"));
    // The explanation of R1's new amount, band by band.
    let r1 = &e.moved[2];
    assert!(
        r1.explanation
            .iter()
            .any(|l| l == "accelerator (100% to 150%): $15,000.00 × 12.5% = $1,875.00"),
        "{:?}",
        r1.explanation
    );
}

#[test]
fn deal_errors_name_the_field_and_what_was_expected() {
    let messages = |deal: &str| -> Vec<String> {
        estimate_of(deal)
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect()
    };
    assert_eq!(
        messages("kind=upsel,amount=25000,account=A9,product=P2"),
        ["field `kind`: `upsel` is not one of `renewal`, `upsell`, `cross_sell`, `downsell`, `churn`"]
    );
    assert_eq!(
        messages("kind=upsell,amount=lots,account=A9,product=P2")[0],
        "field `amount`: `lots` is not an amount of money, like 25000 or 25000.50 (it is not a number)"
    );
    assert_eq!(
        messages("kind=upsell,amount=25000,acount=A9,product=P2"),
        [
            "no transaction field `acount`",
            "field `account` is missing: expected text"
        ]
    );
    assert_eq!(
        messages("kind=upsell,amount=25000,account=A9,product=P2,split_owner=R9,split_pct=20"),
        ["field `split_owner`: no participant `R9`"]
    );
    assert_eq!(
        messages("kind=upsell,amount=25000,account=A9,product=P2,split_owner=R2,split_pct=half"),
        ["field `split_pct`: `half` is not a whole number"]
    );
}
