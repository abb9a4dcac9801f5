//! What-if comparisons and sweeps as a readable table, CSV and JSON. The
//! renderers format what modeling computed; they never recompute it.

use super::compare::{Amounts, Comparison, Line};
use super::sweep::{Sweep, Unit};
use crate::money::{format_number, round, Currency, RoundingMode};
use crate::stats::Distribution;
use rust_decimal::Decimal;
use std::fmt::Write;

/// People listed by name in the table (each way); CSV and JSON list all.
pub const TABLE_PEOPLE: usize = 10;

/// A ratio as a percentage with two decimals: `6.17%`.
fn percent(ratio: Option<Decimal>) -> String {
    match ratio {
        Some(r) => format!(
            "{:.2}%",
            round(r * Decimal::ONE_HUNDRED, 2, RoundingMode::HalfAwayFromZero)
        ),
        None => "-".into(),
    }
}

/// A change of a ratio in percentage points: `+0.33 pt`.
fn points(before: Option<Decimal>, after: Option<Decimal>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => {
            let d = round(
                (a - b) * Decimal::ONE_HUNDRED,
                2,
                RoundingMode::HalfAwayFromZero,
            );
            let sign = if d > Decimal::ZERO { "+" } else { "" };
            format!("{sign}{d:.2} pt")
        }
        _ => "-".into(),
    }
}

/// Change relative to before: `+5.3%`.
fn relative(before: Decimal, after: Decimal) -> String {
    if before.is_zero() {
        return "-".into();
    }
    match (after - before).checked_div(before) {
        Some(r) => {
            let d = round(r * Decimal::ONE_HUNDRED, 1, RoundingMode::HalfAwayFromZero);
            let sign = if d > Decimal::ZERO { "+" } else { "" };
            format!("{sign}{d:.1}%")
        }
        None => "-".into(),
    }
}

/// Columns padded to their widest cell under a header; the first
/// left-aligned, the others right-aligned (numbers).
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut all = Vec::with_capacity(rows.len() + 1);
    all.push(header.iter().map(|h| h.to_string()).collect());
    all.extend(rows.iter().cloned());
    out.push_str(&crate::report::columns(&all, 1, 2));
}

fn scope_text(year: i16, periods: &[String]) -> String {
    if periods.is_empty() {
        format!("fiscal year {year}")
    } else {
        format!("fiscal year {year}, periods {}", periods.join(", "))
    }
}

fn amount_row(key: &str, a: &Amounts, money: &Currency) -> Vec<String> {
    vec![
        key.to_string(),
        money.format(a.revenue),
        money.format(a.before),
        money.format(a.after),
        money.format_signed(a.change()),
        relative(a.before, a.after),
    ]
}

fn line_rows(lines: &[Line], money: &Currency) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| {
            let mut row = amount_row(&l.key, &l.amounts, money);
            row.insert(1, l.people.to_string());
            row.push(l.gainers.to_string());
            row.push(l.losers.to_string());
            row
        })
        .collect()
}

