//! Credit filters compiled against the loaded data: the common shapes
//! (`kind in [...]`, `credited_as == 'owner'`) become comparisons of
//! interned ids; anything else falls back to the general evaluator.

use super::credit::Credits;
use crate::data::{Column, Transactions, MISSING, NONE};
use crate::expr::{eval, BinaryOp, Expr, ExprKind, UnaryOp, Value};
use crate::plan::{CreditedAs, TransactionSchema, Workspace};
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
pub enum Filter {
    All,
    TextIn {
        column: usize,
        ids: Vec<u32>,
        negate: bool,
    },
    CreditedAs {
        which: CreditedAs,
        negate: bool,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    General(Expr),
}

impl Filter {
    pub fn compile(expr: Option<&Expr>, schema: &TransactionSchema, txns: &Transactions) -> Filter {
        match expr {
            None => Filter::All,
            Some(e) => compile(e, schema, txns),
        }
    }

    /// Whether credit `c` passes.
    pub fn matches(&self, view: &CreditView, c: usize) -> bool {
        match self {
            Filter::All => true,
            Filter::TextIn {
                column,
                ids,
                negate,
            } => match &view.txns.fields[*column] {
                Column::Text(v) => ids.contains(&v[view.credits.txn[c] as usize]) != *negate,
                _ => false,
            },
            Filter::CreditedAs { which, negate } => {
                (view.credits.credited_as[c] == *which) != *negate
            }
            Filter::And(a, b) => a.matches(view, c) && b.matches(view, c),
            Filter::Or(a, b) => a.matches(view, c) || b.matches(view, c),
            Filter::Not(a) => !a.matches(view, c),
            Filter::General(e) => {
                let scope = |name: &str| view.value(c, name);
                matches!(eval(e, &scope), Ok(Value::Bool(true)))
            }
        }
    }
}

impl Filter {
    /// Whether the filter reads nothing but `credited_as` and one interned
    /// text column (recorded in `column`, which must agree with the other
    /// filters given the same `column`): its outcome is then a function of
    /// that column's text id and `credited_as`, computed once per pair
    /// instead of once per credit.
    pub fn by_class(&self, column: &mut Option<usize>) -> bool {
        match self {
            Filter::All | Filter::CreditedAs { .. } => true,
            Filter::TextIn { column: c, .. } => match column {
                Some(k) => k == c,
                None => {
                    *column = Some(*c);
                    true
                }
            },
            Filter::And(a, b) | Filter::Or(a, b) => a.by_class(column) && b.by_class(column),
            Filter::Not(a) => a.by_class(column),
            Filter::General(_) => false,
        }
    }

    /// The outcome for a credit whose text id (in the column of
    /// [`Filter::by_class`]) is `text` and credited as `how`.
    pub fn matches_class(&self, text: u32, how: CreditedAs) -> bool {
        match self {
            Filter::All => true,
            Filter::TextIn { ids, negate, .. } => ids.contains(&text) != *negate,
            Filter::CreditedAs { which, negate } => (how == *which) != *negate,
            Filter::And(a, b) => a.matches_class(text, how) && b.matches_class(text, how),
            Filter::Or(a, b) => a.matches_class(text, how) || b.matches_class(text, how),
            Filter::Not(a) => !a.matches_class(text, how),
            Filter::General(_) => false,
        }
    }
}

/// Filters that read only `credited_as` and one interned text column, as a
/// table: each credit's class (its text id in that column and whether it is
/// a split) says at once which of the filters it passes.
pub struct ClassMasks<'a> {
    text_ids: Option<&'a [u32]>,
    table: ClassTable,
}

/// The table of [`ClassMasks`] without the rows it reads: for rows seen
/// one at a time, before they are stored.
#[derive(Debug, Clone)]
pub struct ClassTable {
    /// The text column the filters read, if any.
    column: Option<usize>,
    /// Bit j set: filter j passes. Class = (text id + 1, NONE → 0) × 2 + split.
    masks: Vec<u64>,
}

