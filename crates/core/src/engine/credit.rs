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
#[inline]
pub fn div_round(n: i128, d: i128, mode: RoundingMode) -> i128 {
    // Split shares fit in 64 bits, where division is a few cycles; in 128
    // bits it is a call of some tens (once per split, per row).
    let (q, r) = match (i64::try_from(n), i64::try_from(d)) {
        (Ok(n), Ok(d)) if d > 0 => (i128::from(n.div_euclid(d)), i128::from(n.rem_euclid(d))),
        _ => (n.div_euclid(d), n.rem_euclid(d)),
    };
    // 0 <= r < d, n = q*d + r, q = floor
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
    // Ranges of transactions are credited on every core, each straight
    // into its own stretch of the output, so the credits are the same as one
    // pass would make and are written once: the stretches are sized by a
    // first, cheap pass counting the credits of each range.
    let chunks = rayon::current_num_threads().max(1) * 2;
    let size = txns.len().div_ceil(chunks).max(1);
    let range = |k: usize| (k * size).min(txns.len())..((k + 1) * size).min(txns.len());
    let counts: Vec<usize> = (0..chunks)
        .into_par_iter()
        .map(|k| count_range(ws, txns, &include, range(k)))
        .collect();
    let total: usize = counts.iter().sum();
    let mut out = Credits {
        txn: vec![0; total],
        participant: vec![0; total],
        amount: vec![0; total],
        credited_as: vec![CreditedAs::Owner; total],
    };
    let mut stretches: Vec<CreditsMut> = Vec::with_capacity(chunks);
    {
        let (mut txn, mut participant, mut amount, mut credited_as) = (
            &mut out.txn[..],
            &mut out.participant[..],
            &mut out.amount[..],
            &mut out.credited_as[..],
        );
        for &n in &counts {
            let (a, rest_a) = txn.split_at_mut(n);
            let (b, rest_b) = participant.split_at_mut(n);
            let (c, rest_c) = amount.split_at_mut(n);
            let (d, rest_d) = credited_as.split_at_mut(n);
            stretches.push(CreditsMut {
                txn: a,
                participant: b,
                amount: c,
                credited_as: d,
                len: 0,
            });
            (txn, participant, amount, credited_as) = (rest_a, rest_b, rest_c, rest_d);
        }
    }
    let errors: Vec<CreditError> = stretches
        .into_par_iter()
        .enumerate()
        .flat_map_iter(|(k, mut stretch)| credit_range(ws, txns, &include, range(k), &mut stretch))
        .collect();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// [`credit`] on the calling thread alone: for a block of rows that is
/// itself one of many credited at once (a [`super::fold`]).
pub fn credit_serial(
    ws: &Workspace,
    txns: &Transactions,
    include: impl Fn(usize) -> bool + Sync,
) -> Result<Credits, Vec<CreditError>> {
    let total = count_range(ws, txns, &include, 0..txns.len());
    let mut out = Credits {
        txn: vec![0; total],
        participant: vec![0; total],
        amount: vec![0; total],
        credited_as: vec![CreditedAs::Owner; total],
    };
    let mut stretch = CreditsMut {
        txn: &mut out.txn,
        participant: &mut out.participant,
        amount: &mut out.amount,
        credited_as: &mut out.credited_as,
        len: 0,
    };
    let errors = credit_range(ws, txns, &include, 0..txns.len(), &mut stretch);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One range's stretch of the output columns.
struct CreditsMut<'a> {
    txn: &'a mut [u32],
    participant: &'a mut [u32],
    amount: &'a mut [i64],
    credited_as: &'a mut [CreditedAs],
    len: usize,
}

impl CreditsMut<'_> {
    /// Adds a credit; false when the stretch is full, which the counting
    /// pass rules out.
    fn push(&mut self, txn: usize, participant: u32, amount: i64, how: CreditedAs) -> bool {
        let i = self.len;
        if i >= self.txn.len() {
            return false;
        }
        self.txn[i] = txn as u32;
        self.participant[i] = participant;
        self.amount[i] = amount;
        self.credited_as[i] = how;
        self.len += 1;
        true
    }
}

/// How many credits `credit_range` makes over `range`.
fn count_range(
    ws: &Workspace,
    txns: &Transactions,
    include: &(impl Fn(usize) -> bool + Sync),
    range: std::ops::Range<usize>,
) -> usize {
    let Column::Participant(owner) = &txns.fields[ws.credit.to] else {
        return 0;
    };
    let splits: Vec<&[u32]> = ws
        .credit
        .splits
        .iter()
        .filter_map(|s| match &txns.fields[s.to] {
            Column::Participant(to) => Some(&to[..]),
            _ => None,
        })
        .collect();
    range
        .filter(|&i| include(i))
        .map(|i| usize::from(owner[i] != NONE) + splits.iter().filter(|to| to[i] != NONE).count())
        .sum()
}