/// The readable report of a what-if, amounts in `money`.
pub fn comparison_table(c: &Comparison, money: &Currency) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "what-if: {}", c.scenario);
    let _ = writeln!(out, "{}\n", scope_text(c.year, &c.periods));
    let t = &c.totals;
    let (share_before, share_after) = t.shares();
    let (rate_before, rate_after) = c.credited.shares();
    table(
        &mut out,
        &["", "plans in force", "what-if", "change"],
        &[
            vec![
                "cost".into(),
                money.format(t.before),
                money.format(t.after),
                format!(
                    "{} ({})",
                    money.format_signed(t.change()),
                    relative(t.before, t.after)
                ),
            ],
            vec![
                revenue_label(c.revenue_measure.as_deref()),
                money.format(t.revenue),
                money.format(t.revenue),
                String::new(),
            ],
            vec![
                "cost / revenue".into(),
                percent(share_before),
                percent(share_after),
                points(share_before, share_after),
            ],
            vec![
                "effective rate".into(),
                percent(rate_before),
                percent(rate_after),
                points(rate_before, rate_after),
            ],
        ],
    );
    let _ = writeln!(
        out,
        "  (effective rate: pay of the people holding credits ÷ their credited revenue)"
    );
    if let Some(m) = &c.revenue_measure {
        let _ = writeln!(out, "  (credited revenue: `{m}` summed over everyone)");
    }
    let header = [
        "", "people", "revenue", "before", "after", "change", "%", "gain", "lose",
    ];
    for (title, lines) in [
        (
            format!("by {}", c.group_field.as_deref().unwrap_or("group")),
            &c.by_group,
        ),
        ("by plan".to_string(), &c.by_plan),
        ("by component".to_string(), &c.by_component),
    ] {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        let mut h = header;
        h[0] = "";
        table(&mut out, &h, &line_rows(lines, money));
    }
    let m = &c.movement;
    let _ = writeln!(
        out,
        "\npeople: {} gain ({}), {} lose ({}), {} unchanged",
        m.gainers,
        money.format_signed(m.gained),
        m.losers,
        money.format(m.lost),
        m.unchanged
    );
    let _ = writeln!(out, "\nchange per person");
    let d = &c.changes;
    table(
        &mut out,
        &["", "min", "p10", "p25", "median", "p75", "p90", "max"],
        &[std::iter::once(String::new())
            .chain(d.points().iter().map(|(_, v)| money.format_signed(*v)))
            .collect()],
    );
    if !c.histogram.is_empty() {
        let _ = writeln!(out, "\nhistogram of changes per person");
        let most = c
            .histogram
            .iter()
            .map(|b| b.count)
            .max()
            .unwrap_or(0)
            .max(1);
        let rows: Vec<Vec<String>> = c
            .histogram
            .iter()
            .map(|b| {
                let bar = (b.count * 40).div_ceil(most);
                vec![
                    format!(
                        "{} to {}",
                        money.format_signed(b.from),
                        money.format_signed(b.to)
                    ),
                    b.count.to_string(),
                    "#".repeat(bar),
                ]
            })
            .collect();
        let label = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
        let count = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
        for r in &rows {
            let line = format!("  {:<label$}  {:>count$}  {}", r[0], r[1], r[2]);
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let mut moved: Vec<_> = c
        .people
        .iter()
        .filter(|p| p.amounts.change() != Decimal::ZERO)
        .collect();
    if !moved.is_empty() {
        moved.sort_by(|a, b| {
            b.amounts
                .change()
                .cmp(&a.amounts.change())
                .then_with(|| a.id.cmp(&b.id))
        });
        let gains: Vec<_> = moved
            .iter()
            .filter(|p| p.amounts.change() > Decimal::ZERO)
            .take(TABLE_PEOPLE)
            .collect();
        let losses: Vec<_> = moved
            .iter()
            .rev()
            .filter(|p| p.amounts.change() < Decimal::ZERO)
            .take(TABLE_PEOPLE)
            .collect();
        for (title, list) in [("largest gains", gains), ("largest losses", losses)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}");
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    let mut row = amount_row(&p.id, &p.amounts, money);
                    row.insert(1, p.group.clone());
                    row.insert(2, p.plan.clone());
                    row
                })
                .collect();
            table(
                &mut out,
                &[
                    "",
                    c.group_field.as_deref().unwrap_or(""),
                    "plan",
                    "revenue",
                    "before",
                    "after",
                    "change",
                    "%",
                ],
                &rows,
            );
        }
    }
    out
}

/// Quotes a CSV cell when it needs it.
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn ratio_text(r: Option<Decimal>) -> String {
    r.map(|v| round(v, 6, RoundingMode::HalfAwayFromZero).to_string())
        .unwrap_or_default()
}