impl ClassTable {
    /// The text column whose id, with whether the credit is a split, is
    /// its class; `None` when no filter reads text.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// Which filters a credit passes whose text id (in [`Self::column`];
    /// `NONE` when there is none) is `text`.
    #[inline]
    pub fn mask(&self, text: u32, split: bool) -> u64 {
        let text = if self.column.is_some() {
            text.wrapping_add(1) as usize
        } else {
            0
        };
        self.masks
            .get(text * 2 + usize::from(split))
            .copied()
            .unwrap_or(0)
    }
}

impl<'a> ClassMasks<'a> {
    /// `None` when some filter reads anything else, or there are more than
    /// 64 filters or too many text values for a table.
    pub fn new(filters: &[&Filter], txns: &'a Transactions) -> Option<ClassMasks<'a>> {
        let mut column = None;
        if filters.len() > 64
            || txns.text.len() >= 1 << 12
            || !filters.iter().all(|f| f.by_class(&mut column))
        {
            return None;
        }
        let text_ids: Option<&[u32]> = match column.map(|c| &txns.fields[c]) {
            Some(Column::Text(v)) => Some(v),
            Some(_) => return None,
            None => None,
        };
        let masks = (0..(txns.text.len() + 1) * 2)
            .map(|class| {
                let text = ((class / 2) as u32).wrapping_sub(1);
                let how = if class % 2 == 1 {
                    CreditedAs::Split
                } else {
                    CreditedAs::Owner
                };
                filters
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.matches_class(text, how))
                    .fold(0u64, |m, (j, _)| m | 1 << j)
            })
            .collect();
        Some(ClassMasks {
            text_ids,
            table: ClassTable { column, masks },
        })
    }

    /// The table alone, for rows not stored yet.
    pub fn table(&self) -> ClassTable {
        self.table.clone()
    }

    /// Which filters credit `c` of transaction `t` passes.
    #[inline]
    pub fn of(&self, credits: &Credits, c: usize, t: usize) -> u64 {
        self.table.masks[self.class(credits, c, t)]
    }

    /// The class of credit `c` of transaction `t`, below [`ClassMasks::len`].
    #[inline]
    pub fn class(&self, credits: &Credits, c: usize, t: usize) -> usize {
        let text = self.text_ids.map_or(0, |v| v[t].wrapping_add(1) as usize);
        let split = credits.credited_as[c] == CreditedAs::Split;
        text * 2 + usize::from(split)
    }

    /// The class of a credit of transaction `t`, by whether it is a split.
    #[inline]
    pub fn class_of_row(&self, t: usize, split: bool) -> usize {
        let text = self.text_ids.map_or(0, |v| v[t].wrapping_add(1) as usize);
        text * 2 + usize::from(split)
    }

    /// How many classes there are.
    pub fn len(&self) -> usize {
        self.table.masks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.masks.is_empty()
    }

    /// Which filters the credits of `class` pass.
    pub fn mask(&self, class: usize) -> u64 {
        self.table.masks.get(class).copied().unwrap_or(0)
    }
}

/// Credits with the transactions they come from: what filters and group
/// functions read.
#[derive(Clone, Copy)]
pub struct CreditView<'a> {
    pub schema: &'a TransactionSchema,
    pub txns: &'a Transactions,
    pub credits: &'a Credits,
    pub minor_unit: u32,
}

