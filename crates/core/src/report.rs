//! Text and CSV renderings of a calculation: the payouts file, a
//! participant's explanation, and the summary an administrator reads first.
//! Renderers only format what the engine recorded; they never recompute a
//! payout.

use crate::calendar::{Period, PeriodKind};
use crate::data::{Participants, Transactions};
use crate::engine::filter::{field_value, CreditView, Filter};
use crate::engine::trace::Step;
use crate::engine::{Calculation, Payout};
use crate::expr::{Type, Value};
use crate::money::{format_number, format_percent, Currency};
use crate::plan::{MeasureKind, Plan, Workspace};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::io::{self, Write};

/// `participant_id,period,component,payout`: one row per payout, in the
/// engine's order (participant id, period, component id). Rows are
/// formatted on every core, a stretch of payouts at a time, and written in
/// order: formatting 108,000 rows on one core was a sixth of the time after
/// the read at L.
pub fn payouts_csv<W: Write + ?Sized>(
    out: &mut W,
    ws: &Workspace,
    people: &Participants,
    calc: &Calculation,
) -> io::Result<()> {
    use rayon::prelude::*;
    out.write_all(b"participant_id,period,component,payout\n")?;
    let pieces: Vec<String> = calc
        .payouts
        .par_chunks(4096)
        .map(|payouts| payout_rows(ws, people, payouts))
        .collect();
    for piece in pieces {
        out.write_all(piece.as_bytes())?;
    }
    Ok(())
}

/// The rows of the payouts file for `payouts`.
fn payout_rows(ws: &Workspace, people: &Participants, payouts: &[Payout]) -> String {
    let mut buf = String::with_capacity(payouts.len() * 48);
    // A run pays in a handful of periods: each written once.
    let mut periods: Vec<(Period, String)> = Vec::new();
    for p in payouts {
        let component = &ws.plans[p.plan].components[p.component].id;
        buf.push_str(&csv_field(&people.ids[p.participant as usize]));
        buf.push(',');
        match periods.iter().find(|(period, _)| *period == p.period) {
            Some((_, text)) => buf.push_str(text),
            None => {
                let text = p.period.to_string();
                buf.push_str(&text);
                periods.push((p.period, text));
            }
        }
        buf.push(',');
        buf.push_str(component);
        buf.push(',');
        write_decimal(&mut buf, p.amount);
        buf.push('\n');
    }
    buf
}

/// Writes `x` as its `Display` does (every decimal place of its scale),
/// from its integer parts: the general formatting cost more than the rest
/// of a row of the payouts file. Amounts of up to 64 bits (any payout) are
/// written without 128-bit division, which is a call.
fn write_decimal(buf: &mut String, x: Decimal) {
    let scale = x.scale();
    let units = x.mantissa().unsigned_abs();
    if units == 0 {
        let _ = write!(buf, "{x}");
        return;
    }
    if x.is_sign_negative() {
        buf.push('-');
    }
    // 10^19 is the largest power of ten in 64 bits.
    match u64::try_from(units) {
        Ok(units) if scale <= 19 => {
            let ten = 10u64.pow(scale);
            push_digits(buf, units / ten, 1);
            if scale > 0 {
                buf.push('.');
                push_digits(buf, units % ten, scale as usize);
            }
        }
        _ => {
            let ten = 10u128.pow(scale);
            let _ = write!(buf, "{}", units / ten);
            if scale > 0 {
                let width = scale as usize;
                let _ = write!(buf, ".{:0width$}", units % ten);
            }
        }
    }
}