/// A what-if as CSV, one row per figure:
/// `section,key,people,revenue,before,after,change`. Sections: `total`,
/// `cost_share` and `effective_rate` (ratios), the grouping field, `plan`,
/// `component`, `person`, `movement` and `change` (the distribution).
pub fn comparison_csv(c: &Comparison) -> String {
    let mut out = String::from("scenario,section,key,people,revenue,before,after,change\n");
    let scenario = cell(&c.scenario);
    let mut row = |section: &str, key: &str, people: String, a: &Amounts| {
        let _ = writeln!(
            out,
            "{scenario},{},{},{people},{},{},{},{}",
            cell(section),
            cell(key),
            a.revenue,
            a.before,
            a.after,
            a.change()
        );
    };
    row("total", "", c.people.len().to_string(), &c.totals);
    let ratio_row =
        |out: &mut String, section: &str, (b, a): (Option<Decimal>, Option<Decimal>)| {
            let change = match (b, a) {
                (Some(b), Some(a)) => ratio_text(Some(a - b)),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{scenario},{section},,,,{},{},{change}",
                ratio_text(b),
                ratio_text(a)
            );
        };
    let mut tail = String::new();
    ratio_row(&mut tail, "cost_share", c.totals.shares());
    ratio_row(&mut tail, "effective_rate", c.credited.shares());
    let group = c.group_field.clone().unwrap_or_else(|| "group".into());
    let mut rows = String::new();
    {
        let mut line = |section: &str, l: &Line| {
            let a = &l.amounts;
            let _ = writeln!(
                rows,
                "{scenario},{},{},{},{},{},{},{}",
                cell(section),
                cell(&l.key),
                l.people,
                a.revenue,
                a.before,
                a.after,
                a.change()
            );
        };
        for l in &c.by_group {
            line(&group, l);
        }
        for l in &c.by_plan {
            line("plan", l);
        }
        for l in &c.by_component {
            line("component", l);
        }
    }
    for p in &c.people {
        let a = &p.amounts;
        let _ = writeln!(
            rows,
            "{scenario},person,{},1,{},{},{},{}",
            cell(&p.id),
            a.revenue,
            a.before,
            a.after,
            a.change()
        );
    }
    let m = &c.movement;
    for (key, n, v) in [
        ("gainers", m.gainers, m.gained),
        ("losers", m.losers, m.lost),
        ("unchanged", m.unchanged, Decimal::ZERO),
    ] {
        let _ = writeln!(rows, "{scenario},movement,{key},{n},,,,{v}");
    }
    for (key, v) in c.changes.points() {
        let _ = writeln!(rows, "{scenario},change,{key},,,,,{v}");
    }
    out.push_str(&tail);
    out.push_str(&rows);
    out
}

/// A JSON string literal.
fn json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Amounts are JSON strings of exact decimals, so no reader turns them into
/// binary floats.
fn json_amount(v: Decimal) -> String {
    json_text(&v.to_string())
}

fn json_ratio(v: Option<Decimal>) -> String {
    v.map_or_else(|| "null".into(), |r| json_text(&ratio_text(Some(r))))
}

fn json_amounts(a: &Amounts) -> String {
    format!(
        "\"revenue\": {}, \"before\": {}, \"after\": {}, \"change\": {}",
        json_amount(a.revenue),
        json_amount(a.before),
        json_amount(a.after),
        json_amount(a.change())
    )
}

fn json_lines(lines: &[Line]) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "{{\"key\": {}, \"people\": {}, {}, \"gainers\": {}, \"losers\": {}}}",
                json_text(&l.key),
                l.people,
                json_amounts(&l.amounts),
                l.gainers,
                l.losers
            )
        })
        .collect();
    json_list(&items, "    ")
}

fn json_list(items: &[String], indent: &str) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    format!(
        "[\n{indent}  {}\n{indent}]",
        items.join(&format!(",\n{indent}  "))
    )
}

fn json_distribution(d: &Distribution) -> String {
    let fields: Vec<String> = d
        .points()
        .iter()
        .map(|(k, v)| format!("\"{k}\": {}", json_amount(*v)))
        .collect();
    format!("{{\"count\": {}, {}}}", d.count, fields.join(", "))
}

/// What-ifs as one JSON document (an array, one object per scenario).
pub fn comparisons_json(list: &[Comparison]) -> String {
    let items: Vec<String> = list.iter().map(comparison_json).collect();
    format!("{}\n", json_list(&items, ""))
}

