//! Files that adjust the plan per participant: quota overrides and
//! effective-dated plan assignments. Both have fixed columns (they are
//! attain's own files, not CRM exports).

use super::{
    bind_columns, csv_error, each_record, parse_date, parse_minor_units, Participants, RowErrors,
};
use crate::calendar::Period;
use crate::diag::Diagnostic;
use crate::engine::measures::QuotaOverrides;
use crate::expr;
use crate::plan::Workspace;
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::io::Read;

/// A plan in force for a participant between two dates (both included;
/// `None`: unbounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub plan: usize,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub line: u64,
}

fn read_rows<R: Read>(
    file: &str,
    reader: R,
    columns: &[(&str, bool)],
    mut row: impl FnMut(u64, &[&str], &mut RowErrors),
) -> Result<(), Vec<Diagnostic>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = rdr
        .headers()
        .map_err(|e| vec![csv_error(file, &e)])?
        .clone();
    let cols = bind_columns(file, &header, columns)?;
    let mut errors = RowErrors::new(file);
    let read_error = each_record(file, &mut rdr, 0, |line, record| {
        let fields: Vec<&str> = cols
            .iter()
            .map(|c| c.and_then(|i| record.get(i)).unwrap_or("").trim())
            .collect();
        row(line, &fields, &mut errors);
    });
    errors.errors.extend(read_error);
    let errors = errors.finish();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn participant(people: &Participants, id: &str, line: u64, errors: &mut RowErrors) -> Option<u32> {
    let found = people.index.get(id).copied();
    if found.is_none() {
        errors.push(
            line,
            1,
            format!("`participant_id` is `{id}`, which is not a participant"),
            Some("every participant must have a row in the participants file".into()),
        );
    }
    found
}

/// Reads `participant_id,quota,period,amount`: a quota amount (before
/// proration) replacing the plan's for one participant and period.
pub fn load_quotas<R: Read>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    reader: R,
) -> Result<QuotaOverrides, Vec<Diagnostic>> {
    let mut out = QuotaOverrides::new();
    let mut first_line: std::collections::HashMap<(usize, u32, Period), u64> =
        std::collections::HashMap::new();
    let names: Vec<String> = ws.quotas.iter().map(|q| q.name.clone()).collect();
    read_rows(
        file,
        reader,
        &[
            ("participant_id", true),
            ("quota", true),
            ("period", true),
            ("amount", true),
        ],
        |line, f, errors| {
            let p = participant(people, f[0], line, errors);
            let q = ws.quota(f[1]);
            if q.is_none() {
                let hint = match expr::closest(f[1], &names) {
                    Some(n) => format!("did you mean `{n}`? quotas: {}", names.join(", ")),
                    None => format!("quotas: {}", names.join(", ")),
                };
                errors.push(
                    line,
                    2,
                    format!(
                        "`quota` is `{}`, which no quota of the workspace is called",
                        f[1]
                    ),
                    Some(hint),
                );
            }
            let period = Period::parse(f[2]);
            if period.is_none() {
                errors.push(
                    line,
                    3,
                    format!("`period` is `{}`, which is not a period", f[2]),
                    Some("write `2026-Q1`, `2026-M03` or `2026`".into()),
                );
            }
            if let (Some(q), Some(period)) = (q, period) {
                let read_in = ws.quota_periods(q);
                if ws.quotas[q].per.is_none()
                    && !read_in.is_empty()
                    && !read_in.contains(&period.kind)
                {
                    let kinds: Vec<&str> = read_in.iter().map(|k| k.name()).collect();
                    errors.push(
                        line,
                        3,
                        format!(
                            "quota `{}` is read by {} components only, but `{}` is a {}: nothing would read this amount",
                            f[1],
                            kinds.join(" and "),
                            f[2],
                            period.kind.name()
                        ),
                        Some(format!("give `{}` for a {}", f[1], kinds.join(" or a "))),
                    );
                }
                if let Some(per) = ws.quotas[q].per {
                    if per != period.kind {
                        errors.push(
                            line,
                            3,
                            format!(
                                "quota `{}` is per {}, but `{}` is a {}",
                                f[1],
                                per.name(),
                                f[2],
                                period.kind.name()
                            ),
                            None,
                        );
                    }
                }
            }
            let amount = match parse_minor_units(f[3], ws.minor_unit) {
                Ok(v) if v < 0 => {
                    errors.push(
                        line,
                        4,
                        format!(
                            "`amount` is `{}`, which is below zero: a quota must be at least 0",
                            f[3]
                        ),
                        None,
                    );
                    None
                }
                Ok(v) => Some(Decimal::new(v, ws.minor_unit)),
                Err(why) => {
                    errors.push(
                        line,
                        4,
                        format!("`amount` is `{}`, which is not an amount: {why}", f[3]),
                        None,
                    );
                    None
                }
            };
            if let (Some(p), Some(q), Some(period), Some(amount)) = (p, q, period, amount) {
                if let Some(first) = first_line.insert((q, p, period), line) {
                    errors.push(line, 1, format!("the quota `{}` of `{}` for {period} is set twice (first on line {first})", f[1], f[0]), None);
                }
                out.insert((q, p, period), amount);
            }
        },
    )?;
    Ok(out)
}

