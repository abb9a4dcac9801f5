//! "If I close this deal, what do I earn?": a hypothetical transaction
//! added to the data, and the payouts it moves recalculated before and
//! after, with the tier each lands in and the explanation.
//!
//! Only the people the deal can move are evaluated
//! ([`engine::incremental::affected`]: the credited, everyone above them,
//! teammates when a measure is shared), with the ordinary engine, so an
//! estimate is exactly what a calculation with the deal would pay them.

use crate::calendar::Period;
use crate::data::{parse_date, parse_minor_units, Participants, Transactions};
use crate::engine::measures::QuotaOverrides;
use crate::engine::trace::{Step, Trace};
use crate::engine::{self, incremental, RunError};
use crate::money::parse_amount;
use crate::plan::{Field, FieldType, Workspace};
use crate::report::step_line;
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The id given to the hypothetical transaction.
pub const ESTIMATE_ID: &str = "ESTIMATE";

/// A deal written as `name=value,name=value`, checked against the
/// transaction schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    /// Field name → value as written (`date` and `amount` included).
    pub values: BTreeMap<String, String>,
    pub date: Date,
    /// Participants the deal credits.
    pub credited: Vec<u32>,
}

/// A problem with the deal: the field, the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealError {
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

fn field_error(field: &str, message: String, hint: Option<String>) -> DealError {
    DealError {
        field: field.to_string(),
        message,
        hint,
    }
}

