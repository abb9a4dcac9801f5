//! Type inference for expressions. Amounts of money and plain numbers
//! (rates, attainment, counts, points) are distinct types, so
//! `grr + 1_000` is an error with a hint to write `$1_000`.

use super::{BinaryOp, Expr, ExprKind, ParseError, UnaryOp};
use crate::money::{LiteralKind, RoundingMode};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Money,
    Number,
    Bool,
    Text,
    Date,
    List(Box<Type>),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Money => f.write_str("money"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("true/false"),
            Type::Text => f.write_str("text"),
            Type::Date => f.write_str("date"),
            Type::List(t) => write!(f, "list of {t}"),
        }
    }
}

/// The names an expression may read where it is written.
pub trait TypeEnv {
    fn type_of(&self, name: &str) -> Option<Type>;
    /// Every name available, for "did you mean" hints.
    fn names(&self) -> Vec<String>;
    /// Whether `count()`, `distinct(field)` and `sum(field)` over a group of
    /// credits are allowed (in a grouped measure's `having`).
    fn group_functions(&self) -> bool {
        false
    }
}

type CheckResult = Result<Type, ParseError>;

fn err(expr: &Expr, message: impl Into<String>) -> ParseError {
    ParseError {
        span: expr.span.clone(),
        message: message.into(),
        hint: None,
    }
}

fn err_hint(expr: &Expr, message: impl Into<String>, hint: impl Into<String>) -> ParseError {
    ParseError {
        span: expr.span.clone(),
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// A plain `0` may stand for no money.
fn is_plain_zero(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Number(v, LiteralKind::Plain) if v.is_zero())
}

/// The type of `e` in `env`, or the first problem found.
pub fn check(e: &Expr, env: &dyn TypeEnv) -> CheckResult {
    match &e.kind {
        ExprKind::Number(_, LiteralKind::Money) => Ok(Type::Money),
        ExprKind::Number(..) => Ok(Type::Number),
        ExprKind::Text(_) => Ok(Type::Text),
        ExprKind::Bool(_) => Ok(Type::Bool),
        ExprKind::List(items) => {
            let mut elem: Option<Type> = None;
            for item in items {
                let t = check(item, env)?;
                match &elem {
                    None => elem = Some(t),
                    Some(prev) if *prev == t => {}
                    Some(prev) => {
                        return Err(err(
                            item,
                            format!("this list holds {prev}, but this item is {t}"),
                        ))
                    }
                }
            }
            Ok(Type::List(Box::new(elem.unwrap_or(Type::Text))))
        }
        ExprKind::Name(name) => env.type_of(name).ok_or_else(|| unknown_name(e, name, env)),
        ExprKind::Unary(UnaryOp::Neg, inner) => match check(inner, env)? {
            t @ (Type::Money | Type::Number) => Ok(t),
            t => Err(err(e, format!("cannot negate {t}"))),
        },
        ExprKind::Unary(UnaryOp::Not, inner) => match check(inner, env)? {
            Type::Bool => Ok(Type::Bool),
            t => Err(err(inner, format!("`not` needs true/false, found {t}"))),
        },
        ExprKind::Binary(op, a, b) => check_binary(e, *op, a, b, env),
        ExprKind::Call(name, args) => check_call(e, name, args, env),
    }
}

fn unknown_name(e: &Expr, name: &str, env: &dyn TypeEnv) -> ParseError {
    let names = env.names();
    let hint = match closest(name, &names) {
        Some(near) => format!("did you mean `{near}`?"),
        None if names.is_empty() => "no names can be used here".to_string(),
        None => {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.truncate(12);
            format!("names that can be used here: {}", sorted.join(", "))
        }
    };
    err_hint(e, format!("unknown name `{name}`"), hint)
}

/// The candidate nearest to `name` by edit distance, if it is near enough to
/// be a plausible typo. Two swapped letters (`yaer`) count as one edit, as
/// they are one slip of the fingers.
pub fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c.as_str())
}