fn comparison_json(c: &Comparison) -> String {
    let (sb, sa) = c.totals.shares();
    let (rb, ra) = c.credited.shares();
    let replacements: Vec<String> = c
        .replacements
        .iter()
        .map(|(old, new)| {
            format!(
                "{{\"replaced\": {}, \"candidate\": {}}}",
                json_text(old),
                json_text(new)
            )
        })
        .collect();
    let people: Vec<String> = c
        .people
        .iter()
        .map(|p| {
            format!(
                "{{\"id\": {}, \"group\": {}, \"plan\": {}, {}}}",
                json_text(&p.id),
                json_text(&p.group),
                json_text(&p.plan),
                json_amounts(&p.amounts)
            )
        })
        .collect();
    let bins: Vec<String> = c
        .histogram
        .iter()
        .map(|b| {
            format!(
                "{{\"from\": {}, \"to\": {}, \"people\": {}}}",
                json_amount(b.from),
                json_amount(b.to),
                b.count
            )
        })
        .collect();
    let m = &c.movement;
    let fields = [
        format!("\"scenario\": {}", json_text(&c.scenario)),
        format!("\"replacements\": [{}]", replacements.join(", ")),
        format!("\"year\": {}", c.year),
        format!(
            "\"periods\": [{}]",
            c.periods.iter().map(|p| json_text(p)).collect::<Vec<_>>().join(", ")
        ),
        format!(
            "\"group_field\": {}",
            c.group_field.as_deref().map_or("null".into(), json_text)
        ),
        format!(
            "\"revenue_measure\": {}",
            c.revenue_measure.as_deref().map_or("null".into(), json_text)
        ),
        format!("\"totals\": {{{}}}", json_amounts(&c.totals)),
        format!(
            "\"cost_share\": {{\"before\": {}, \"after\": {}}}",
            json_ratio(sb),
            json_ratio(sa)
        ),
        format!(
            "\"effective_rate\": {{\"before\": {}, \"after\": {}}}",
            json_ratio(rb),
            json_ratio(ra)
        ),
        format!("\"by_group\": {}", json_lines(&c.by_group)),
        format!("\"by_plan\": {}", json_lines(&c.by_plan)),
        format!("\"by_component\": {}", json_lines(&c.by_component)),
        format!(
            "\"movement\": {{\"gainers\": {}, \"losers\": {}, \"unchanged\": {}, \"gained\": {}, \"lost\": {}}}",
            m.gainers,
            m.losers,
            m.unchanged,
            json_amount(m.gained),
            json_amount(m.lost)
        ),
        format!("\"changes\": {}", json_distribution(&c.changes)),
        format!("\"histogram\": {}", json_list(&bins, "    ")),
        format!("\"people\": {}", json_list(&people, "    ")),
    ];
    format!("{{\n    {}\n  }}", fields.join(",\n    "))
}

/// A parameter's value as a plan would write it: `12.5%`, `$250,000`.
fn shown(unit: Unit, v: Decimal, money: &Currency) -> String {
    match unit {
        Unit::Ratio => crate::money::format_percent(v, 4),
        Unit::Money => money.format(v),
        Unit::Plain => format_number(v),
    }
}