/// What a field of this type looks like, for messages.
fn expected(f: &Field) -> String {
    match (f.ty, &f.values) {
        (FieldType::Text, Some(values)) => format!("one of {}", quoted(values)),
        (FieldType::Text, None) => "text".into(),
        (FieldType::Participant, _) => "a participant id".into(),
        (FieldType::Money, _) => "an amount of money, like 25000 or 25000.50".into(),
        (FieldType::Integer, _) => "a whole number".into(),
        (FieldType::Decimal, _) => "a number".into(),
        (FieldType::Date, _) => "a date, YYYY-MM-DD".into(),
    }
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `--deal` text for `participant` (credited as the owner unless the
/// deal names one); the date is `default_date` unless the deal gives one.
pub fn parse_deal(
    ws: &Workspace,
    people: &Participants,
    text: &str,
    participant: &str,
    default_date: Date,
) -> Result<Deal, Vec<DealError>> {
    let schema = &ws.transactions;
    let mut names: Vec<String> = vec!["date".into(), "amount".into()];
    names.extend(schema.fields.iter().map(|f| f.name.clone()));
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            errors.push(field_error(
                part,
                format!("`{part}` is not `name=value`"),
                Some("write the deal as `kind=upsell,amount=25000,account=A1`".into()),
            ));
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if !names.iter().any(|n| n == name) {
            errors.push(field_error(
                name,
                format!("no transaction field `{name}`"),
                Some(format!("the fields are {}", quoted(&names))),
            ));
            continue;
        }
        if values.insert(name.to_string(), value.to_string()).is_some() {
            errors.push(field_error(name, format!("`{name}` is given twice"), None));
        }
    }
    let owner = &schema.fields[ws.credit.to];
    values
        .entry(owner.name.clone())
        .or_insert_with(|| participant.to_string());
    let date = match values.get("date") {
        None => default_date,
        Some(d) => match parse_date(d) {
            Some(d) => d,
            None => {
                errors.push(field_error(
                    "date",
                    format!("field `date`: `{d}` is not a date"),
                    Some("write YYYY-MM-DD, like 2026-05-14".into()),
                ));
                default_date
            }
        },
    };
    match values.get("amount") {
        None => errors.push(field_error(
            "amount",
            "field `amount` is missing: the deal needs an amount of money".into(),
            Some("add `amount=25000`".into()),
        )),
        Some(a) => {
            if let Err(e) = check_value(ws, people, &schema.amount, a) {
                errors.push(field_error("amount", format!("field `amount`: {e}"), None));
            }
        }
    }
    let mut credited = Vec::new();
    for f in &schema.fields {
        match values.get(&f.name) {
            None if !f.optional => errors.push(field_error(
                &f.name,
                format!("field `{}` is missing: expected {}", f.name, expected(f)),
                Some(format!("add `{}=...` to the deal", f.name)),
            )),
            None => {}
            Some(v) if v.is_empty() && f.optional => {}
            Some(v) => match check_value(ws, people, f, v) {
                Ok(()) => {
                    if f.ty == FieldType::Participant {
                        if let Some(&p) = people.index.get(v.as_str()) {
                            credited.push(p);
                        }
                    }
                }
                Err(e) => {
                    let hint = match (&f.values, f.ty) {
                        (Some(allowed), _) => crate::expr::closest_value(v, allowed)
                            .map(|c| format!("did you mean `{c}`?")),
                        _ => None,
                    };
                    errors.push(field_error(
                        &f.name,
                        format!("field `{}`: {e}", f.name),
                        hint,
                    ));
                }
            },
        }
    }
    if errors.is_empty() {
        Ok(Deal {
            values,
            date,
            credited,
        })
    } else {
        Err(errors)
    }
}

/// Whether `text` is a valid value of `f`; else what is wrong with it.
fn check_value(ws: &Workspace, people: &Participants, f: &Field, text: &str) -> Result<(), String> {
    let bad = || format!("`{text}` is not {}", expected(f));
    let number = match f.ty {
        FieldType::Money => {
            let units =
                parse_minor_units(text, ws.minor_unit).map_err(|e| format!("{} ({e})", bad()))?;
            Some(Decimal::new(units, ws.minor_unit))
        }
        FieldType::Integer => Some(Decimal::from(text.parse::<i64>().map_err(|_| bad())?)),
        FieldType::Decimal => Some(parse_amount(text).map_err(|_| bad())?),
        FieldType::Date => {
            parse_date(text).ok_or_else(bad)?;
            None
        }
        FieldType::Participant => {
            if !people.index.contains_key(text) {
                return Err(format!("no participant `{text}`"));
            }
            None
        }
        FieldType::Text => {
            if let Some(values) = &f.values {
                if !values.iter().any(|v| v == text) {
                    return Err(bad());
                }
            }
            None
        }
    };
    match (number, f.min) {
        (Some(n), Some(min)) if n < min => Err(format!("`{text}` is below the minimum, {min}")),
        _ => Ok(()),
    }
}

impl Deal {
    /// The deal as a CSV record under `header` (the data's columns).
    pub fn record(&self, ws: &Workspace, header: &[String]) -> String {
        let schema = &ws.transactions;
        let date = self.date.to_string();
        let cells: Vec<String> = header
            .iter()
            .map(|column| {
                let value = if *column == schema.id_column {
                    Some(ESTIMATE_ID)
                } else if *column == schema.date_column {
                    Some(date.as_str())
                } else if *column == schema.amount.column {
                    self.values.get("amount").map(String::as_str)
                } else {
                    schema
                        .fields
                        .iter()
                        .find(|f| f.column == *column)
                        .and_then(|f| self.values.get(&f.name))
                        .map(String::as_str)
                };
                let value = value.unwrap_or("");
                if value.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", value.replace('"', "\"\""))
                } else {
                    value.to_string()
                }
            })
            .collect();
        cells.join(",")
    }
}

/// A payout the deal moves.
#[derive(Debug, Clone, PartialEq)]
pub struct MovedPayout {
    pub participant: u32,
    pub period: Period,
    pub plan: usize,
    pub component: usize,
    pub before: Decimal,
    pub after: Decimal,
    pub tier_before: Option<String>,
    pub tier_after: Option<String>,
    /// The explanation of the amount with the deal.
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// In participant id, period and component id order.
    pub moved: Vec<MovedPayout>,
    /// How many people were recalculated.
    pub recalculated: usize,
}

impl Estimate {
    pub fn total_change(&self) -> Decimal {
        self.moved.iter().map(|m| m.after - m.before).sum()
    }
}

/// The band, tier or gate a payout's explanation ends in.
pub fn tier(trace: &Trace) -> Option<String> {
    let span = |from: &str, to: &str| {
        if to.is_empty() {
            format!("{from} and above")
        } else {
            format!("{from} to {to}")
        }
    };
    let mut out = None;
    for step in &trace.steps {
        match step {
            Step::Gate {
                condition,
                met: false,
            } => {
                return Some(format!("gate not met: {condition}"));
            }
            Step::Band { name, from, to, .. } | Step::RetroactiveBand { name, from, to, .. } => {
                out = Some(format!("{name} ({})", span(from, to)));
            }
            Step::BelowBands { first } => out = Some(format!("below the first band ({first})")),
            Step::Curve { lower, upper, .. } => {
                out = Some(match upper {
                    Some(u) => format!("curve between {} and {}", lower.0, u.0),
                    None => format!("curve at {}", lower.0),
                })
            }
            _ => {}
        }
    }
    out
}