/// Reads `participant_id,plan,start,end` (start and end may be empty: no
/// bound) into `people`'s plan assignments. Assignments of one participant
/// may not overlap.
pub fn load_assignments<R: Read>(
    ws: &Workspace,
    people: &mut Participants,
    file: &str,
    reader: R,
) -> Result<(), Vec<Diagnostic>> {
    let ids: Vec<String> = ws.plans.iter().map(|p| p.id.clone()).collect();
    let mut found: Vec<(u32, Assignment)> = Vec::new();
    read_rows(
        file,
        reader,
        &[
            ("participant_id", true),
            ("plan", true),
            ("start", false),
            ("end", false),
        ],
        |line, f, errors| {
            let p = participant(people, f[0], line, errors);
            let plan = ws.plan(f[1]);
            if plan.is_none() {
                let hint = match expr::closest(f[1], &ids) {
                    Some(n) => format!("did you mean `{n}`? plans: {}", ids.join(", ")),
                    None => format!("plans: {}", ids.join(", ")),
                };
                errors.push(
                    line,
                    2,
                    format!("`plan` is `{}`, which is not a plan of the workspace", f[1]),
                    Some(hint),
                );
            }
            let mut date = |col: usize, name: &str| -> Option<Option<Date>> {
                if f[col].is_empty() {
                    return Some(None);
                }
                match parse_date(f[col]) {
                    Some(d) => Some(Some(d)),
                    None => {
                        errors.push(
                            line,
                            col + 1,
                            format!("`{name}` is `{}`, which is not a date", f[col]),
                            Some("expected YYYY-MM-DD, like 2026-03-31".into()),
                        );
                        None
                    }
                }
            };
            let (from, to) = (date(2, "start"), date(3, "end"));
            if let (Some(Some(a)), Some(Some(b))) = (from, to) {
                if b < a {
                    errors.push(
                        line,
                        4,
                        format!("the assignment ends ({b}) before it starts ({a})"),
                        None,
                    );
                }
            }
            if let (Some(p), Some(plan), Some(from), Some(to)) = (p, plan, from, to) {
                for (q, other) in &found {
                    let overlaps = *q == p
                        && other.from.is_none_or(|s| to.is_none_or(|e| s <= e))
                        && other.to.is_none_or(|e| from.is_none_or(|s| s <= e));
                    if overlaps {
                        errors.push(
                            line,
                            3,
                            format!(
                                "this assignment of `{}` overlaps the one on line {}",
                                f[0], other.line
                            ),
                            Some(
                                "end the earlier assignment the day before the next starts".into(),
                            ),
                        );
                    }
                }
                found.push((
                    p,
                    Assignment {
                        plan,
                        from,
                        to,
                        line,
                    },
                ));
            }
        },
    )?;
    people.assignments = vec![Vec::new(); people.len()];
    for (p, a) in found {
        people.assignments[p as usize].push(a);
    }
    for list in &mut people.assignments {
        list.sort_by_key(|a| a.from);
    }
    Ok(())
}
