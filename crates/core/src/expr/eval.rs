//! Evaluation of checked expressions over exact decimals.

use super::check::places_literal;
use super::{BinaryOp, Expr, ExprKind, Span, UnaryOp};
use crate::money::{round, RoundingMode};
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Money and plain numbers share one exact representation; the checker
    /// has already kept them apart.
    Num(Decimal),
    Bool(bool),
    Text(String),
    Date(Date),
    List(Vec<Value>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) => write!(f, "'{t}'"),
            Value::Date(d) => write!(f, "{d}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub span: Span,
    pub message: String,
}

/// Looks up the value of a name (and, in a group, the group functions).
pub trait Scope {
    fn value(&self, name: &str) -> Option<Value>;
    fn group(&self, _function: &str, _field: Option<&str>) -> Option<Value> {
        None
    }
}

impl<F: Fn(&str) -> Option<Value>> Scope for F {
    fn value(&self, name: &str) -> Option<Value> {
        self(name)
    }
}

fn fail(e: &Expr, message: impl Into<String>) -> EvalError {
    EvalError {
        span: e.span.clone(),
        message: message.into(),
    }
}

fn num(e: &Expr, scope: &dyn Scope) -> Result<Decimal, EvalError> {
    match eval(e, scope)? {
        Value::Num(v) => Ok(v),
        other => Err(fail(e, format!("expected a number, found {other}"))),
    }
}

fn boolean(e: &Expr, scope: &dyn Scope) -> Result<bool, EvalError> {
    match eval(e, scope)? {
        Value::Bool(b) => Ok(b),
        other => Err(fail(e, format!("expected true/false, found {other}"))),
    }
}

/// Evaluates a checked expression. Errors are arithmetic (division by zero,
/// overflow past 28 digits) or names the scope cannot supply.
pub fn eval(e: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    match &e.kind {
        ExprKind::Number(v, _) => Ok(Value::Num(*v)),
        ExprKind::Text(t) => Ok(Value::Text(t.clone())),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::List(items) => items
            .iter()
            .map(|i| eval(i, scope))
            .collect::<Result<_, _>>()
            .map(Value::List),
        ExprKind::Name(n) => scope
            .value(n)
            .ok_or_else(|| fail(e, format!("`{n}` has no value here"))),
        ExprKind::Unary(UnaryOp::Neg, inner) => Ok(Value::Num(-num(inner, scope)?)),
        ExprKind::Unary(UnaryOp::Not, inner) => Ok(Value::Bool(!boolean(inner, scope)?)),
        ExprKind::Binary(BinaryOp::And, a, b) => {
            Ok(Value::Bool(boolean(a, scope)? && boolean(b, scope)?))
        }
        ExprKind::Binary(BinaryOp::Or, a, b) => {
            Ok(Value::Bool(boolean(a, scope)? || boolean(b, scope)?))
        }
        ExprKind::Binary(op, a, b) => {
            let (va, vb) = (eval(a, scope)?, eval(b, scope)?);
            binary(e, *op, va, vb)
        }
        ExprKind::Call(name, args) => call(e, name, args, scope),
    }
}