/// Recalculates the people `credited` can move, without and with the deal
/// (`before` and `after` are the same data but for it), and lists each
/// payout that changes.
pub fn estimate(
    ws: &Workspace,
    people: &Participants,
    overrides: &QuotaOverrides,
    year: i16,
    before: &Transactions,
    after: &Transactions,
    credited: &[u32],
) -> Result<Estimate, Vec<RunError>> {
    let affected = incremental::affected(ws, people, credited);
    let was = engine::calculate_for(ws, people, before, overrides, year, Some(&affected))?;
    let is = engine::calculate_for(ws, people, after, overrides, year, Some(&affected))?;
    let key = |p: &engine::Payout| (p.participant, p.period, p.component);
    let old: BTreeMap<_, &engine::Payout> = was.payouts.iter().map(|p| (key(p), p)).collect();
    let mut moved = Vec::new();
    let money = ws.money();
    // Payouts come sorted by participant id, period and component id.
    for p in &is.payouts {
        let prior = old.get(&key(p));
        let before = prior.map_or(Decimal::ZERO, |o| o.amount);
        if before == p.amount {
            continue;
        }
        moved.push(MovedPayout {
            participant: p.participant,
            period: p.period,
            plan: p.plan,
            component: p.component,
            before,
            after: p.amount,
            tier_before: prior.and_then(|o| tier(&o.trace)),
            tier_after: tier(&p.trace),
            explanation: p.trace.steps.iter().map(|s| step_line(s, &money)).collect(),
        });
    }
    Ok(Estimate {
        moved,
        recalculated: affected.len(),
    })
}

/// The estimate as a person reads it.
pub fn render(
    ws: &Workspace,
    people: &Participants,
    deal: &Deal,
    participant: &str,
    e: &Estimate,
) -> String {
    let mut out = String::new();
    let described: Vec<String> = deal
        .values
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    out.push_str(&format!(
        "if {participant} closes {} on {}:\n",
        described.join(", "),
        deal.date
    ));
    if e.moved.is_empty() {
        out.push_str("\nno payout changes\n");
        return out;
    }
    // The person's own payouts first, then those the deal moves above
    // them (overrides) or beside them (team goals).
    let own_first = e
        .moved
        .iter()
        .filter(|m| people.ids[m.participant as usize] == participant)
        .chain(
            e.moved
                .iter()
                .filter(|m| people.ids[m.participant as usize] != participant),
        );
    let money = ws.money();
    for m in own_first {
        let who = &people.ids[m.participant as usize];
        let c = &ws.plans[m.plan].components[m.component];
        let change = m.after - m.before;
        let sign = if change >= Decimal::ZERO { "+" } else { "" };
        out.push_str(&format!(
            "\n{who}  {}  {}: {} -> {} ({sign}{})\n",
            m.period,
            c.id,
            money.format(m.before),
            money.format(m.after),
            money.format(change)
        ));
        let tier_text = |t: &Option<String>| t.clone().unwrap_or_else(|| "no tier".into());
        if m.tier_before.is_some() || m.tier_after.is_some() {
            if m.tier_before == m.tier_after {
                out.push_str(&format!(
                    "    tier: {} (unchanged)\n",
                    tier_text(&m.tier_after)
                ));
            } else {
                out.push_str(&format!(
                    "    tier: {} -> {}\n",
                    tier_text(&m.tier_before),
                    tier_text(&m.tier_after)
                ));
            }
        }
        for line in &m.explanation {
            out.push_str(&format!("    {line}\n"));
        }
    }
    let total = e.total_change();
    let sign = if total >= Decimal::ZERO { "+" } else { "" };
    let own: Decimal = e
        .moved
        .iter()
        .filter(|m| people.ids[m.participant as usize] == participant)
        .map(|m| m.after - m.before)
        .sum();
    let own_sign = if own >= Decimal::ZERO { "+" } else { "" };
    out.push_str(&format!(
        "\n{participant} earns {own_sign}{}; all payouts moved: {sign}{} ({} recalculated)\n",
        money.format(own),
        money.format(total),
        crate::report::count(e.recalculated, "person", "people")
    ));
    out
}
