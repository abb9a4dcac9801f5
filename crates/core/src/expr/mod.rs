//! The expression language embedded in plans: filters (`kind in ['upsell',
//! 'cross_sell']`), derived measures (`renewal + expansion - contraction`),
//! conditions (`attainment >= 80%`) and payout formulas
//! (`$125 * max(floor(attainment * 100) - 100, 0)`).
//!
//! Staged like the rest of the plan language: [`parse`] turns text into an
//! [`Expr`] with a byte span on every node, [`check`] infers types against
//! the names a context offers, [`eval`] computes a value. Numbers are exact
//! decimals; `7.5%` is 0.075 and `$1_000` is an amount of money.

mod check;
mod eval;
mod parse;

pub use check::{check, closest, Type, TypeEnv};
pub use eval::{eval, EvalError, Scope, Value};
pub use parse::{parse, ParseError};

use crate::money::LiteralKind;
use rust_decimal::Decimal;
use std::ops::Range;

pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(Decimal, LiteralKind),
    Text(String),
    Bool(bool),
    List(Vec<Expr>),
    Name(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    In,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::In => "in",
        }
    }
}

impl Expr {
    /// Every name the expression reads, in order of first appearance (for
    /// dependency ordering, cycle detection and tooling).
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &self.kind {
            ExprKind::Name(n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                items.iter().for_each(|e| e.collect_names(out))
            }
            ExprKind::Unary(_, e) => e.collect_names(out),
            ExprKind::Binary(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
            ExprKind::Number(..) | ExprKind::Text(_) | ExprKind::Bool(_) => {}
        }
    }

    /// Shifts every span by `offset`, to make spans point into the file that
    /// holds the expression.
    pub fn shift(&mut self, offset: usize) {
        self.span = self.span.start + offset..self.span.end + offset;
        match &mut self.kind {
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                items.iter_mut().for_each(|e| e.shift(offset))
            }
            ExprKind::Unary(_, e) => e.shift(offset),
            ExprKind::Binary(_, a, b) => {
                a.shift(offset);
                b.shift(offset);
            }
            ExprKind::Number(..) | ExprKind::Text(_) | ExprKind::Bool(_) | ExprKind::Name(_) => {}
        }
    }
}

/// The allowed text value nearest to `text`, for "did you mean" hints.
pub fn closest_value<'a>(text: &str, values: &'a [String]) -> Option<&'a str> {
    closest(text, values)
}
