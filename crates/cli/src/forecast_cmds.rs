//! `attain forecast` and `attain estimate`: modeling on the data as it
//! stands, from CSV files (the flags of `attain calc`) or from the store
//! (read only: nothing is recorded). Glue over `attain_core::forecast` and
//! `attain_core::estimate`.

use crate::data_source::{DataSource, Setting};
use crate::workspace::{self, Failed};
use attain_core::calendar::{Period, PeriodKind};
use attain_core::data::{self, Transactions};
use attain_core::diag::{Diagnostic, Location};
use attain_core::engine::RunError;
use attain_core::estimate;
use attain_core::forecast::{self, Forecast, Settings, Source, Spread};
use attain_core::money::{format_percent, Currency};
use attain_core::plan::Workspace;
use attain_core::report;
use clap::Args;
use jiff::civil::Date;
use rust_decimal::Decimal;

#[derive(Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    data: DataSource,
    /// The day the forecast is made (YYYY-MM-DD): transactions dated after
    /// it are ignored, as if they had not happened yet.
    #[arg(long)]
    as_of: Option<String>,
    /// The period to forecast, e.g. 2026-Q2 (default: the quarter holding
    /// --as-of, or the month or year when no component is quarterly).
    #[arg(long)]
    period: Option<String>,
    /// How many ends of period to simulate.
    #[arg(long, default_value_t = 1000)]
    simulations: usize,
    /// The seed of the simulations: the same seed gives the same forecast.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// table, csv or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// Instead: forecast each period of the year at its middle from the
    /// data up to then, and compare with what it actually paid.
    #[arg(long)]
    backtest: bool,
}

#[derive(Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    data: DataSource,
    /// The person closing the deal (credited as its owner unless the deal
    /// names one).
    #[arg(long)]
    participant: String,
    /// The deal, as name=value pairs of the transaction fields:
    /// 'kind=upsell,amount=25000,account=A1,product=X'.
    #[arg(long)]
    deal: String,
    /// The deal's date (default: today when it is in the fiscal year, else
    /// the year's last day).
    #[arg(long)]
    date: Option<String>,
}

fn error(file: &str, message: impl Into<String>, hint: Option<&str>) -> Failed {
    let d = Diagnostic::error(Location::file(file), message);
    Failed(vec![match hint {
        Some(h) => d.with_hint(h),
        None => d,
    }])
}

fn run_failed(errors: Vec<RunError>) -> Failed {
    Failed(
        errors
            .into_iter()
            .map(|e| Diagnostic::error(Location::file("calculation"), e.message))
            .collect(),
    )
}

/// The transactions of `text` (named as `name` in errors), read for `d`.
fn transactions(d: &Setting, name: &str, text: &[u8]) -> Result<Transactions, Failed> {
    Ok(data::load_transactions(&d.ws, &d.people, name, text)?)
}

fn parse_date_flag(flag: &str, text: &str) -> Result<Date, Failed> {
    data::parse_date(text).ok_or_else(|| {
        error(
            flag,
            format!("`{text}` is not a date"),
            Some("write YYYY-MM-DD, like 2026-05-15"),
        )
    })
}

/// The kind forecast by default: quarterly components if any.
fn default_kind(ws: &Workspace) -> Option<PeriodKind> {
    let kinds = ws.period_kinds();
    if kinds.contains(&PeriodKind::Quarter) {
        Some(PeriodKind::Quarter)
    } else {
        kinds.first().copied()
    }
}