fn binary(e: &Expr, op: BinaryOp, a: Value, b: Value) -> Result<Value, EvalError> {
    use std::cmp::Ordering;
    let order = |a: &Value, b: &Value| -> Option<Ordering> {
        match (a, b) {
            (Value::Num(x), Value::Num(y)) => Some(x.cmp(y)),
            (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
            (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
            _ => None,
        }
    };
    let overflow = || fail(e, "the result is too large for 28 significant digits");
    match op {
        BinaryOp::In => match b {
            Value::List(items) => Ok(Value::Bool(items.contains(&a))),
            other => Err(fail(e, format!("`in` needs a list, found {other}"))),
        },
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let o = order(&a, &b).ok_or_else(|| fail(e, format!("cannot compare {a} with {b}")))?;
            Ok(Value::Bool(match op {
                BinaryOp::Eq => o == Ordering::Equal,
                BinaryOp::Ne => o != Ordering::Equal,
                BinaryOp::Lt => o == Ordering::Less,
                BinaryOp::Le => o != Ordering::Greater,
                BinaryOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }))
        }
        _ => {
            let (Value::Num(x), Value::Num(y)) = (&a, &b) else {
                return Err(fail(
                    e,
                    format!("`{}` needs numbers, found {a} and {b}", op.symbol()),
                ));
            };
            let r = match op {
                BinaryOp::Add => x.checked_add(*y),
                BinaryOp::Sub => x.checked_sub(*y),
                BinaryOp::Mul => x.checked_mul(*y),
                _ => {
                    if y.is_zero() {
                        return Err(fail(e, "division by zero"));
                    }
                    x.checked_div(*y)
                }
            };
            r.map(Value::Num).ok_or_else(overflow)
        }
    }
}

fn call(e: &Expr, name: &str, args: &[Expr], scope: &dyn Scope) -> Result<Value, EvalError> {
    let places = |i: usize| args.get(i).and_then(places_literal).unwrap_or(0);
    match name {
        "min" | "max" => {
            let mut best: Option<Decimal> = None;
            for a in args {
                let v = num(a, scope)?;
                best = Some(match best {
                    None => v,
                    Some(b) if name == "min" => b.min(v),
                    Some(b) => b.max(v),
                });
            }
            best.map(Value::Num)
                .ok_or_else(|| fail(e, format!("`{name}` needs arguments")))
        }
        "abs" => Ok(Value::Num(num(&args[0], scope)?.abs())),
        "floor" | "ceil" | "round" | "round_half_even" | "truncate" => {
            let x = num(&args[0], scope)?;
            let mode = match name {
                "floor" => RoundingMode::Floor,
                "ceil" => RoundingMode::Ceiling,
                "round_half_even" => RoundingMode::HalfEven,
                "truncate" => RoundingMode::Truncate,
                _ => match args.get(2).map(|m| &m.kind) {
                    Some(ExprKind::Text(t)) => {
                        RoundingMode::parse(t).unwrap_or(RoundingMode::HalfAwayFromZero)
                    }
                    _ => RoundingMode::HalfAwayFromZero,
                },
            };
            Ok(Value::Num(round(x, places(1), mode)))
        }
        "if" => {
            if boolean(&args[0], scope)? {
                eval(&args[1], scope)
            } else {
                eval(&args[2], scope)
            }
        }
        "count" | "distinct" | "sum" => {
            let field = args.first().and_then(|a| match &a.kind {
                ExprKind::Name(n) => Some(n.as_str()),
                _ => None,
            });
            scope.group(name, field).ok_or_else(|| {
                fail(
                    e,
                    format!("`{name}` can only be used on a group of credits"),
                )
            })
        }
        _ => Err(fail(e, format!("unknown function `{name}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check, parse, Type, TypeEnv};
    use super::*;
    use std::str::FromStr;

    struct Env;
    impl TypeEnv for Env {
        fn type_of(&self, name: &str) -> Option<Type> {
            match name {
                "grr" | "nrr" | "quota" => Some(Type::Money),
                "attainment" => Some(Type::Number),
                "kind" => Some(Type::Text),
                _ => None,
            }
        }
        fn names(&self) -> Vec<String> {
            ["grr", "nrr", "quota", "attainment", "kind"]
                .map(String::from)
                .to_vec()
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    fn run(src: &str) -> Result<String, String> {
        let e = parse(src).map_err(|e| e.message)?;
        check(&e, &Env).map_err(|e| format!("{} ({})", e.message, e.hint.unwrap_or_default()))?;
        let scope = |n: &str| match n {
            "grr" => Some(Value::Num(d("332500.00"))),
            "nrr" => Some(Value::Num(d("360000"))),
            "quota" => Some(Value::Num(d("300000"))),
            "attainment" => Some(Value::Num(d("1.2"))),
            "kind" => Some(Value::Text("upsell".into())),
            _ => None,
        };
        eval(&e, &scope)
            .map(|v| v.to_string())
            .map_err(|e| e.message)
    }

    #[test]
    fn brief_formulas() {
        // NRR plan: 20% over quota pays $2,500.
        assert_eq!(
            run("$125 * max(floor(nrr * 100 / quota) - 100, 0)"),
            Ok("2500".into())
        );
        // GRR plan: qualifying bonus plus $125 per whole $1,000 over quota.
        assert_eq!(
            run("$1_000 + $125 * floor(max(grr - quota, 0) / $1_000)"),
            Ok("5000".into())
        );
        assert_eq!(
            run("kind in ['upsell', 'cross_sell'] and attainment >= 80%"),
            Ok("true".into())
        );
        assert_eq!(run("round(2 / 3, 6)"), Ok("0.666667".into()));
        assert_eq!(run("round(0.125, 2, 'half_even')"), Ok("0.12".into()));
        assert_eq!(run("if(grr > 0, grr, 0)"), Ok("332500.00".into()));
    }

    #[test]
    fn types_keep_money_apart() {
        assert_eq!(
            run("grr + 1_000"),
            Err(
                "cannot add money and a number (write an amount with a `$`, as in `$1_000`)".into()
            )
        );
        assert_eq!(
            run("grr * nrr").map_err(|e| e.starts_with("multiplying two amounts")),
            Err(true)
        );
        assert_eq!(run("grr > 0"), Ok("true".into()));
        assert_eq!(
            run("nrer > 0"),
            Err("unknown name `nrer` (did you mean `nrr`?)".into())
        );
        assert_eq!(
            run("kind == 3").map_err(|e| e.starts_with("cannot compare text")),
            Err(true)
        );
    }

    #[test]
    fn an_unknown_function_suggests_the_nearest() {
        assert_eq!(
            run("flor(nrr)"),
            Err("unknown function `flor` (did you mean `floor`?)".into())
        );
        assert_eq!(
            run("maxx(nrr, grr)"),
            Err("unknown function `maxx` (did you mean `max`?)".into())
        );
        assert_eq!(
            run("percentile(nrr)"),
            Err("unknown function `percentile` (functions: min, max, abs, floor, ceil, round, round_half_even, truncate, if)".into())
        );
    }

    #[test]
    fn division_by_zero_is_an_error() {
        assert_eq!(run("nrr / (quota - quota)"), Err("division by zero".into()));
    }
}