/// The decimal digits of `v`, padded with zeros to `width` (at most 20).
fn push_digits(buf: &mut String, mut v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while v > 0 {
        start -= 1;
        digits[start] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = start.min(digits.len().saturating_sub(width));
    buf.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// `1 plan`, `12 plans`, `30,000 deals`: a count with its noun, grouped
/// by thousands.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    let grouped = crate::money::group_thousands(&n.to_string());
    format!("{grouped} {}", if n == 1 { singular } else { plural })
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn value_text(v: Decimal, is_money: bool, money: &Currency) -> String {
    if is_money {
        money.format(v)
    } else {
        format_number(v)
    }
}

/// A band's extent: `100% to 150%`, or `150% and above`.
fn span_text(from: &str, to: &str) -> String {
    if to.is_empty() {
        format!("{from} and above")
    } else {
        format!("{from} to {to}")
    }
}

/// A payout's steps as lines of a statement: one per step, and after a
/// marginal table's bands (each band paid has its line) the tier reached,
/// said in words for the rep; amounts in `money` (the workspace's
/// [`crate::plan::Workspace::money`]).
pub fn trace_lines(steps: &[Step], money: &Currency) -> Vec<String> {
    let last_band = steps.iter().rposition(|s| matches!(s, Step::Band { .. }));
    let mut lines = Vec::with_capacity(steps.len() + 1);
    for (i, step) in steps.iter().enumerate() {
        lines.push(step_line(step, money));
        if let (Step::Band { name, .. }, true) = (step, last_band == Some(i)) {
            lines.push(format!("tier reached: {name}"));
        }
    }
    lines
}

/// Describes one trace step in a line a rep can follow, amounts in
/// `money` (the workspace's [`crate::plan::Workspace::money`]).
pub fn step_line(step: &Step, money: &Currency) -> String {
    match step {
        Step::Measure {
            name,
            value,
            is_money,
        } => format!("{name} = {}", value_text(*value, *is_money, money)),
        Step::Quota {
            name,
            full,
            overridden,
            active_days,
            period_days,
            value,
            rounding,
        } => {
            let source = if *overridden {
                "set for this participant"
            } else {
                "from the plan"
            };
            match rounding {
                Some(r) => format!(
                    "quota {name} = {} ({source}) × {active_days}/{period_days} active days = {} (rounded to {r})",
                    money.format(*full),
                    money.format(*value)
                ),
                None => format!("quota {name} = {} ({source})", money.format(*value)),
            }
        }
        Step::Attainment { value } => format!("attainment = {}", format_percent(*value, 4)),
        Step::NoAttainment => "attainment has no value: the quota is zero".to_string(),
        Step::Gate { condition, met } => {
            if *met {
                format!("gate `{condition}`: met")
            } else {
                format!("gate `{condition}`: not met, nothing is paid")
            }
        }
        Step::Rate { base, rate, amount } => format!(
            "{} × {} = {}",
            money.format(*base),
            format_percent(*rate, 6),
            money.format(*amount)
        ),
        Step::Band {
            name,
            from,
            to,
            portion,
            rate,
            per_point,
            amount,
        } => {
            if *per_point {
                format!(
                    "{name} ({}): {} points × {} = {}",
                    span_text(from, to),
                    format_number(*portion),
                    money.format(*rate),
                    money.format(*amount)
                )
            } else {
                format!(
                    "{name} ({}): {} × {} = {}",
                    span_text(from, to),
                    money.format(*portion),
                    format_percent(*rate, 6),
                    money.format(*amount)
                )
            }
        }
        Step::RetroactiveBand {
            name,
            from,
            to,
            base,
            rate,
            amount,
        } => format!(
            "{name} ({}) reached: all of {} × {} = {}",
            span_text(from, to),
            money.format(*base),
            format_percent(*rate, 6),
            money.format(*amount)
        ),
        Step::BelowBands { first } => {
            format!("below the first band (starts at {first}): nothing is paid")
        }
        Step::Points {
            exact,
            rounded,
            rounding,
        } => match rounding {
            Some(r) if exact != rounded => {
                // The exact quotient can run to 28 digits; six decimals say
                // enough of it beside the rounded points that are paid.
                let shown = exact.round_dp_with_strategy(
                    6,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
                let sign = if shown == *exact { "=" } else { "≈" };
                format!(
                    "points of attainment {sign} {} → {} (rounded to {r})",
                    format_number(shown),
                    format_number(*rounded)
                )
            }
            _ => format!("points of attainment = {}", format_number(*rounded)),
        },
        Step::Curve {
            x,
            lower,
            upper,
            amount,
        } => match upper {
            Some((at, pay)) => format!(
                "pay curve at {x}: between {} at {} and {} at {}, linear: {}",
                money.format(lower.1),
                lower.0,
                money.format(*pay),
                at,
                money.format(*amount)
            ),
            None => format!(
                "pay curve at {x}: {} (the curve's point at {})",
                money.format(*amount),
                lower.0
            ),
        },
        Step::Fixed { amount } => format!("fixed amount {}", money.format(*amount)),
        Step::Formula {
            text,
            inputs,
            amount,
        } => {
            let ins: Vec<String> = inputs
                .iter()
                .map(|(n, v)| format!("{n} = {}", format_number(*v)))
                .collect();
            if ins.is_empty() {
                format!("{text} = {}", money.format(*amount))
            } else {
                format!("{text} with {} = {}", ins.join(", "), money.format(*amount))
            }
        }
        Step::Floor { floor, before } => format!(
            "{} is below the floor: raised to {}",
            money.format(*before),
            money.format(*floor)
        ),
        Step::Cap { cap, before } => format!(
            "{} is above the cap: limited to {}",
            money.format(*before),
            money.format(*cap)
        ),
        Step::Rounded {
            before,
            after,
            rounding,
            by_default,
        } => format!(
            "{} rounded to {} ({rounding}{})",
            format_number(*before),
            money.format(*after),
            if *by_default {
                ", the workspace default"
            } else {
                ""
            }
        ),
    }
}

/// What each person in a roll-up's scope adds to it (those active in the
/// period, as the roll-up adds them), so a manager can check the sum.
#[allow(clippy::too_many_arguments)]
fn rollup_text(
    out: &mut String,
    ws: &Workspace,
    people: &Participants,
    table: &crate::engine::measures::MeasureTable,
    mi: usize,
    participant: u32,
    pi: usize,
    limit: usize,
) {
    let m = &ws.measures[mi];
    let MeasureKind::Rollup { scope, of, filter } = &m.kind else {
        return;
    };
    let members: Vec<u32> =
        crate::engine::measures::rollup_members(ws, people, participant, *scope, filter.as_ref())
            .into_iter()
            .filter(|&r| table.active_days(r, pi) != 0)
            .collect();
    let of_name = match of {
        crate::plan::ValueRef::Measure(x) => ws.measures[*x].name.as_str(),
        crate::plan::ValueRef::Quota(q) => ws.quotas[*q].name.as_str(),
    };
    let is_money = match of {
        crate::plan::ValueRef::Measure(x) => ws.measures[*x].ty == Type::Money,
        crate::plan::ValueRef::Quota(_) => true,
    };
    let _ = writeln!(
        out,
        "
{} = {} of {} ({}, active in the period):",
        m.name,
        of_name,
        count(members.len(), "person", "people"),
        scope.name()
    );
    let name_field = ws.participants.fields.iter().position(|f| f.name == "name");
    let mut rows = Vec::new();
    for &r in members.iter().take(limit) {
        let mut who = people.ids[r as usize].clone();
        let name = name_field.and_then(|fi| {
            field_value(
                &people.fields[fi],
                r as usize,
                &people.text,
                ws.minor_unit,
                None,
            )
        });
        if let Some(Value::Text(n)) = name.filter(|n| !matches!(n, Value::Text(t) if t.is_empty()))
        {
            who = format!("{who} ({n})");
        }
        rows.push(vec![
            who,
            value_text(table.of(*of, r, pi), is_money, &ws.money()),
        ]);
    }
    out.push_str(&columns(&rows, usize::MAX, 2));
    if members.len() > limit {
        let _ = writeln!(
            out,
            "  … and {} more (use --all to list every one)",
            members.len() - limit
        );
    }
}

/// Everything about one participant and period: credited transactions,
/// measures, quota, each component's steps and payout.
pub fn explain(
    ws: &Workspace,
    people: &Participants,
    txns: &Transactions,
    calc: &Calculation,
    participant: u32,
    period: Period,
    credit_limit: usize,
) -> String {
    let money = ws.money();
    let mut out = String::new();
    let p = participant as usize;
    let plan = match calc.table(period.kind).and_then(|t| {
        t.grid
            .periods
            .iter()
            .position(|x| *x == period)
            .map(|i| (t, i))
    }) {
        Some((t, i)) => people.plan_at(participant, t.grid.starts[i], t.grid.ends[i]),
        None => people.plan[p],
    }
    .map(|i| &ws.plans[i]);
    let _ = write!(out, "{}", people.ids[p]);
    for (fi, f) in ws.participants.fields.iter().enumerate() {
        if let Some(Value::Text(t)) = field_value(
            &people.fields[fi],
            p,
            &people.text,
            ws.minor_unit,
            Some(&people.ids),
        ) {
            if !t.is_empty() {
                let _ = write!(out, " · {}: {t}", f.name);
            }
        }
    }
    out.push('\n');
    match plan {
        Some(plan) => {
            let _ = writeln!(out, "plan: {} ({})", plan.id, plan.name);
        }
        None => {
            let _ = writeln!(out, "plan: none");
        }
    }
    if let Some(m) = people.manager[p] {
        let _ = writeln!(out, "manager: {}", people.ids[m as usize]);
    }
    let Some(table) = calc.table(period.kind) else {
        let _ = writeln!(
            out,
            "\nno component of any plan is paid by {}; nothing to explain",
            period.kind.name()
        );
        return out;
    };
    let Some(pi) = table.grid.periods.iter().position(|x| *x == period) else {
        let _ = writeln!(out, "\n{period} is not in fiscal year {}", calc.year);
        return out;
    };
    let days = table.active_days(participant, pi);
    let _ = writeln!(
        out,
        "period: {period} ({} to {}), active {days} of {} days",
        table.grid.starts[pi],
        table.grid.ends[pi],
        table.grid.days(pi)
    );

    // Credited transactions.
    let credits: Vec<usize> = (0..calc.credits.len())
        .filter(|&c| {
            calc.credits.participant[c] == participant
                && table.grid.index_of(txns.date[calc.credits.txn[c] as usize]) == Some(pi)
        })
        .collect();
    let mut sorted = credits.clone();
    sorted.sort_by(|a, b| {
        let (ta, tb) = (calc.credits.txn[*a] as usize, calc.credits.txn[*b] as usize);
        (txns.date[ta], txns.id(ta)).cmp(&(txns.date[tb], txns.id(tb)))
    });
    let _ = writeln!(out, "\ncredited transactions: {}", sorted.len());
    if !sorted.is_empty() {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut header = vec!["date".to_string(), "id".to_string()];
        let shown_fields: Vec<usize> = (0..ws.transactions.fields.len())
            .filter(|&f| {
                ws.transactions.fields[f].ty != crate::plan::FieldType::Participant
                    && ws.transactions.fields[f].name != "split_pct"
            })
            .collect();
        header.extend(
            shown_fields
                .iter()
                .map(|&f| ws.transactions.fields[f].name.clone()),
        );
        header.extend(["amount".to_string(), "credit".to_string(), "as".to_string()]);
        rows.push(header);
        for &c in sorted.iter().take(credit_limit) {
            let t = calc.credits.txn[c] as usize;
            let mut row = vec![txns.date[t].to_string(), txns.id(t).to_string()];
            for &f in &shown_fields {
                row.push(
                    match field_value(
                        &txns.fields[f],
                        t,
                        &txns.text,
                        ws.minor_unit,
                        Some(&people.ids),
                    ) {
                        Some(Value::Text(s)) => s,
                        Some(Value::Num(v)) => v.to_string(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    },
                );
            }
            row.push(money.format(Decimal::new(txns.amount[t], ws.minor_unit)));
            row.push(money.format(Decimal::new(calc.credits.amount[c], ws.minor_unit)));
            row.push(calc.credits.credited_as[c].name().to_string());
            rows.push(row);
        }
        out.push_str(&columns(&rows, usize::MAX, 2));
        if sorted.len() > credit_limit {
            let _ = writeln!(
                out,
                "  … and {} more (use --all to list every one)",
                sorted.len() - credit_limit
            );
        }
    }

    // Measures the plan reads.
    let _ = writeln!(out, "\nmeasures:");
    let mut rows = Vec::new();
    let read: Vec<usize> = match plan {
        Some(plan) => ws.own_measures_read_by(plan),
        None => (0..ws.measures.len()).collect(),
    };
    let rollups: Vec<usize> = read
        .iter()
        .copied()
        .filter(|&mi| matches!(ws.measures[mi].kind, MeasureKind::Rollup { .. }))
        .collect();
    for mi in read {
        let m = &ws.measures[mi];
        let v = table.value(mi, participant, pi);
        let count = match &m.kind {
            MeasureKind::Sum {
                field: None,
                filter,
            } => {
                let f = Filter::compile(filter.as_ref(), &ws.transactions, txns);
                let view = CreditView::new(ws, txns, &calc.credits);
                let n = credits.iter().filter(|&&c| f.matches(&view, c)).count();
                count(n, "credit", "credits")
            }
            _ => String::new(),
        };
        let about = match &m.description {
            Some(d) => format!("{d}: {}", m.source),
            None => m.source.clone(),
        };
        rows.push(vec![
            m.name.clone(),
            value_text(v, m.ty == Type::Money, &money),
            count,
            about,
        ]);
    }
    out.push_str(&columns(&rows, usize::MAX, 2));
    for mi in rollups {
        rollup_text(
            &mut out,
            ws,
            people,
            table,
            mi,
            participant,
            pi,
            credit_limit,
        );
    }

    // Components.
    let mine: Vec<&Payout> = calc
        .payouts
        .iter()
        .filter(|x| x.participant == participant && x.period == period)
        .collect();
    let mut total = Decimal::ZERO;
    for payout in &mine {
        let c = &ws.plans[payout.plan].components[payout.component];
        total += payout.amount;
        let _ = writeln!(
            out,
            "\n{} — {}: {}",
            c.id,
            c.name,
            money.format(payout.amount)
        );
        for line in trace_lines(&payout.trace.steps, &money) {
            let _ = writeln!(out, "  {line}");
        }
    }
    if mine.is_empty() {
        let _ = writeln!(
            out,
            "\nno payout for {period}: {}",
            no_payout_reason(plan, days, period)
        );
    } else {
        let _ = writeln!(out, "\ntotal for {period}: {}", money.format(total));
    }
    out
}

/// Why a participant has no payout in a period, in the words of the
/// explanation's last line.
fn no_payout_reason(plan: Option<&Plan>, active_days: i32, period: Period) -> String {
    let Some(plan) = plan else {
        return "not on any plan in this period".to_string();
    };
    if active_days <= 0 {
        return "not active in this period".to_string();
    }
    let mut kinds: Vec<PeriodKind> = plan.components.iter().map(|c| c.period).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.contains(&period.kind) {
        return format!("no component of {} pays anything here", plan.id);
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    format!(
        "{} pays nothing by {}; its components are paid by {}",
        plan.id,
        period.kind.name(),
        names.join(" and by ")
    )
}

/// Rows as columns two spaces apart, each as wide as its widest cell, after
/// `indent` spaces: the first `left` columns aligned left (text), the others
/// right (amounts); no trailing spaces.
pub fn columns(rows: &[Vec<String>], left: usize, indent: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = " ".repeat(indent);
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if c < left {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

/// What an administrator wants to see first after a run: totals by plan and
/// component, top earners and the spread of attainment.
pub fn summary(ws: &Workspace, people: &Participants, calc: &Calculation, top: usize) -> String {
    let money = ws.money();
    let mut out = String::new();
    let grand = calc.total();
    let paid_people = {
        let mut v: Vec<u32> = calc.payouts.iter().map(|p| p.participant).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let _ = writeln!(
        out,
        "{} — fiscal year {}: {} to {}, total {}",
        ws.name,
        calc.year,
        count(calc.payouts.len(), "payout", "payouts"),
        count(paid_people, "participant", "participants"),
        money.format(grand)
    );

    // By plan and component.
    let _ = writeln!(out, "\ntotals by plan and component:");
    let mut rows = vec![vec![
        "plan".to_string(),
        "component".to_string(),
        "people".to_string(),
        "total".to_string(),
        "share".to_string(),
    ]];
    for (pi, plan) in ws.plans.iter().enumerate() {
        let mut comps: Vec<&str> = plan.components.iter().map(|c| c.id.as_str()).collect();
        comps.sort_unstable();
        for cid in comps {
            let ci = plan
                .components
                .iter()
                .position(|c| c.id == cid)
                .unwrap_or(0);
            let rows_of: Vec<&Payout> = calc
                .payouts
                .iter()
                .filter(|p| p.plan == pi && p.component == ci)
                .collect();
            if rows_of.is_empty() {
                continue;
            }
            let sum: Decimal = rows_of.iter().map(|p| p.amount).sum();
            let mut who: Vec<u32> = rows_of.iter().map(|p| p.participant).collect();
            who.sort_unstable();
            who.dedup();
            let share = if grand.is_zero() {
                String::new()
            } else {
                format_percent(sum / grand, 1)
            };
            rows.push(vec![
                plan.id.clone(),
                cid.to_string(),
                who.len().to_string(),
                money.format(sum),
                share,
            ]);
        }
    }
    out.push_str(&columns(&rows, usize::MAX, 2));

    // Top earners.
    let mut by_person: Vec<(u32, Decimal)> = Vec::new();
    {
        let mut totals: std::collections::BTreeMap<u32, Decimal> =
            std::collections::BTreeMap::new();
        for p in &calc.payouts {
            *totals.entry(p.participant).or_default() += p.amount;
        }
        by_person.extend(totals);
    }
    by_person.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| people.ids[a.0 as usize].cmp(&people.ids[b.0 as usize]))
    });
    let _ = writeln!(out, "\ntop {top} earners:");
    let mut rows = vec![vec![
        "participant".to_string(),
        "plan".to_string(),
        "total".to_string(),
    ]];
    for (p, total) in by_person.iter().take(top) {
        let mut plans: Vec<&str> = calc
            .payouts
            .iter()
            .filter(|x| x.participant == *p)
            .map(|x| ws.plans[x.plan].id.as_str())
            .collect();
        plans.dedup();
        let plan = plans.join(", ");
        let name = ws
            .participants
            .fields
            .iter()
            .position(|f| f.name == "name")
            .and_then(|fi| {
                field_value(
                    &people.fields[fi],
                    *p as usize,
                    &people.text,
                    ws.minor_unit,
                    None,
                )
            })
            .map(|v| match v {
                Value::Text(t) => format!(" ({t})"),
                _ => String::new(),
            })
            .unwrap_or_default();
        rows.push(vec![
            format!("{}{name}", people.ids[*p as usize]),
            plan,
            money.format(*total),
        ]);
    }
    out.push_str(&columns(&rows, usize::MAX, 2));

    // The spread of attainment, one block per measure and quota, counting
    // each participant and period once.
    type Attained = Vec<(u32, Period, Decimal)>;
    let mut groups: std::collections::BTreeMap<(String, String), Attained> =
        std::collections::BTreeMap::new();
    for p in &calc.payouts {
        let mut measure = None;
        let mut quota = None;
        for step in &p.trace.steps {
            match step {
                Step::Measure { name, .. } => measure = Some(name.clone()),
                Step::Quota { name, .. } => quota = Some(name.clone()),
                Step::Attainment { value } => {
                    if let (Some(m), Some(q)) = (&measure, &quota) {
                        groups.entry((m.clone(), q.clone())).or_default().push((
                            p.participant,
                            p.period,
                            *value,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    for ((measure, quota), mut rows) in groups {
        rows.sort_by_key(|r| (r.0, r.1));
        rows.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut attainments: Vec<Decimal> = rows.iter().map(|r| r.2).collect();
        attainments.sort();
        let n = attainments.len();
        let pct = |q: usize| attainments[((n - 1) * q) / 100];
        let _ = writeln!(
            out,
            "\nattainment across {n} participant-periods of {measure} against {quota}: p10 {}, median {}, p90 {}, lowest {}, highest {}",
            format_percent(pct(10), 1),
            format_percent(pct(50), 1),
            format_percent(pct(90), 1),
            format_percent(attainments[0], 1),
            format_percent(attainments[n - 1], 1)
        );
        let buckets = [
            ("below 50%", Decimal::MIN, Decimal::new(5, 1)),
            ("50-80%", Decimal::new(5, 1), Decimal::new(8, 1)),
            ("80-100%", Decimal::new(8, 1), Decimal::ONE),
            ("100-150%", Decimal::ONE, Decimal::new(15, 1)),
            ("150% and above", Decimal::new(15, 1), Decimal::MAX),
        ];
        for (label, lo, hi) in buckets {
            let count = attainments.iter().filter(|a| **a >= lo && **a < hi).count();
            let bar = "#".repeat((count * 40).div_ceil(n.max(1)));
            let _ = writeln!(out, "  {label:<15} {count:>6}  {bar}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::write_decimal;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn written(x: Decimal) -> String {
        let mut buf = String::new();
        write_decimal(&mut buf, x);
        buf
    }

    #[test]
    fn decimals_written_as_displayed() {
        for (x, text) in [
            (Decimal::new(123_456, 2), "1234.56"),
            (Decimal::new(-5, 2), "-0.05"),
            (Decimal::new(100_000, 2), "1000.00"),
            (Decimal::new(7, 0), "7"),
            (Decimal::new(0, 2), "0.00"),
            (Decimal::MAX, "79228162514264337593543950335"),
            (Decimal::MIN, "-79228162514264337593543950335"),
        ] {
            assert_eq!(written(x), text);
            assert_eq!(written(x), x.to_string());
        }
    }

    #[test]
    fn points_and_the_tier_reached_read_plainly() {
        use crate::engine::trace::Step;
        use crate::money::{Rounding, RoundingMode};
        let points = |exact: Decimal| Step::Points {
            exact,
            rounded: exact.round_dp(4),
            rounding: Some(Rounding {
                places: 4,
                mode: RoundingMode::HalfAwayFromZero,
            }),
        };
        let band = |name: &str, amount: i64| Step::Band {
            name: name.into(),
            from: "0%".into(),
            to: "100%".into(),
            portion: Decimal::new(amount, 0),
            rate: Decimal::ONE,
            per_point: true,
            amount: Decimal::new(amount, 0),
        };
        // 31_600 / 410_100 × 100, as the division gives it: 28 digits.
        let exact = Decimal::new(3_160_000, 0) / Decimal::new(410_100, 0);
        let lines = super::trace_lines(
            &[
                points(exact),
                band("base", 5),
                band("accelerator", 2),
                Step::Fixed {
                    amount: Decimal::new(7, 0),
                },
                points(Decimal::new(77_054_875, 6)),
            ],
            &crate::money::Currency::usd(),
        );
        assert_eq!(
            lines,
            [
                "points of attainment ≈ 7.705438 → 7.7054 (rounded to 4 places, half_away_from_zero)",
                "base (0% to 100%): 5 points × $1.00 = $5.00",
                "accelerator (0% to 100%): 2 points × $1.00 = $2.00",
                "tier reached: accelerator",
                "fixed amount $7.00",
                "points of attainment = 77.054875 → 77.0549 (rounded to 4 places, half_away_from_zero)",
            ]
        );
    }

    proptest! {
        #[test]
        fn any_decimal_written_as_displayed(lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(), negative in any::<bool>(), scale in 0u32..=28) {
            let x = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(written(x), x.to_string());
        }

        #[test]
        fn any_64_bit_decimal_written_as_displayed(units in any::<u64>(), negative in any::<bool>(), scale in 0u32..=28) {
            let x = Decimal::from_parts(units as u32, (units >> 32) as u32, 0, negative, scale);
            prop_assert_eq!(written(x), x.to_string());
        }
    }
}