fn credit_range(
    ws: &Workspace,
    txns: &Transactions,
    include: &(impl Fn(usize) -> bool + Sync),
    range: std::ops::Range<usize>,
    out: &mut CreditsMut,
) -> Vec<CreditError> {
    let Column::Participant(owner) = &txns.fields[ws.credit.to] else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    for i in range {
        if !include(i) {
            continue;
        }
        // The owner's credit is written first and given what the splits
        // leave once they are known.
        let owner_at = out.len;
        if owner[i] != NONE {
            out.push(i, owner[i], 0, CreditedAs::Owner);
        }
        let outcome = credit_row(ws, &StoredRow { txns, i }, i as u32, |to, share| {
            out.push(i, to, share, CreditedAs::Split);
        });
        match outcome {
            Ok(remaining) => {
                if let Some(a) = out.amount.get_mut(owner_at).filter(|_| owner[i] != NONE) {
                    *a = remaining;
                }
            }
            Err(found) => errors.extend(found),
        }
    }
    errors
}

/// What crediting reads of one transaction: a stored row
/// ([`StoredRow`]) or a row not stored yet ([`crate::data::Row`]).
pub trait CreditFields {
    /// In the currency's minor unit.
    fn amount(&self) -> i64;
    /// The participant field `f` names (`NONE`: empty).
    fn participant(&self, f: usize) -> u32;
    /// The split percent in field `f`.
    fn percent(&self, f: usize) -> Percent;
}

/// A split percent as a row holds it.
pub enum Percent {
    Missing,
    Whole(i64),
    Exact(Decimal),
}

/// Row `i` of stored transactions.
pub struct StoredRow<'a> {
    pub txns: &'a Transactions,
    pub i: usize,
}

impl CreditFields for StoredRow<'_> {
    #[inline]
    fn amount(&self) -> i64 {
        self.txns.amount[self.i]
    }

    #[inline]
    fn participant(&self, f: usize) -> u32 {
        match &self.txns.fields[f] {
            Column::Participant(v) => v[self.i],
            _ => NONE,
        }
    }

    #[inline]
    fn percent(&self, f: usize) -> Percent {
        match &self.txns.fields[f] {
            Column::Integer(v) if v[self.i] == MISSING => Percent::Missing,
            Column::Integer(v) => Percent::Whole(v[self.i]),
            Column::Decimal(v) => v[self.i].map_or(Percent::Missing, Percent::Exact),
            _ => Percent::Missing,
        }
    }
}

impl CreditFields for crate::data::Row<'_> {
    #[inline]
    fn amount(&self) -> i64 {
        self.amount
    }

    #[inline]
    fn participant(&self, f: usize) -> u32 {
        self.participant(f)
    }

    #[inline]
    fn percent(&self, f: usize) -> Percent {
        match self.integer(f) {
            MISSING => Percent::Missing,
            p => Percent::Whole(p),
        }
    }
}

/// Credits one transaction, `row` (number `txn`, named in errors): each
/// split share goes to `split` (split owner, amount in minor units), in the
/// order of the plan's splits; what is left is the owner's credit,
/// returned. The owner, when there is none, may keep nothing. Every rule
/// about credits is here, for the columnar pass and the [`super::fold`]
/// alike.
#[inline]
pub fn credit_row(
    ws: &Workspace,
    row: &impl CreditFields,
    txn: u32,
    mut split: impl FnMut(u32, i64),
) -> Result<i64, Vec<CreditError>> {
    let rule = &ws.credit;
    let has_owner = row.participant(rule.to) != NONE;
    let unit = || Decimal::new(1, ws.minor_unit);
    let amount = row.amount();
    let mut remaining = amount;
    let mut errors = Vec::new();
    for s in &rule.splits {
        let to = row.participant(s.to);
        if to == NONE {
            continue;
        }
        let share = match &s.percent {
            SplitPercent::Field(f) => match row.percent(*f) {
                Percent::Missing => None,
                Percent::Whole(p) => Some(div_round(
                    i128::from(amount) * i128::from(p),
                    100,
                    s.rounding,
                )),
                Percent::Exact(pct) => {
                    let exact = Decimal::new(amount, ws.minor_unit) * pct / Decimal::ONE_HUNDRED;
                    let r = round(exact, ws.minor_unit, s.rounding);
                    Some((r / unit()).trunc().mantissa())
                }
            },
            SplitPercent::Fixed(ratio) => {
                let exact = Decimal::new(amount, ws.minor_unit) * ratio;
                Some(
                    (round(exact, ws.minor_unit, s.rounding) / unit())
                        .trunc()
                        .mantissa(),
                )
            }
        };
        let Some(share) = share else {
            errors.push(CreditError {
                txn,
                message: "a split owner is named but the split percent is empty".into(),
            });
            continue;
        };
        let share = i64::try_from(share).unwrap_or(i64::MAX);
        remaining = remaining.saturating_sub(share);
        split(to, share);
    }
    if (amount >= 0 && remaining < 0) || (amount < 0 && remaining > 0) {
        errors.push(CreditError {
            txn,
            message: "the split shares add up to more than 100% of the amount".into(),
        });
    }
    if !has_owner && remaining != 0 {
        errors.push(CreditError {
            txn,
            message: "the transaction has no owner to keep the part not split".into(),
        });
    }
    if errors.is_empty() {
        Ok(remaining)
    } else {
        Err(errors)
    }
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