pub fn forecast(args: ForecastArgs) -> Result<(), Failed> {
    if !["table", "csv", "json"].contains(&args.format.as_str()) {
        return Err(error(
            "--format",
            format!("`{}` is not a format", args.format),
            Some("write `table`, `csv` or `json`"),
        ));
    }
    if args.simulations == 0 {
        return Err(error(
            "--simulations",
            "`0` simulations forecast nothing",
            Some("pass 1000, say"),
        ));
    }
    let as_of = match &args.as_of {
        Some(text) => Some(parse_date_flag("--as-of", text)?),
        None if args.backtest => None,
        None => {
            return Err(error(
                "--as-of",
                "a forecast needs the day it is made",
                Some("pass `--as-of 2026-05-15`; transactions after it are ignored"),
            ))
        }
    };
    let period = match &args.period {
        Some(text) => Some(Period::parse(text).ok_or_else(|| {
            error(
                "--period",
                format!("`{text}` is not a period"),
                Some("write `2026-Q2`, `2026-M05` or `2026`"),
            )
        })?),
        None => None,
    };
    let (d, text) = args.data.load_text()?;
    let Some(kind) = period.map(|p| p.kind).or_else(|| default_kind(&d.ws)) else {
        return Err(error("plans", "no plan has a component to forecast", None));
    };
    if !d.ws.period_kinds().contains(&kind) {
        return Err(error(
            "--period",
            format!("no component is paid by the {}", kind.name()),
            Some("pick a period of a kind the plans pay on"),
        ));
    }
    let txns = transactions(&d, &text.name, &text.csv)?;
    let inputs = forecast::Inputs {
        ws: &d.ws,
        people: &d.people,
        txns: &txns,
        overrides: &d.overrides,
    };
    let settings = Settings {
        simulations: args.simulations,
        seed: args.seed,
    };
    let laps = attain_store::laps::Laps::new();
    if args.backtest {
        let spinner = workspace::spinner("backtesting");
        let result = forecast::backtest(&inputs, d.year, kind, settings);
        spinner.finish_and_clear();
        let periods = result.map_err(run_failed)?;
        say_raw!(
            "{}",
            backtest_text(&args.format, &periods, settings, &d.ws.money())
        );
    } else {
        let as_of = as_of.unwrap_or(Date::MIN);
        let period = period.unwrap_or_else(|| d.ws.calendar.period_of(as_of, kind));
        let spinner = workspace::spinner("simulating");
        let result = forecast::forecast(&inputs, period, as_of, settings);
        spinner.finish_and_clear();
        let f = result.map_err(run_failed)?;
        let text = match args.format.as_str() {
            "csv" => forecast_csv(&d, &f),
            "json" => forecast_json(&d, &f),
            _ => forecast_table(&d, &f),
        };
        say_raw!("{text}");
    }
    laps.lap("forecast");
    Ok(())
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Own => "own history",
        Source::PeriodToDate => "period to date",
        Source::Peers => "peers",
        Source::Nothing => "none",
    }
}

fn percent(v: Option<Decimal>) -> String {
    v.map_or_else(String::new, |v| format_percent(v, 1))
}