/// The readable report of a sweep: one row per point, amounts in `money`.
pub fn sweep_table(s: &Sweep, money: &Currency) -> String {
    let mut out = String::new();
    let names: Vec<String> = s.parameters.iter().map(|p| p.path.clone()).collect();
    let _ = writeln!(out, "sweep: {}", names.join(" × "));
    let _ = writeln!(
        out,
        "{}, {} {}\n",
        scope_text(s.year, &s.periods),
        revenue_label(s.revenue_measure.as_deref()),
        money.format(s.revenue)
    );
    let mut header: Vec<&str> = names.iter().map(String::as_str).collect();
    header.extend([
        "cost", "change", "cost/rev", "gain", "lose", "p10", "median", "p90", "max",
    ]);
    let row = |label: Vec<String>, p: &super::sweep::Point| -> Vec<String> {
        let mut r = label;
        let share = p
            .cost
            .checked_div(s.revenue)
            .filter(|_| !s.revenue.is_zero());
        r.extend([
            money.format(p.cost),
            money.format_signed(p.cost - s.current.cost),
            percent(share),
            p.gainers.to_string(),
            p.losers.to_string(),
            money.format(p.payouts.p10),
            money.format(p.payouts.p50),
            money.format(p.payouts.p90),
            money.format(p.payouts.max),
        ]);
        r
    };
    let mut rows = vec![row(
        s.parameters
            .iter()
            .map(|p| format!("{} (in force)", shown(p.unit, p.in_force, money)))
            .collect(),
        &s.current,
    )];
    for p in &s.points {
        rows.push(row(
            p.values
                .iter()
                .zip(&s.parameters)
                .map(|(v, p)| shown(p.unit, *v, money))
                .collect(),
            p,
        ));
    }
    // `table` left-aligns only the first column: fine for one parameter.
    table(&mut out, &header, &rows);
    let _ = writeln!(
        out,
        "\n  p10, median, p90, max: each paid person's total payout; gain, lose: people paid more or less than now"
    );
    out
}

/// A sweep as CSV: one row per point (the plans in force first, `point`
/// 0), each parameter's value, cost, people paid more and less, and the
/// distribution of each person's total payout.
pub fn sweep_csv(s: &Sweep) -> String {
    let mut out = String::from("point");
    for p in &s.parameters {
        out.push(',');
        out.push_str(&cell(&p.path));
    }
    out.push_str(",cost,change,revenue,gainers,losers,people,min,p10,p25,p50,p75,p90,max\n");
    for (i, p) in std::iter::once(&s.current).chain(&s.points).enumerate() {
        let _ = write!(out, "{i}");
        for v in &p.values {
            let _ = write!(out, ",{}", v.normalize());
        }
        let d = &p.payouts;
        let _ = writeln!(
            out,
            ",{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.cost,
            p.cost - s.current.cost,
            s.revenue,
            p.gainers,
            p.losers,
            d.count,
            d.min,
            d.p10,
            d.p25,
            d.p50,
            d.p75,
            d.p90,
            d.max
        );
    }
    out
}

/// A sweep as JSON.
pub fn sweep_json(s: &Sweep) -> String {
    let point = |p: &super::sweep::Point| {
        format!(
            "{{\"values\": [{}], \"cost\": {}, \"change\": {}, \"gainers\": {}, \"losers\": {}, \"payouts\": {}}}",
            p.values.iter().map(|v| json_amount(v.normalize())).collect::<Vec<_>>().join(", "),
            json_amount(p.cost),
            json_amount(p.cost - s.current.cost),
            p.gainers,
            p.losers,
            json_distribution(&p.payouts)
        )
    };
    let params: Vec<String> = s
        .parameters
        .iter()
        .map(|p| {
            let unit = match p.unit {
                Unit::Ratio => "ratio",
                Unit::Money => "money",
                Unit::Plain => "number",
            };
            format!(
                "{{\"path\": {}, \"unit\": \"{unit}\", \"in_force\": {}}}",
                json_text(&p.path),
                json_amount(p.in_force.normalize())
            )
        })
        .collect();
    let points: Vec<String> = s.points.iter().map(point).collect();
    format!(
        "{{\n  \"parameters\": [{}],\n  \"year\": {},\n  \"periods\": [{}],\n  \"revenue\": {},\n  \"revenue_measure\": {},\n  \"in_force\": {},\n  \"points\": {}\n}}\n",
        params.join(", "),
        s.year,
        s.periods.iter().map(|p| json_text(p)).collect::<Vec<_>>().join(", "),
        json_amount(s.revenue),
        s.revenue_measure.as_deref().map_or("null".into(), json_text),
        point(&s.current),
        json_list(&points, "  ")
    )
}

/// "credited revenue", or the measure standing for it.
fn revenue_label(measure: Option<&str>) -> String {
    match measure {
        Some(m) => format!("credited revenue ({m})"),
        None => "credited revenue".into(),
    }
}