impl<'a> CreditView<'a> {
    pub fn new(ws: &'a Workspace, txns: &'a Transactions, credits: &'a Credits) -> CreditView<'a> {
        CreditView {
            schema: &ws.transactions,
            txns,
            credits,
            minor_unit: ws.minor_unit,
        }
    }

    /// The value of a name in a credit filter, for credit `c`.
    pub fn value(&self, c: usize, name: &str) -> Option<Value> {
        let txn = self.credits.txn[c] as usize;
        match name {
            "amount" => Some(Value::Num(Decimal::new(
                self.txns.amount[txn],
                self.minor_unit,
            ))),
            "credit" => Some(Value::Num(Decimal::new(
                self.credits.amount[c],
                self.minor_unit,
            ))),
            "date" => Some(Value::Date(self.txns.date[txn])),
            "credited_as" => Some(Value::Text(self.credits.credited_as[c].name().to_string())),
            _ => {
                let f = self.schema.field(name)?;
                field_value(
                    &self.txns.fields[f],
                    txn,
                    &self.txns.text,
                    self.minor_unit,
                    None,
                )
            }
        }
    }
}

/// A field's value in one row; missing values are empty text or zero.
pub fn field_value(
    column: &Column,
    row: usize,
    text: &crate::data::Interner,
    minor_unit: u32,
    participant_ids: Option<&[String]>,
) -> Option<Value> {
    Some(match column {
        Column::Raw(r) => Value::Text(r.get(row).to_string()),
        Column::Text(v) => Value::Text(if v[row] == NONE {
            String::new()
        } else {
            text.text(v[row]).to_string()
        }),
        Column::Participant(v) => Value::Text(match (v[row], participant_ids) {
            (NONE, _) | (_, None) => String::new(),
            (i, Some(ids)) => ids.get(i as usize).cloned().unwrap_or_default(),
        }),
        Column::Money(v) => Value::Num(if v[row] == MISSING {
            Decimal::ZERO
        } else {
            Decimal::new(v[row], minor_unit)
        }),
        Column::Integer(v) => Value::Num(if v[row] == MISSING {
            Decimal::ZERO
        } else {
            Decimal::from(v[row])
        }),
        Column::Decimal(v) => Value::Num(v[row].unwrap_or_default()),
        Column::Date(v) => return v[row].map(Value::Date),
    })
}

fn text_literals(e: &Expr) -> Option<Vec<&str>> {
    match &e.kind {
        ExprKind::Text(t) => Some(vec![t.as_str()]),
        ExprKind::List(items) => items
            .iter()
            .map(|i| match &i.kind {
                ExprKind::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn compile(e: &Expr, schema: &TransactionSchema, txns: &Transactions) -> Filter {
    match &e.kind {
        ExprKind::Bool(true) => Filter::All,
        ExprKind::Binary(BinaryOp::And, a, b) => Filter::And(
            Box::new(compile(a, schema, txns)),
            Box::new(compile(b, schema, txns)),
        ),
        ExprKind::Binary(BinaryOp::Or, a, b) => Filter::Or(
            Box::new(compile(a, schema, txns)),
            Box::new(compile(b, schema, txns)),
        ),
        ExprKind::Unary(UnaryOp::Not, a) => Filter::Not(Box::new(compile(a, schema, txns))),
        ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne | BinaryOp::In), a, b) => {
            let negate = *op == BinaryOp::Ne;
            if let (ExprKind::Name(n), Some(lits)) = (&a.kind, text_literals(b)) {
                if n == "credited_as" && lits.len() == 1 {
                    let which = if lits[0] == "owner" {
                        Some(CreditedAs::Owner)
                    } else if lits[0] == "split" {
                        Some(CreditedAs::Split)
                    } else {
                        None
                    };
                    if let Some(which) = which {
                        return Filter::CreditedAs { which, negate };
                    }
                }
                if let Some(f) = schema.field(n) {
                    if matches!(txns.fields[f], Column::Text(_)) {
                        // A literal absent from the data matches nothing.
                        let ids = lits.iter().filter_map(|l| txns.text.get(l)).collect();
                        return Filter::TextIn {
                            column: f,
                            ids,
                            negate,
                        };
                    }
                }
            }
            Filter::General(e.clone())
        }
        _ => Filter::General(e.clone()),
    }
}
