//! Text to [`Expr`]: a hand-written lexer and precedence-climbing parser.
//! Precedence, loosest first: `or`, `and`, `not`, comparisons and `in`,
//! `+ -`, `* /`, unary `-`, calls and literals.

use super::{BinaryOp, Expr, ExprKind, Span, UnaryOp};
use crate::money::{parse_literal, NumberError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl ParseError {
    fn new(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            span,
            message: message.into(),
            hint: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(String),
    Text(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    End,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn next(&mut self) -> Result<(Tok, Span), ParseError> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = bytes.get(start) else {
            return Ok((Tok::End, start..start));
        };
        let single = |tok: Tok, lexer: &mut Self| {
            lexer.pos += 1;
            Ok((tok, start..start + 1))
        };
        match c {
            b'(' => single(Tok::LParen, self),
            b')' => single(Tok::RParen, self),
            b'[' => single(Tok::LBracket, self),
            b']' => single(Tok::RBracket, self),
            b',' => single(Tok::Comma, self),
            b'+' => single(Tok::Op("+"), self),
            b'-' => single(Tok::Op("-"), self),
            b'*' => single(Tok::Op("*"), self),
            b'/' => single(Tok::Op("/"), self),
            b'=' | b'!' | b'<' | b'>' => {
                let two = self.src.get(start..start + 2).unwrap_or("");
                let op = match two {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ => match c {
                        b'<' => "<",
                        b'>' => ">",
                        b'=' => {
                            return Err(ParseError::new(start..start + 1, "`=` is not an operator")
                                .with_hint("compare with `==`"))
                        }
                        _ => {
                            return Err(ParseError::new(start..start + 1, "`!` is not an operator")
                                .with_hint("write `not` to negate, `!=` to compare"))
                        }
                    },
                };
                self.pos += op.len();
                Ok((Tok::Op(op), start..self.pos))
            }
            b'\'' | b'"' => {
                let quote = c;
                let rest = &self.src[start + 1..];
                match rest.bytes().position(|b| b == quote) {
                    Some(len) => {
                        self.pos = start + 1 + len + 1;
                        Ok((Tok::Text(rest[..len].to_string()), start..self.pos))
                    }
                    None => Err(ParseError::new(
                        start..self.src.len(),
                        "this text is never closed",
                    )
                    .with_hint(format!("end it with {}", quote as char))),
                }
            }
            b'0'..=b'9' | b'$' | b'.' => {
                let mut end = start + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_digit() || matches!(bytes[end], b'_' | b'.'))
                {
                    end += 1;
                }
                if end < bytes.len() && bytes[end] == b'%' {
                    end += 1;
                }
                self.pos = end;
                Ok((Tok::Number(self.src[start..end].to_string()), start..end))
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = start + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'.'))
                {
                    end += 1;
                }
                self.pos = end;
                Ok((Tok::Ident(self.src[start..end].to_string()), start..end))
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                Err(ParseError::new(
                    start..start + ch.len_utf8(),
                    format!("unexpected character `{ch}`"),
                ))
            }
        }
    }
}

impl ParseError {
    fn with_hint(mut self, hint: impl Into<String>) -> ParseError {
        self.hint = Some(hint.into());
        self
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Tok,
    span: Span,
    depth: usize,
}

/// How deeply expressions may nest; deeper input is an error, not a stack
/// overflow.
const MAX_DEPTH: usize = 64;

/// Parses one expression; spans are byte offsets into `src`.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut lexer = Lexer { src, pos: 0 };
    let (tok, span) = lexer.next()?;
    let mut p = Parser {
        lexer,
        tok,
        span,
        depth: 0,
    };
    if p.tok == Tok::End {
        return Err(ParseError::new(0..src.len(), "the expression is empty"));
    }
    let e = p.expr()?;
    if p.tok != Tok::End {
        return Err(
            ParseError::new(p.span.clone(), format!("unexpected {}", describe(&p.tok)))
                .with_hint("an operator such as `+`, `and` or `==` may be missing"),
        );
    }
    Ok(e)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Number(n) => format!("number `{n}`"),
        Tok::Text(t) => format!("text '{t}'"),
        Tok::Ident(i) => format!("name `{i}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "end of the expression".into(),
    }
}