fn describe(f: &Forecast) -> String {
    let history = if f.history.is_empty() {
        "no earlier period in the data: the remaining weeks are drawn from the weeks observed so far"
            .to_string()
    } else {
        format!(
            "the remaining weeks are drawn from the same weeks of {}, at this period's level",
            f.history
                .iter()
                .map(Period::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "forecast of {} as of {} ({} of {} days), {} simulations, seed {}\n{history}\n",
        f.period,
        f.as_of,
        f.days_observed,
        f.period_days,
        report::count(f.simulations, "", "").trim_end(),
        f.seed
    )
}

fn forecast_table(d: &Setting, f: &Forecast) -> String {
    let money = d.ws.money();
    let mut rows = vec![vec![
        "participant".to_string(),
        "plan".into(),
        "drawn from".into(),
        "attainment to date".into(),
        "attainment P50".into(),
        "paid to date".into(),
        "payout P10".into(),
        "P50".into(),
        "P90".into(),
    ]];
    for p in &f.people {
        rows.push(vec![
            d.people.ids[p.participant as usize].clone(),
            d.ws.plans[p.plan].id.clone(),
            source_name(p.source).into(),
            percent(p.attainment.as_ref().and_then(|a| a.to_date)),
            percent(p.attainment.as_ref().map(|a| a.spread.p50)),
            money.format(p.to_date),
            money.format(p.payout.p10),
            money.format(p.payout.p50),
            money.format(p.payout.p90),
        ]);
    }
    rows.push(vec![
        "total".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        money.format(f.to_date_total),
        money.format(f.total.p10),
        money.format(f.total.p50),
        money.format(f.total.p90),
    ]);
    format!(
        "{}\n{}\nplan cost of {}: P10 {}, P50 {}, P90 {} ({} to date)\n",
        describe(f),
        attain_core::report::columns(&rows, 3, 0),
        f.period,
        money.format(f.total.p10),
        money.format(f.total.p50),
        money.format(f.total.p90),
        money.format(f.to_date_total)
    )
}

/// An attainment as a ratio to 6 decimals (1.05 is 105%).
fn ratio(v: Decimal) -> String {
    v.round_dp(6).normalize().to_string()
}

fn spread_cells(s: Option<&Spread>) -> [String; 3] {
    match s {
        Some(s) => [ratio(s.p10), ratio(s.p50), ratio(s.p90)],
        None => Default::default(),
    }
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn forecast_csv(d: &Setting, f: &Forecast) -> String {
    let mut out = String::from(
        "participant_id,plan,period,as_of,drawn_from,attainment_to_date,attainment_p10,attainment_p50,attainment_p90,paid_to_date,payout_p10,payout_p50,payout_p90\n",
    );
    for p in &f.people {
        let a = p.attainment.as_ref();
        let [a10, a50, a90] = spread_cells(a.map(|a| &a.spread));
        out.push_str(&format!(
            "{},{},{},{},{},{},{a10},{a50},{a90},{},{},{},{}\n",
            csv_cell(&d.people.ids[p.participant as usize]),
            csv_cell(&d.ws.plans[p.plan].id),
            f.period,
            f.as_of,
            source_name(p.source),
            a.and_then(|a| a.to_date).map_or_else(String::new, ratio),
            p.to_date,
            p.payout.p10,
            p.payout.p50,
            p.payout.p90
        ));
    }
    out.push_str(&format!(
        ",total,{},{},,,,,,{},{},{},{}\n",
        f.period, f.as_of, f.to_date_total, f.total.p10, f.total.p50, f.total.p90
    ));
    out
}

fn json_text(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Amounts are JSON strings: exact decimals, whatever the reader does with
/// numbers.
fn json_spread(s: &Spread) -> String {
    format!(
        "{{\"p10\": \"{}\", \"p50\": \"{}\", \"p90\": \"{}\"}}",
        s.p10, s.p50, s.p90
    )
}

fn json_ratios(s: &Spread) -> String {
    format!(
        "{{\"p10\": \"{}\", \"p50\": \"{}\", \"p90\": \"{}\"}}",
        ratio(s.p10),
        ratio(s.p50),
        ratio(s.p90)
    )
}

fn forecast_json(d: &Setting, f: &Forecast) -> String {
    let people: Vec<String> = f
        .people
        .iter()
        .map(|p| {
            let attainment = match &p.attainment {
                Some(a) => format!(
                    "{{\"component\": {}, \"to_date\": {}, \"spread\": {}}}",
                    json_text(&d.ws.plans[p.plan].components[a.component].id),
                    a.to_date
                        .map_or_else(|| "null".to_string(), |v| format!("\"{}\"", ratio(v))),
                    json_ratios(&a.spread)
                ),
                None => "null".into(),
            };
            format!(
                "    {{\"participant\": {}, \"plan\": {}, \"drawn_from\": {}, \"paid_to_date\": \"{}\", \"payout\": {}, \"attainment\": {attainment}}}",
                json_text(&d.people.ids[p.participant as usize]),
                json_text(&d.ws.plans[p.plan].id),
                json_text(source_name(p.source)),
                p.to_date,
                json_spread(&p.payout)
            )
        })
        .collect();
    let history: Vec<String> = f
        .history
        .iter()
        .map(|p| json_text(&p.to_string()))
        .collect();
    format!(
        "{{\n  \"period\": \"{}\",\n  \"as_of\": \"{}\",\n  \"days_observed\": {},\n  \"period_days\": {},\n  \"simulations\": {},\n  \"seed\": {},\n  \"history\": [{}],\n  \"paid_to_date\": \"{}\",\n  \"total\": {},\n  \"people\": [\n{}\n  ]\n}}\n",
        f.period,
        f.as_of,
        f.days_observed,
        f.period_days,
        f.simulations,
        f.seed,
        history.join(", "),
        f.to_date_total,
        json_spread(&f.total),
        people.join(",\n")
    )
}

/// `part / whole` as a percentage with one decimal; empty for a zero whole.
fn share(part: Decimal, whole: Decimal) -> String {
    if whole.is_zero() {
        String::new()
    } else {
        format_percent(part / whole, 1)
    }
}

fn backtest_text(
    format: &str,
    periods: &[forecast::BacktestPeriod],
    settings: Settings,
    currency: &Currency,
) -> String {
    let header = [
        "period",
        "as_of",
        "history",
        "actual_total",
        "forecast_p10",
        "forecast_p50",
        "forecast_p90",
        "error_p50",
        "total_within_p10_p90",
        "people",
        "mean_abs_error",
        "median_abs_error",
        "mean_actual",
        "people_within_p10_p90",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for b in periods {
        let f = &b.forecast;
        let errors = b.person_errors();
        let n = errors.len();
        let mean = |v: Decimal| {
            if n == 0 {
                Decimal::ZERO
            } else {
                (v / Decimal::from(n)).round_dp(2)
            }
        };
        let mae = mean(errors.iter().copied().sum());
        let median = if n == 0 {
            Decimal::ZERO
        } else {
            errors[(n - 1) / 2]
        };
        let mean_actual = mean(b.actual.iter().copied().sum());
        let within = b.people_within();
        let error = f.total.p50 - b.actual_total;
        let money = |v: Decimal| {
            if format == "csv" {
                v.to_string()
            } else {
                currency.format(v)
            }
        };
        rows.push(vec![
            f.period.to_string(),
            f.as_of.to_string(),
            f.history.len().to_string(),
            money(b.actual_total),
            money(f.total.p10),
            money(f.total.p50),
            money(f.total.p90),
            if format == "csv" {
                error.to_string()
            } else {
                format!(
                    "{} ({})",
                    currency.format(error),
                    share(error, b.actual_total)
                )
            },
            if f.total.contains(b.actual_total) {
                "yes"
            } else {
                "no"
            }
            .into(),
            n.to_string(),
            money(mae),
            money(median),
            money(mean_actual),
            if format == "csv" {
                within.to_string()
            } else {
                format!(
                    "{within} ({})",
                    share(Decimal::from(within), Decimal::from(n))
                )
            },
        ]);
    }
    if format == "csv" {
        let mut out = header.join(",") + "\n";
        for r in rows {
            out.push_str(&r.join(","));
            out.push('\n');
        }
        return out;
    }
    let mut table = vec![vec![
        "period".to_string(),
        "as of".into(),
        "earlier periods".into(),
        "actual total".into(),
        "forecast P10".into(),
        "P50".into(),
        "P90".into(),
        "error of P50".into(),
        "within P10-P90".into(),
        "people".into(),
        "mean abs error".into(),
        "median abs error".into(),
        "mean payout".into(),
        "people within P10-P90".into(),
    ]];
    table.extend(rows);
    format!(
        "backtest: each period forecast at its middle from the data up to then ({} simulations, seed {}), against the full calculation\n\n{}",
        report::count(settings.simulations, "", "").trim_end(),
        settings.seed,
        attain_core::report::columns(&table, 3, 0)
    )
}

pub fn estimate(args: EstimateArgs) -> Result<(), Failed> {
    let (d, text) = args.data.load_text()?;
    if !d.people.index.contains_key(&args.participant) {
        return Err(error(
            "--participant",
            format!("no participant `{}`", args.participant),
            None,
        ));
    }
    let cal = d.ws.calendar;
    let year_period = Period {
        year: d.year,
        kind: PeriodKind::Year,
        index: 1,
    };
    let (first, last) = (cal.start(year_period), cal.end(year_period));
    let date = match &args.date {
        Some(text) => parse_date_flag("--date", text)?,
        None => {
            let today = jiff::tz::TimeZone::UTC
                .to_datetime(jiff::Timestamp::now())
                .date();
            if today >= first && today <= last {
                today
            } else {
                last
            }
        }
    };
    let deal = estimate::parse_deal(&d.ws, &d.people, &args.deal, &args.participant, date)
        .map_err(|errors| {
            Failed(
                errors
                    .into_iter()
                    .map(|e| {
                        let diag = Diagnostic::error(Location::file("--deal"), e.message);
                        match e.hint {
                            Some(h) => diag.with_hint(h),
                            None => diag,
                        }
                    })
                    .collect(),
            )
        })?;
    if deal.date < first || deal.date > last {
        return Err(error(
            "--date",
            format!("{} is outside fiscal year {}", deal.date, d.year),
            Some("pick a day of the year being calculated, or pass --year"),
        ));
    }
    let (name, text) = (&text.name, &text.csv);
    let header_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let header: Vec<String> = String::from_utf8_lossy(header_line)
        .trim_end_matches('\r')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect();
    let before = transactions(&d, name, text)?;
    let mut with_deal = text.clone();
    if !with_deal.ends_with(b"\n") {
        with_deal.push(b'\n');
    }
    with_deal.extend_from_slice(deal.record(&d.ws, &header).as_bytes());
    with_deal.push(b'\n');
    let after = transactions(&d, name, &with_deal)?;
    let e = estimate::estimate(
        &d.ws,
        &d.people,
        &d.overrides,
        d.year,
        &before,
        &after,
        &deal.credited,
    )
    .map_err(run_failed)?;
    say_raw!(
        "{}",
        estimate::render(&d.ws, &d.people, &deal, &args.participant, &e)
    );
    Ok(())
}
