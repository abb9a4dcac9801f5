//! Crediting: who gets how much of each transaction.
//!
//! The owner is credited the whole amount less the split shares; each split
//! share is rounded to the minor unit by its rule, so credits always add up
//! to the transaction exactly.

use crate::data::{Column, Participants, Transactions, MISSING, NONE};
use crate::money::{round, RoundingMode};
use crate::plan::{CreditedAs, SplitPercent, Workspace};
use rayon::prelude::*;
use rust_decimal::Decimal;

/// Credits in columns, grouped by transaction in transaction order.
#[derive(Debug, Clone, Default)]
pub struct Credits {
    pub txn: Vec<u32>,
    pub participant: Vec<u32>,
    /// In the currency's minor unit.
    pub amount: Vec<i64>,
    pub credited_as: Vec<CreditedAs>,
}

impl Credits {
    pub fn len(&self) -> usize {
        self.txn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txn.is_empty()
    }
}

/// Divides exactly and rounds by `mode`; `d > 0`.
pub fn div_round(n: i128, d: i128, mode: RoundingMode) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d); // 0 <= r < d, n = q*d + r, q = floor
    if r == 0 {
        return q;
    }
    match mode {
        RoundingMode::Floor => q,
        RoundingMode::Ceiling => q + 1,
        RoundingMode::Truncate => {
            if n < 0 {
                q + 1
            } else {
                q
            }
        }
        RoundingMode::HalfAwayFromZero | RoundingMode::HalfEven => match (2 * r).cmp(&d) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => match mode {
                RoundingMode::HalfEven => {
                    if q % 2 == 0 {
                        q
                    } else {
                        q + 1
                    }
                }
                _ => {
                    if n < 0 {
                        q
                    } else {
                        q + 1
                    }
                }
            },
        },
    }
}

/// A transaction that cannot be credited as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditError {
    pub txn: u32,
    pub message: String,
}

/// Credits every transaction accepted by `include`.
pub fn credit(
    ws: &Workspace,
    _people: &Participants,
    txns: &Transactions,
    include: impl Fn(usize) -> bool + Sync,
) -> Result<Credits, Vec<CreditError>> {
    // Ranges of transactions are credited on every core and joined in
    // order, so the credits are the same as one pass would make.
    let chunks = rayon::current_num_threads().max(1) * 2;
    let size = txns.len().div_ceil(chunks).max(1);
    let parts: Vec<(Credits, Vec<CreditError>)> = (0..chunks)
        .into_par_iter()
        .map(|k| {
            credit_range(
                ws,
                txns,
                &include,
                (k * size).min(txns.len())..((k + 1) * size).min(txns.len()),
            )
        })
        .collect();
    let total: usize = parts.iter().map(|(c, _)| c.len()).sum();
    let mut out = Credits {
        txn: Vec::with_capacity(total),
        participant: Vec::with_capacity(total),
        amount: Vec::with_capacity(total),
        credited_as: Vec::with_capacity(total),
    };
    let mut errors = Vec::new();
    for (c, e) in parts {
        out.txn.extend_from_slice(&c.txn);
        out.participant.extend_from_slice(&c.participant);
        out.amount.extend_from_slice(&c.amount);
        out.credited_as.extend_from_slice(&c.credited_as);
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn credit_range(
    ws: &Workspace,
    txns: &Transactions,
    include: &(impl Fn(usize) -> bool + Sync),
    range: std::ops::Range<usize>,
) -> (Credits, Vec<CreditError>) {
    let rule = &ws.credit;
    let Column::Participant(owner) = &txns.fields[rule.to] else {
        return (Credits::default(), Vec::new());
    };
    let unit = Decimal::new(1, ws.minor_unit);
    let mut out = Credits::default();
    let mut errors = Vec::new();
    for i in range {
        if !include(i) {
            continue;
        }
        let amount = txns.amount[i];
        let mut remaining = amount;
        let owner_at = out.len();
        if owner[i] != NONE {
            out.txn.push(i as u32);
            out.participant.push(owner[i]);
            out.amount.push(0);
            out.credited_as.push(CreditedAs::Owner);
        }
        for split in &rule.splits {
            let Column::Participant(to) = &txns.fields[split.to] else {
                continue;
            };
            if to[i] == NONE {
                continue;
            }
            let share = match &split.percent {
                SplitPercent::Field(f) => match &txns.fields[*f] {
                    Column::Integer(v) if v[i] == MISSING => None,
                    Column::Integer(v) => Some(div_round(
                        i128::from(amount) * i128::from(v[i]),
                        100,
                        split.rounding,
                    )),
                    Column::Decimal(v) => v[i].map(|pct| {
                        let exact =
                            Decimal::new(amount, ws.minor_unit) * pct / Decimal::ONE_HUNDRED;
                        let r = round(exact, ws.minor_unit, split.rounding);
                        (r / unit).trunc().mantissa()
                    }),
                    _ => None,
                },
                SplitPercent::Fixed(ratio) => {
                    let exact = Decimal::new(amount, ws.minor_unit) * ratio;
                    Some(
                        (round(exact, ws.minor_unit, split.rounding) / unit)
                            .trunc()
                            .mantissa(),
                    )
                }
            };
            let Some(share) = share else {
                errors.push(CreditError {
                    txn: i as u32,
                    message: "a split owner is named but the split percent is empty".into(),
                });
                continue;
            };
            let share = i64::try_from(share).unwrap_or(i64::MAX);
            remaining -= share;
            out.txn.push(i as u32);
            out.participant.push(to[i]);
            out.amount.push(share);
            out.credited_as.push(CreditedAs::Split);
        }
        if (amount >= 0 && remaining < 0) || (amount < 0 && remaining > 0) {
            errors.push(CreditError {
                txn: i as u32,
                message: "the split shares add up to more than 100% of the amount".into(),
            });
        }
        if owner[i] != NONE {
            out.amount[owner_at] = remaining;
        } else if remaining != 0 {
            errors.push(CreditError {
                txn: i as u32,
                message: "the transaction has no owner to keep the part not split".into(),
            });
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_rounding_modes() {
        let m = RoundingMode::HalfAwayFromZero;
        assert_eq!(div_round(250, 100, m), 3);
        assert_eq!(div_round(-250, 100, m), -3);
        assert_eq!(div_round(249, 100, m), 2);
        assert_eq!(div_round(250, 100, RoundingMode::HalfEven), 2);
        assert_eq!(div_round(350, 100, RoundingMode::HalfEven), 4);
        assert_eq!(div_round(-299, 100, RoundingMode::Floor), -3);
        assert_eq!(div_round(-299, 100, RoundingMode::Truncate), -2);
        assert_eq!(div_round(201, 100, RoundingMode::Ceiling), 3);
    }
}