fn check_binary(e: &Expr, op: BinaryOp, a: &Expr, b: &Expr, env: &dyn TypeEnv) -> CheckResult {
    let ta = check(a, env)?;
    let tb = check(b, env)?;
    let money_hint = "write an amount with a `$`, as in `$1_000`";
    match op {
        BinaryOp::And | BinaryOp::Or => {
            for (side, t) in [(a, &ta), (b, &tb)] {
                if *t != Type::Bool {
                    return Err(err(
                        side,
                        format!(
                            "`{}` needs true/false on both sides, found {t}",
                            op.symbol()
                        ),
                    ));
                }
            }
            Ok(Type::Bool)
        }
        BinaryOp::In => match (&ta, &tb) {
            (t, Type::List(elem)) if **elem == *t => Ok(Type::Bool),
            (t, Type::List(elem)) => {
                Err(err(b, format!("`in` compares {t} with a list of {elem}")))
            }
            (_, t) => Err(err_hint(
                b,
                format!("`in` needs a list, found {t}"),
                "write a list as `['upsell', 'cross_sell']`",
            )),
        },
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let same = ta == tb
                || (ta == Type::Money && is_plain_zero(b))
                || (tb == Type::Money && is_plain_zero(a));
            if !same {
                let hint = if ta == Type::Money || tb == Type::Money {
                    money_hint
                } else {
                    "compare values of one type"
                };
                return Err(err_hint(e, format!("cannot compare {ta} with {tb}"), hint));
            }
            let ordered = matches!(ta, Type::Money | Type::Number | Type::Date) || is_plain_zero(a);
            if !matches!(op, BinaryOp::Eq | BinaryOp::Ne) && !ordered {
                return Err(err(
                    e,
                    format!(
                        "`{}` needs numbers, amounts or dates, found {ta}",
                        op.symbol()
                    ),
                ));
            }
            Ok(Type::Bool)
        }
        BinaryOp::Add | BinaryOp::Sub => match (&ta, &tb) {
            (Type::Money, Type::Money) | (Type::Number, Type::Number) => Ok(ta),
            (Type::Money, Type::Number) if is_plain_zero(b) => Ok(Type::Money),
            (Type::Number, Type::Money) if is_plain_zero(a) => Ok(Type::Money),
            (Type::Money, Type::Number) | (Type::Number, Type::Money) => Err(err_hint(
                e,
                format!(
                    "cannot {} money and a number",
                    if op == BinaryOp::Add {
                        "add"
                    } else {
                        "subtract"
                    }
                ),
                money_hint,
            )),
            _ => Err(err(
                e,
                format!(
                    "`{}` needs numbers or amounts, found {ta} and {tb}",
                    op.symbol()
                ),
            )),
        },
        BinaryOp::Mul => match (&ta, &tb) {
            (Type::Number, Type::Number) => Ok(Type::Number),
            (Type::Money, Type::Number) | (Type::Number, Type::Money) => Ok(Type::Money),
            (Type::Money, Type::Money) => Err(err_hint(
                e,
                "multiplying two amounts of money gives no meaningful amount",
                "multiply an amount by a rate or a number, e.g. `nrr * 7.5%`",
            )),
            _ => Err(err(
                e,
                format!("`*` needs numbers or amounts, found {ta} and {tb}"),
            )),
        },
        BinaryOp::Div => match (&ta, &tb) {
            (Type::Number, Type::Number) | (Type::Money, Type::Money) => Ok(Type::Number),
            (Type::Money, Type::Number) => Ok(Type::Money),
            (Type::Number, Type::Money) => Err(err(
                e,
                "dividing a number by an amount of money gives no meaningful value",
            )),
            _ => Err(err(
                e,
                format!("`/` needs numbers or amounts, found {ta} and {tb}"),
            )),
        },
    }
}

fn numeric(e: &Expr, t: Type, what: &str) -> CheckResult {
    match t {
        Type::Money | Type::Number => Ok(t),
        other => Err(err(
            e,
            format!("`{what}` needs a number or an amount, found {other}"),
        )),
    }
}

/// A whole number of decimal places written as a literal.
pub(crate) fn places_literal(e: &Expr) -> Option<u32> {
    match &e.kind {
        ExprKind::Number(v, LiteralKind::Plain) if v.fract().is_zero() && !v.is_sign_negative() => {
            u32::try_from(v.mantissa() / 10i128.pow(v.scale()))
                .ok()
                .filter(|p| *p <= 20)
        }
        _ => None,
    }
}