impl Parser<'_> {
    fn bump(&mut self) -> Result<(Tok, Span), ParseError> {
        let (tok, span) = self.lexer.next()?;
        let old_tok = std::mem::replace(&mut self.tok, tok);
        let old_span = std::mem::replace(&mut self.span, span);
        Ok((old_tok, old_span))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Span, ParseError> {
        if self.tok == tok {
            Ok(self.bump()?.1)
        } else {
            Err(ParseError::new(
                self.span.clone(),
                format!("expected {what}, found {}", describe(&self.tok)),
            ))
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Ident(w) if w == word)
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(
                self.span.clone(),
                "the expression nests too deeply",
            ));
        }
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
        let span = a.span.start..b.span.end;
        Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            span,
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.and()?;
        while self.is_word("or") {
            self.bump()?;
            let rhs = self.and()?;
            e = Self::binary(BinaryOp::Or, e, rhs);
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.not()?;
        while self.is_word("and") {
            self.bump()?;
            let rhs = self.not()?;
            e = Self::binary(BinaryOp::And, e, rhs);
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_word("not") {
            let (_, span) = self.bump()?;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError::new(span, "the expression nests too deeply"));
            }
            let inner = self.not()?;
            self.depth -= 1;
            let span = span.start..inner.span.end;
            return Ok(Expr {
                kind: ExprKind::Unary(UnaryOp::Not, Box::new(inner)),
                span,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let lhs = self.additive()?;
        let op = match &self.tok {
            Tok::Op("==") => BinaryOp::Eq,
            Tok::Op("!=") => BinaryOp::Ne,
            Tok::Op("<") => BinaryOp::Lt,
            Tok::Op("<=") => BinaryOp::Le,
            Tok::Op(">") => BinaryOp::Gt,
            Tok::Op(">=") => BinaryOp::Ge,
            Tok::Ident(w) if w == "in" => BinaryOp::In,
            _ => return Ok(lhs),
        };
        self.bump()?;
        let rhs = self.additive()?;
        if matches!(self.tok, Tok::Op("==" | "!=" | "<" | "<=" | ">" | ">=")) {
            return Err(
                ParseError::new(self.span.clone(), "comparisons cannot be chained")
                    .with_hint("join two comparisons with `and`"),
            );
        }
        Ok(Self::binary(op, lhs, rhs))
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.multiplicative()?;
        loop {
            let op = match self.tok {
                Tok::Op("+") => BinaryOp::Add,
                Tok::Op("-") => BinaryOp::Sub,
                _ => return Ok(e),
            };
            self.bump()?;
            let rhs = self.multiplicative()?;
            e = Self::binary(op, e, rhs);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.unary()?;
        loop {
            let op = match self.tok {
                Tok::Op("*") => BinaryOp::Mul,
                Tok::Op("/") => BinaryOp::Div,
                _ => return Ok(e),
            };
            self.bump()?;
            let rhs = self.unary()?;
            e = Self::binary(op, e, rhs);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.tok == Tok::Op("-") {
            let (_, span) = self.bump()?;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError::new(span, "the expression nests too deeply"));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            let span = span.start..inner.span.end;
            return Ok(Expr {
                kind: ExprKind::Unary(UnaryOp::Neg, Box::new(inner)),
                span,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let (tok, span) = self.bump()?;
        match tok {
            Tok::Number(text) => match parse_literal(&text) {
                Ok((value, kind)) => Ok(Expr {
                    kind: ExprKind::Number(value, kind),
                    span,
                }),
                Err(e) => Err(
                    ParseError::new(span, format!("`{text}` is not a number: {e}")).with_hint(
                        match e {
                            NumberError::TooPrecise => "attain keeps 28 significant digits",
                            _ => "write numbers as `300_000`, `0.075`, `7.5%` or `$1_000`",
                        },
                    ),
                ),
            },
            Tok::Text(t) => Ok(Expr {
                kind: ExprKind::Text(t),
                span,
            }),
            Tok::Ident(name) => match name.as_str() {
                "true" | "false" => Ok(Expr {
                    kind: ExprKind::Bool(name == "true"),
                    span,
                }),
                "and" | "or" | "not" | "in" => Err(ParseError::new(
                    span,
                    format!("expected a value, found the keyword `{name}`"),
                )),
                _ if self.tok == Tok::LParen => {
                    self.bump()?;
                    let args = self.list(Tok::RParen, "`)`")?;
                    let end = self.expect(Tok::RParen, "`)` to close the call")?;
                    Ok(Expr {
                        kind: ExprKind::Call(name, args),
                        span: span.start..end.end,
                    })
                }
                _ => Ok(Expr {
                    kind: ExprKind::Name(name),
                    span,
                }),
            },
            Tok::LParen => {
                let mut inner = self.expr()?;
                let end = self.expect(Tok::RParen, "`)`")?;
                inner.span = span.start..end.end;
                Ok(inner)
            }
            Tok::LBracket => {
                let items = self.list(Tok::RBracket, "`]`")?;
                let end = self.expect(Tok::RBracket, "`]` to close the list")?;
                Ok(Expr {
                    kind: ExprKind::List(items),
                    span: span.start..end.end,
                })
            }
            other => Err(ParseError::new(
                span,
                format!("expected a value, found {}", describe(&other)),
            )),
        }
    }

    fn list(&mut self, close: Tok, what: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        while self.tok != close {
            items.push(self.expr()?);
            if self.tok == Tok::Comma {
                self.bump()?;
            } else if self.tok != close {
                return Err(ParseError::new(
                    self.span.clone(),
                    format!("expected `,` or {what}, found {}", describe(&self.tok)),
                ));
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(v, _) => v.to_string(),
            ExprKind::Text(t) => format!("'{t}'"),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Name(n) => n.clone(),
            ExprKind::List(items) => {
                format!(
                    "[{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::Unary(UnaryOp::Neg, e) => format!("(-{})", show(e)),
            ExprKind::Unary(UnaryOp::Not, e) => format!("(not {})", show(e)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Call(f, args) => {
                format!(
                    "{f}({})",
                    args.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    fn p(src: &str) -> String {
        match parse(src) {
            Ok(e) => show(&e),
            Err(e) => format!("error {:?}: {}", e.span, e.message),
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(p("a + b * c - d"), "((a + (b * c)) - d)");
        assert_eq!(
            p("a >= 80% and not b or c"),
            "(((a >= 0.80) and (not b)) or c)"
        );
        assert_eq!(
            p("kind in ['upsell', \"cross_sell\"]"),
            "(kind in ['upsell', 'cross_sell'])"
        );
        assert_eq!(
            p("$125 * max(floor(attainment * 100) - 100, 0)"),
            "(125 * max((floor((attainment * 100)) - 100), 0))"
        );
        assert_eq!(p("-x * 2"), "((-x) * 2)");
        assert_eq!(p("300_000 * 1.5"), "(300000 * 1.5)");
    }

    #[test]
    fn errors_point_at_the_text() {
        assert_eq!(p("a = b"), "error 2..3: `=` is not an operator");
        assert_eq!(
            p("a + "),
            "error 4..4: expected a value, found end of the expression"
        );
        assert_eq!(
            p("(a + b"),
            "error 6..6: expected `)`, found end of the expression"
        );
        assert_eq!(p("a < b < c"), "error 6..7: comparisons cannot be chained");
        assert_eq!(p("kind == 'x"), "error 8..10: this text is never closed");
        assert_eq!(
            p("1__0"),
            "error 0..4: `1__0` is not a number: it is not a number"
        );
        assert_eq!(p(""), "error 0..0: the expression is empty");
        assert_eq!(p("a b"), "error 2..3: unexpected name `b`");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(p(&deep).starts_with("error"));
        let negs = format!("{}1", "-".repeat(500));
        assert!(p(&negs).starts_with("error"));
    }
}