fn check_call(e: &Expr, name: &str, args: &[Expr], env: &dyn TypeEnv) -> CheckResult {
    let arity = |min: usize, max: usize, usage: &str| -> Result<(), ParseError> {
        if args.len() < min || args.len() > max {
            Err(err_hint(
                e,
                format!(
                    "`{name}` takes {}",
                    if min == max {
                        format!("{min} argument{}", if min == 1 { "" } else { "s" })
                    } else {
                        format!("{min} to {max} arguments")
                    }
                ),
                format!("write `{usage}`"),
            ))
        } else {
            Ok(())
        }
    };
    match name {
        "min" | "max" => {
            if args.len() < 2 {
                return Err(err_hint(
                    e,
                    format!("`{name}` takes two or more arguments"),
                    format!("write `{name}(a, b)`"),
                ));
            }
            let mut result: Option<Type> = None;
            for a in args {
                if is_plain_zero(a) {
                    continue;
                }
                let t = numeric(a, check(a, env)?, name)?;
                match &result {
                    None => result = Some(t),
                    Some(r) if *r == t => {}
                    Some(r) => {
                        return Err(err_hint(
                            a,
                            format!("`{name}` mixes {r} and {t}"),
                            "write an amount with a `$`, as in `$1_000`",
                        ))
                    }
                }
            }
            Ok(result.unwrap_or(Type::Number))
        }
        "abs" => {
            arity(1, 1, "abs(x)")?;
            numeric(&args[0], check(&args[0], env)?, name)
        }
        "floor" | "ceil" | "round" | "round_half_even" | "truncate" => {
            arity(1, 3, &format!("{name}(x, places)"))?;
            let t = numeric(&args[0], check(&args[0], env)?, name)?;
            if let Some(p) = args.get(1) {
                if places_literal(p).is_none() {
                    return Err(err_hint(
                        p,
                        "the number of decimal places must be a whole number from 0 to 20",
                        format!("write `{name}(x, 2)`"),
                    ));
                }
            }
            if let Some(m) = args.get(2) {
                let ok = matches!(&m.kind, ExprKind::Text(t) if RoundingMode::parse(t).is_some());
                if !ok || name != "round" {
                    let names: Vec<&str> = RoundingMode::ALL.iter().map(|m| m.name()).collect();
                    return Err(err_hint(
                        m,
                        "the third argument of `round` names a rounding mode",
                        format!("one of '{}'", names.join("', '")),
                    ));
                }
            }
            Ok(t)
        }
        "if" => {
            arity(3, 3, "if(condition, then, otherwise)")?;
            let c = check(&args[0], env)?;
            if c != Type::Bool {
                return Err(err(
                    &args[0],
                    format!("the condition of `if` must be true/false, found {c}"),
                ));
            }
            let (ta, tb) = (check(&args[1], env)?, check(&args[2], env)?);
            if ta == tb || is_plain_zero(&args[2]) && ta == Type::Money {
                Ok(ta)
            } else if is_plain_zero(&args[1]) && tb == Type::Money {
                Ok(tb)
            } else {
                Err(err(
                    e,
                    format!("both branches of `if` must have one type, found {ta} and {tb}"),
                ))
            }
        }
        "count" | "distinct" | "sum" if env.group_functions() => match name {
            "count" => {
                arity(0, 0, "count()")?;
                Ok(Type::Number)
            }
            _ => {
                arity(1, 1, &format!("{name}(field)"))?;
                let t = check(&args[0], env)?;
                if !matches!(args[0].kind, ExprKind::Name(_)) {
                    return Err(err(&args[0], format!("`{name}` takes the name of a field")));
                }
                if name == "sum" {
                    numeric(&args[0], t, name)
                } else {
                    Ok(Type::Number)
                }
            }
        },
        "count" | "distinct" | "sum" => Err(err_hint(
            e,
            format!(
                "`{name}` works on a group of credits and can only be used in a measure's `having`"
            ),
            "define a measure with `sum`, `count` or `count_distinct` instead",
        )),
        _ => {
            let mut functions: Vec<String> = [
                "min",
                "max",
                "abs",
                "floor",
                "ceil",
                "round",
                "round_half_even",
                "truncate",
                "if",
            ]
            .map(String::from)
            .to_vec();
            if env.group_functions() {
                functions.extend(["count", "distinct", "sum"].map(String::from));
            }
            let hint = match closest(name, &functions) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("functions: {}", functions.join(", ")),
            };
            Err(err_hint(e, format!("unknown function `{name}`"), hint))
        }
    }
}
