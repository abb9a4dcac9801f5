//! From plan text to a checked [`Workspace`]: parse the TOML, resolve every
//! name, read every number exactly, type every expression, and refuse gaps,
//! overlaps and cycles. Every problem found is reported, each with its file,
//! line and column, not just the first.

use super::model::*;
use super::syntax::*;
use crate::calendar::{FiscalCalendar, Period, PeriodKind};
use crate::diag::{Diagnostic, Location, SourceFile};
use crate::expr::{self, Expr, Type, TypeEnv};
use crate::money::{parse_literal, Currency, LiteralKind, Rounding, RoundingMode};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// What checking a workspace produced: the model if there was no error, and
/// every diagnostic (errors and warnings).
pub struct Checked {
    pub workspace: Option<Workspace>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a workspace: `attain.toml` and its plan files.
pub fn check_workspace(workspace_file: &SourceFile, plan_files: &[SourceFile]) -> Checked {
    let mut diags = Vec::new();
    let ws = build(workspace_file, plan_files, &mut diags);
    let has_error = diags.iter().any(Diagnostic::is_error);
    Checked {
        workspace: if has_error { None } else { ws },
        diagnostics: diags,
    }
}

struct Ctx<'a> {
    src: &'a SourceFile,
    diags: &'a mut Vec<Diagnostic>,
    /// Measures and quotas declared but rejected: what reads them is not
    /// checked, so one mistake is reported once, not again at every use.
    poisoned: Vec<String>,
}

impl Ctx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = Diagnostic::error(self.src.locate(span), message);
        self.diags.push(d);
    }

    fn error_hint(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let d = Diagnostic::error(self.src.locate(span), message).with_hint(hint);
        self.diags.push(d);
    }

    /// An exact number from its source text.
    fn number(&mut self, num: &Num) -> Option<(Decimal, LiteralKind)> {
        let span = num.span();
        let text = match num.get_ref() {
            RawNumber::Text(t) => t.clone(),
            RawNumber::Integer(_) | RawNumber::Float(_) => self.src.slice(span.clone()).to_string(),
        };
        match parse_literal(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error_hint(
                    span,
                    format!("`{text}` is not an exact number: {e}"),
                    "write numbers as `300_000`, `0.075`, `\"7.5%\"` or `\"$1_000\"`",
                );
                None
            }
        }
    }

    /// An amount of money: `"$1_000"` or a plain `1_000`; not a percent.
    fn money(&mut self, num: &Num, what: &str) -> Option<Decimal> {
        let (v, kind) = self.number(num)?;
        if kind == LiteralKind::Percent {
            self.error_hint(
                num.span(),
                format!(
                    "{what} is an amount of money, but `{}` is a percent",
                    self.src.slice(num.span())
                ),
                "write an amount such as `\"$5_000\"` or `5_000`",
            );
            return None;
        }
        Some(v)
    }

    /// A quota: an amount of money of at least 0 (a zero quota leaves
    /// attainment without a value; one below zero would turn it around).
    /// One below zero is reported and still returned, so that what names
    /// the quota is not reported as well.
    fn quota_amount(&mut self, num: &Num, name: &str) -> Option<Decimal> {
        let v = self.money(num, "a quota")?;
        if v < Decimal::ZERO {
            self.error_hint(
                num.span(),
                format!(
                    "quota `{name}` is `{}`, which is below zero",
                    self.src.slice(num.span())
                ),
                "a quota must be at least 0, like `300_000` or `\"$300_000\"`",
            );
        }
        Some(v)
    }

    /// A rate: `"7.5%"` or `0.075`; not money.
    fn rate(&mut self, num: &Num, what: &str) -> Option<Decimal> {
        self.rate_of_kind(num, what).map(|(v, _)| v)
    }

    /// The rate a component pays (its `rate`, or a band's): as [`Ctx::rate`],
    /// with a warning when a plain number is above 100% (`rate = 12` is
    /// 1,200%): legal, but almost always a percent or an amount written
    /// without its unit. `whole_measure` says the rate is the component's
    /// own, where a fixed `amount` was a possible meaning.
    fn pay_rate(&mut self, num: &Num, whole_measure: bool) -> Option<Decimal> {
        let (v, kind) = self.rate_of_kind(num, "`rate`")?;
        if kind == LiteralKind::Plain && v.abs() > Decimal::ONE {
            let span = num.span();
            let source = self.src.slice(span.clone());
            let written = source.trim_matches(|c| c == '"' || c == '\'');
            let percent = v * Decimal::ONE_HUNDRED;
            let kept = percent.normalize().to_string();
            let (sign, digits) = match kept.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", kept.as_str()),
            };
            let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
            let shown = format!(
                "{sign}{}{}{frac}%",
                crate::money::group_thousands(int),
                if frac.is_empty() { "" } else { "." }
            );
            let mut hint = format!(
                "a plain number in a rate is a fraction (0.075 is 7.5%): write `\"{written}%\"` if you meant {written} percent, or `\"{kept}%\"` to keep it"
            );
            if whole_measure && v.abs() >= Decimal::ONE_HUNDRED {
                hint.push_str(&format!(
                    "; a fixed amount is written `amount = \"${written}\"`"
                ));
            }
            let d = Diagnostic::warning(
                self.src.locate(span),
                format!("`rate = {source}` is {shown} of the measure"),
            )
            .with_hint(hint);
            self.diags.push(d);
        }
        Some(v)
    }

    fn rate_of_kind(&mut self, num: &Num, what: &str) -> Option<(Decimal, LiteralKind)> {
        let (v, kind) = self.number(num)?;
        if kind == LiteralKind::Money {
            self.error_hint(
                num.span(),
                format!(
                    "{what} is a rate, but `{}` is an amount of money",
                    self.src.slice(num.span())
                ),
                "write a rate as `\"7.5%\"` or `0.075`",
            );
            return None;
        }
        Some((v, kind))
    }

    /// Where the text of a spanned TOML string starts in the file.
    fn string_start(&self, span: &Range<usize>) -> usize {
        let raw = self.src.slice(span.clone());
        if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            span.start + 3
        } else {
            span.start + 1
        }
    }

    /// Parses and type-checks an expression written at `at`; `None` after
    /// reporting a problem.
    fn expr(&mut self, text: &str, at: ExprAt, env: &dyn TypeEnv) -> Option<(Expr, Type)> {
        let offset = match &at {
            ExprAt::String(span) => Some(self.string_start(span)),
            ExprAt::Within(span) => self
                .src
                .slice(span.clone())
                .find(text)
                .map(|i| span.start + i),
        };
        let fallback = match &at {
            ExprAt::String(s) | ExprAt::Within(s) => s.clone(),
        };
        let place = |r: &Range<usize>| match offset {
            Some(o) => r.start + o..r.end + o,
            None => fallback.clone(),
        };
        let mut e = match expr::parse(text) {
            Ok(e)
                if e.references()
                    .iter()
                    .any(|r| env.type_of(r).is_none() && self.poisoned.iter().any(|p| p == r)) =>
            {
                return None
            }
            Ok(e) => e,
            Err(err) => {
                let d = Diagnostic::error(self.src.locate(place(&err.span)), err.message);
                self.diags.push(match err.hint {
                    Some(h) => d.with_hint(h),
                    None => d,
                });
                return None;
            }
        };
        match expr::check(&e, env) {
            Ok(t) => {
                e.shift(offset.unwrap_or(0));
                Some((e, t))
            }
            Err(err) => {
                let d = Diagnostic::error(self.src.locate(place(&err.span)), err.message);
                self.diags.push(match err.hint {
                    Some(h) => d.with_hint(h),
                    None => d,
                });
                None
            }
        }
    }

    fn rounding(&mut self, def: &Spanned<RoundingDef>, default_places: u32) -> Option<Rounding> {
        let span = def.span();
        let (places, mode) = match def.get_ref() {
            RoundingDef::Mode(m) => (i64::from(default_places), Some(m.as_str())),
            RoundingDef::Full(f) => (f.places, f.mode.as_deref()),
        };
        let mode = match mode {
            None => RoundingMode::HalfAwayFromZero,
            Some(m) => match RoundingMode::parse(m) {
                Some(m) => m,
                None => {
                    let names: Vec<&str> = RoundingMode::ALL.iter().map(|m| m.name()).collect();
                    self.error_hint(
                        span,
                        format!("unknown rounding mode `{m}`"),
                        format!("one of {}", names.join(", ")),
                    );
                    return None;
                }
            },
        };
        match u32::try_from(places).ok().filter(|p| *p <= 20) {
            Some(places) => Some(Rounding { places, mode }),
            None => {
                self.error(
                    span,
                    format!("`places = {places}` must be a whole number from 0 to 20"),
                );
                None
            }
        }
    }
}

enum ExprAt {
    /// A spanned TOML string holding exactly the expression.
    String(Range<usize>),
    /// Somewhere inside this span (a value serde could not span).
    Within(Range<usize>),
}

/// Names visible to an expression, with their types.
struct Env {
    names: Vec<(String, Type)>,
    group: bool,
}

impl TypeEnv for Env {
    fn type_of(&self, name: &str) -> Option<Type> {
        self.names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }
    fn names(&self) -> Vec<String> {
        self.names.iter().map(|(n, _)| n.clone()).collect()
    }
    fn group_functions(&self) -> bool {
        self.group
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    src: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    match toml::from_str::<T>(&src.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let location = match e.span() {
                Some(span) => src.locate(span),
                None => Location::file(&src.path),
            };
            let message = e.message().trim().replace('\n', " ");
            let d = Diagnostic::error(location, message.clone());
            let hint = toml_hint(&src.text, &message)
                .map(str::to_string)
                .or_else(|| misspelt_name_hint(&message));
            diags.push(match hint {
                Some(hint) => d.with_hint(hint),
                None => d,
            });
            None
        }
    }
}

/// A hint for a file TOML refuses: for its syntax (not for a key or a value
/// the plan language refuses, whose message already says what is allowed).
fn toml_hint(text: &str, message: &str) -> Option<&'static str> {
    if toml::from_str::<toml::Table>(text).is_ok() {
        return None;
    }
    Some(
        if message.contains("basic string") || message.contains("literal string") {
            "a string ends on its own line with the quote it opened with; text over several lines goes between `\"\"\"`"
        } else if message.contains("duplicate key") {
            "a key may be given once in a table: remove one, or rename it"
        } else if message.contains("invalid string") || message.contains("invalid number") {
            "quote text and numbers with a unit: `period = \"quarter\"`, `rate = \"7.5%\"`, `cap = \"$5_000\"`"
        } else {
            "this is not TOML (https://toml.io): look for a missing quote, `=`, comma or bracket here or just before"
        },
    )
}

/// `did you mean `measure`?` for a key or a variant TOML refuses as
/// unknown (`unknown field `measrue`, expected one of `id`, ...`), when one
/// of the names it lists is close. (`captial` is too far from `cap` to
/// guess: the list the message gives is the help then.)
fn misspelt_name_hint(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (given, rest) = rest.split_once('`')?;
    let (_, listed) = rest.split_once("expected ")?;
    // The names are the quoted parts: every other piece between backticks.
    let names: Vec<String> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    expr::closest(given, &names).map(|n| format!("did you mean `{n}`?"))
}

/// Names a transaction field may not take: the filter language gives them
/// their own meaning.
const RESERVED_TRANSACTION_NAMES: [&str; 5] = ["id", "date", "amount", "credit", "credited_as"];

fn field(ctx: &mut Ctx, name: &Text, decl: &Spanned<FieldDecl>) -> Option<Field> {
    let span = decl.span();
    let (column, ty, optional, min, values) = match decl.get_ref() {
        FieldDecl::Type(t) => (None, Some(t.clone()), false, None, None),
        FieldDecl::Full(f) => (
            f.column.clone(),
            f.ty.clone(),
            f.optional,
            f.min.clone(),
            f.values.clone(),
        ),
    };
    let ty = match ty.as_deref() {
        None => FieldType::Text,
        Some(t) => match FieldType::parse(t) {
            Some(t) => t,
            None => {
                ctx.error_hint(
                    span,
                    format!("unknown field type `{t}` for `{}`", name.get_ref()),
                    "one of text, date, money, integer, decimal, participant",
                );
                return None;
            }
        },
    };
    let min = match min {
        None => None,
        Some(RawNumber::Integer(i)) => Some(Decimal::from(i)),
        Some(RawNumber::Text(t)) => match parse_literal(&t) {
            Ok((v, _)) => Some(v),
            Err(e) => {
                ctx.error(span, format!("`min = \"{t}\"` is not a number: {e}"));
                return None;
            }
        },
        Some(RawNumber::Float(_)) => {
            ctx.error_hint(
                span,
                "a fractional `min` must be quoted to stay exact",
                "write `min = \"0.5\"`",
            );
            return None;
        }
    };
    if min.is_some()
        && !matches!(
            ty,
            FieldType::Money | FieldType::Integer | FieldType::Decimal
        )
    {
        ctx.error(
            span.clone(),
            format!(
                "`min` applies to numbers and money, but `{}` is {}",
                name.get_ref(),
                ty.name()
            ),
        );
    }
    if values.is_some() && ty != FieldType::Text {
        ctx.error(
            span,
            format!(
                "`values` applies to text, but `{}` is {}",
                name.get_ref(),
                ty.name()
            ),
        );
    }
    Some(Field {
        name: name.get_ref().clone(),
        column: column.unwrap_or_else(|| name.get_ref().clone()),
        ty,
        optional,
        min,
        values,
        interned: true,
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(name, "and" | "or" | "not" | "in" | "true" | "false")
}

fn check_name(ctx: &mut Ctx, name: &Text, what: &str) {
    if !valid_name(name.get_ref()) {
        ctx.error_hint(
            name.span(),
            format!("`{}` cannot name a {what}", name.get_ref()),
            "names start with a letter and hold letters, digits and `_`; `and`, `or`, `not`, `in`, `true`, `false` are reserved",
        );
    }
}

fn build(
    ws_src: &SourceFile,
    plan_srcs: &[SourceFile],
    diags: &mut Vec<Diagnostic>,
) -> Option<Workspace> {
    let file: WorkspaceFile = parse_toml(ws_src, diags)?;
    let mut ctx = Ctx {
        src: ws_src,
        diags,
        poisoned: Vec::new(),
    };

    // [workspace] and [calendar]
    let minor_unit = match &file.workspace.minor_unit {
        None => 2,
        Some(m) => match u32::try_from(*m.get_ref()).ok().filter(|m| *m <= 6) {
            Some(m) => m,
            None => {
                ctx.error(
                    m.span(),
                    format!("`minor_unit = {}` must be 0 to 6 decimals", m.get_ref()),
                );
                2
            }
        },
    };
    let payout_mode = match &file.workspace.rounding {
        None => RoundingMode::HalfAwayFromZero,
        Some(r) => RoundingMode::parse(r.get_ref()).unwrap_or_else(|| {
            let names: Vec<&str> = RoundingMode::ALL.iter().map(|m| m.name()).collect();
            ctx.error_hint(
                r.span(),
                format!("unknown rounding mode `{}`", r.get_ref()),
                format!("one of {}", names.join(", ")),
            );
            RoundingMode::HalfAwayFromZero
        }),
    };
    let payout_rounding = Rounding {
        places: minor_unit,
        mode: payout_mode,
    };
    let calendar = match &file.calendar.first_month {
        None => FiscalCalendar::default(),
        Some(m) => u8::try_from(*m.get_ref())
            .ok()
            .and_then(FiscalCalendar::new)
            .unwrap_or_else(|| {
                ctx.error_hint(
                    m.span(),
                    format!("`first_month = {}` is not a month", m.get_ref()),
                    "1 is January, 12 December",
                );
                FiscalCalendar::default()
            }),
    };
    let default_year = file.calendar.year.as_ref().and_then(|y| {
        let v = i16::try_from(*y.get_ref())
            .ok()
            .filter(|y| (1900..=2999).contains(y));
        if v.is_none() {
            ctx.error(
                y.span(),
                format!("`year = {}` is not a fiscal year", y.get_ref()),
            );
        }
        v
    });

    // [participants]
    let p = file.participants.get_ref();
    let mut p_fields = Vec::new();
    for (name, decl) in &p.fields {
        check_name(&mut ctx, name, "field");
        if matches!(
            name.get_ref().as_str(),
            "id" | "manager" | "plan" | "start" | "end"
        ) {
            ctx.error_hint(
                name.span(),
                format!(
                    "`{}` is already a participant's own attribute",
                    name.get_ref()
                ),
                format!(
                    "set its column with `{} = \"column\"` in [participants]",
                    name.get_ref()
                ),
            );
        }
        if let Some(f) = field(&mut ctx, name, decl) {
            p_fields.push(f);
        }
    }
    let participants = ParticipantSchema {
        id_column: p.id.get_ref().clone(),
        manager_column: p.manager.as_ref().map(|t| t.get_ref().clone()),
        plan_column: p.plan.as_ref().map(|t| t.get_ref().clone()),
        start_column: p.start.as_ref().map(|t| t.get_ref().clone()),
        end_column: p.end.as_ref().map(|t| t.get_ref().clone()),
        fields: p_fields,
    };

    // [transactions]
    let t = file.transactions.get_ref();
    let amount_name = Spanned::new(t.amount.span(), "amount".to_string());
    // `amount = "deal_value"` names the column (the type is always money);
    // the table form may add `min` and must not say another type.
    let amount = match t.amount.get_ref() {
        FieldDecl::Type(column) => Field {
            name: "amount".into(),
            column: column.clone(),
            ty: FieldType::Money,
            optional: false,
            min: None,
            values: None,
            interned: true,
        },
        FieldDecl::Full(full) => {
            let mut a = field(&mut ctx, &amount_name, &t.amount)?;
            if full.ty.is_none() {
                a.ty = FieldType::Money;
            }
            if a.ty != FieldType::Money {
                ctx.error(
                    t.amount.span(),
                    format!("the transaction amount must be money, not {}", a.ty.name()),
                );
            }
            a
        }
    };
    let mut t_fields: Vec<Field> = Vec::new();
    for (name, decl) in &t.fields {
        check_name(&mut ctx, name, "field");
        if RESERVED_TRANSACTION_NAMES.contains(&name.get_ref().as_str()) {
            ctx.error_hint(name.span(), format!("`{}` is reserved in transactions", name.get_ref()), "id, date and amount are set with `id = `, `date = ` and `amount = `; credit and credited_as describe each credit");
        }
        if let Some(f) = field(&mut ctx, name, decl) {
            t_fields.push(f);
        }
    }
    let transactions = TransactionSchema {
        id_column: t.id.get_ref().clone(),
        date_column: t.date.get_ref().clone(),
        amount,
        fields: t_fields,
    };

    // [credit]
    let credit = check_credit(&mut ctx, file.credit.get_ref(), &transactions)?;

    // [quotas]
    let mut quotas = Vec::new();
    for (name, def) in &file.quotas {
        check_name(&mut ctx, name, "quota");
        let d = def.get_ref();
        let Some(amount) = ctx.quota_amount(&d.amount, name.get_ref()) else {
            // Declared but broken: what reads it is not checked again.
            ctx.poisoned.push(name.get_ref().clone());
            continue;
        };
        let prorate = match d.prorate.as_ref().map(|p| p.get_ref().as_str()) {
            None | Some("active_days") => true,
            Some("none") => false,
            Some(other) => {
                ctx.error_hint(
                    d.prorate.as_ref().map_or(def.span(), |p| p.span()),
                    format!("unknown proration `{other}`"),
                    "`active_days` or `none`",
                );
                true
            }
        };
        let rounding = match &d.rounding {
            None => Rounding {
                places: minor_unit,
                mode: RoundingMode::HalfAwayFromZero,
            },
            Some(r) => ctx.rounding(r, minor_unit).unwrap_or(Rounding::CENTS),
        };
        let per = match &d.per {
            None => None,
            Some(p) => match PeriodKind::parse(p.get_ref()) {
                Some(k) => Some(k),
                None => {
                    ctx.error_hint(
                        p.span(),
                        format!("unknown period `{}`", p.get_ref()),
                        "`month`, `quarter` or `year`",
                    );
                    None
                }
            },
        };
        quotas.push(Quota {
            name: name.get_ref().clone(),
            amount,
            per,
            prorate,
            rounding,
            description: d.description.clone(),
        });
    }

    // [measures]
    let (measures, mut poisoned) =
        check_measures(&mut ctx, &file, &transactions, &participants, &quotas);
    poisoned.extend(ctx.poisoned.iter().cloned());

    // Text that no credit filter compares is kept raw (never interned).
    let mut transactions = transactions;
    let compared: Vec<&str> = measures
        .iter()
        .flat_map(|m| match &m.kind {
            MeasureKind::Sum { filter, .. }
            | MeasureKind::Count { filter }
            | MeasureKind::CountDistinct { filter, .. }
            | MeasureKind::CountGroups { filter, .. } => {
                filter.as_ref().map(|f| f.references()).unwrap_or_default()
            }
            _ => Vec::new(),
        })
        .collect();
    for f in &mut transactions.fields {
        f.interned = compared.contains(&f.name.as_str());
    }
    let mut ws = Workspace {
        name: file
            .workspace
            .name
            .clone()
            .unwrap_or_else(|| "attain workspace".to_string()),
        currency: file
            .workspace
            .currency
            .as_ref()
            .map_or_else(|| "USD".to_string(), |c| c.get_ref().clone()),
        minor_unit,
        calendar,
        default_year,
        payout_rounding,
        participants,
        transactions,
        credit,
        measures,
        quotas,
        plans: Vec::new(),
    };
    ws.plans = check_plans(&ws, plan_srcs, diags, &poisoned);
    Some(ws)
}

fn check_credit(ctx: &mut Ctx, c: &CreditSection, t: &TransactionSchema) -> Option<CreditRule> {
    let participant_field = |ctx: &mut Ctx, name: &Text| -> Option<usize> {
        match t.field(name.get_ref()) {
            Some(i) if t.fields[i].ty == FieldType::Participant => Some(i),
            Some(i) => {
                ctx.error_hint(
                    name.span(),
                    format!(
                        "credit goes to participants, but `{}` is {}",
                        name.get_ref(),
                        t.fields[i].ty.name()
                    ),
                    format!(
                        "declare it as `{} = {{ column = \"{}\", type = \"participant\" }}`",
                        name.get_ref(),
                        t.fields[i].column
                    ),
                );
                None
            }
            None => {
                let names: Vec<String> = t
                    .fields
                    .iter()
                    .filter(|f| f.ty == FieldType::Participant)
                    .map(|f| f.name.clone())
                    .collect();
                ctx.error_hint(
                    name.span(),
                    format!("unknown transaction field `{}`", name.get_ref()),
                    if names.is_empty() {
                        "declare a field of type `participant` in [transactions.fields]".to_string()
                    } else {
                        format!("participant fields: {}", names.join(", "))
                    },
                );
                None
            }
        }
    };
    let to = participant_field(ctx, &c.to)?;
    let mut splits = Vec::new();
    let mut fixed_total = Decimal::ZERO;
    for s in &c.split {
        let def = s.get_ref();
        let Some(split_to) = participant_field(ctx, &def.to) else {
            continue;
        };
        let percent = match t.field(def.percent.get_ref()) {
            Some(i) if matches!(t.fields[i].ty, FieldType::Integer | FieldType::Decimal) => {
                SplitPercent::Field(i)
            }
            Some(i) => {
                ctx.error(
                    def.percent.span(),
                    format!(
                        "a split percent must be a number, but `{}` is {}",
                        def.percent.get_ref(),
                        t.fields[i].ty.name()
                    ),
                );
                continue;
            }
            None => match parse_literal(def.percent.get_ref()) {
                Ok((v, LiteralKind::Percent)) if v > Decimal::ZERO && v <= Decimal::ONE => {
                    fixed_total += v;
                    if fixed_total > Decimal::ONE {
                        // Known before any deal is read: every deal would be
                        // refused at `calc`.
                        ctx.error_hint(
                            def.percent.span(),
                            format!(
                                "the fixed split shares add up to {}, more than the whole deal",
                                crate::money::format_percent(fixed_total, 4)
                            ),
                            "the owner keeps what the splits leave: make the fixed shares add up to at most 100%",
                        );
                        continue;
                    }
                    SplitPercent::Fixed(v)
                }
                _ => {
                    ctx.error_hint(def.percent.span(), format!("`{}` is neither a numeric transaction field nor a percent", def.percent.get_ref()), "name a field holding the percent, or write a fixed share such as `\"50%\"`");
                    continue;
                }
            },
        };
        let rounding = match &def.rounding {
            None => RoundingMode::HalfAwayFromZero,
            Some(r) => match RoundingMode::parse(r.get_ref()) {
                Some(m) => m,
                None => {
                    ctx.error(r.span(), format!("unknown rounding mode `{}`", r.get_ref()));
                    continue;
                }
            },
        };
        splits.push(Split {
            to: split_to,
            percent,
            rounding,
        });
    }
    Some(CreditRule { to, splits })
}

fn credit_env(t: &TransactionSchema, group: bool) -> Env {
    let mut names: Vec<(String, Type)> = t
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty.expr_type()))
        .collect();
    names.push(("amount".into(), Type::Money));
    names.push(("credit".into(), Type::Money));
    names.push(("date".into(), Type::Date));
    names.push(("credited_as".into(), Type::Text));
    Env { names, group }
}

fn participant_env(p: &ParticipantSchema) -> Env {
    let mut names: Vec<(String, Type)> = p
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty.expr_type()))
        .collect();
    names.push(("id".into(), Type::Text));
    if p.plan_column.is_some() {
        names.push(("plan".into(), Type::Text));
    }
    Env {
        names,
        group: false,
    }
}

/// Warns when a filter compares a field that lists its `values` with text
/// that is not one of them (a typo that would silently match nothing).
fn check_text_values(ctx: &mut Ctx, e: &Expr, fields: &[Field]) {
    use crate::expr::{BinaryOp, ExprKind};
    if let ExprKind::Binary(op, a, b) = &e.kind {
        if let (BinaryOp::Eq | BinaryOp::Ne | BinaryOp::In, ExprKind::Name(n)) = (op, &a.kind) {
            if let Some(Field {
                values: Some(values),
                ..
            }) = fields.iter().find(|f| &f.name == n)
            {
                let literals: Vec<&Expr> = match &b.kind {
                    ExprKind::List(items) => items.iter().collect(),
                    _ => vec![b.as_ref()],
                };
                for lit in literals {
                    if let ExprKind::Text(t) = &lit.kind {
                        if !values.contains(t) {
                            let hint = match expr::closest_value(t, values) {
                                Some(near) => format!(
                                    "did you mean '{near}'? `{n}` takes {}",
                                    values.join(", ")
                                ),
                                None => format!("`{n}` takes {}", values.join(", ")),
                            };
                            let d = Diagnostic::error(
                                ctx.src.locate(lit.span.clone()),
                                format!("`{n}` is never '{t}'"),
                            )
                            .with_hint(hint);
                            ctx.diags.push(d);
                        }
                    }
                }
            }
        }
        check_text_values(ctx, a, fields);
        check_text_values(ctx, b, fields);
    }
}

fn check_measures(
    ctx: &mut Ctx,
    file: &WorkspaceFile,
    t: &TransactionSchema,
    p: &ParticipantSchema,
    quotas: &[Quota],
) -> (Vec<Measure>, Vec<String>) {
    // First pass: every name and its declared shape, so derived measures can
    // refer to measures defined after them.
    struct Pending {
        name: String,
        span: Range<usize>,
        kind: Option<MeasureKind>,
        ty: Type,
        deps: Vec<String>,
        description: Option<String>,
        source: String,
        derived: Option<String>,
    }
    let mut pending: Vec<Pending> = Vec::new();
    for (name, def) in &file.measures {
        check_name(ctx, name, "measure");
        if quotas.iter().any(|q| &q.name == name.get_ref())
            || ctx.poisoned.iter().any(|q| q == name.get_ref())
        {
            ctx.error(
                name.span(),
                format!("`{}` names both a measure and a quota", name.get_ref()),
            );
        }
        let span = def.span();
        let source = match def.get_ref() {
            MeasureDef::Derived(text) => text.clone(),
            MeasureDef::Aggregate(a) => describe_aggregate(a),
        };
        let mut item = Pending {
            name: name.get_ref().clone(),
            span: span.clone(),
            kind: None,
            ty: Type::Money,
            deps: Vec::new(),
            description: None,
            source,
            derived: None,
        };
        match def.get_ref() {
            MeasureDef::Derived(text) => item.derived = Some(text.clone()),
            MeasureDef::Aggregate(a) => {
                item.description = a.description.clone();
                let shapes = [
                    a.sum.is_some(),
                    a.count.is_some(),
                    a.count_distinct.is_some(),
                    a.count_groups.is_some(),
                    a.sum_over.is_some(),
                ];
                if shapes.iter().filter(|s| **s).count() != 1 {
                    ctx.error_hint(span.clone(), format!("measure `{}` must say exactly one of `sum`, `count`, `count_distinct`, `count_groups` or `sum_over`", item.name), "e.g. `renewal = { sum = \"credit\", where = \"kind == 'renewal'\" }`, or a formula such as `nrr = \"renewal + expansion - contraction\"`");
                    continue;
                }
                let filter_env = if a.sum_over.is_some() {
                    participant_env(p)
                } else {
                    credit_env(t, false)
                };
                let filter = match &a.filter {
                    None => None,
                    Some(f) => match ctx.expr(f, ExprAt::Within(span.clone()), &filter_env) {
                        Some((e, Type::Bool)) => {
                            let fields = if a.sum_over.is_some() {
                                &p.fields
                            } else {
                                &t.fields
                            };
                            check_text_values(ctx, &e, fields);
                            Some(e)
                        }
                        Some((_, ty)) => {
                            ctx.error(
                                span.clone(),
                                format!("`where` must be a condition (true/false), but it is {ty}"),
                            );
                            continue;
                        }
                        None => continue,
                    },
                };
                let txn_field = |ctx: &mut Ctx, name: &str, numeric: bool| -> Option<usize> {
                    match t.field(name) {
                        Some(i)
                            if !numeric
                                || matches!(
                                    t.fields[i].ty,
                                    FieldType::Money | FieldType::Integer | FieldType::Decimal
                                ) =>
                        {
                            Some(i)
                        }
                        Some(i) => {
                            ctx.error(
                                span.clone(),
                                format!("cannot sum `{name}`: it is {}", t.fields[i].ty.name()),
                            );
                            None
                        }
                        None => {
                            let names: Vec<String> =
                                t.fields.iter().map(|f| f.name.clone()).collect();
                            let hint = match expr::closest(name, &names) {
                                Some(n) => format!("did you mean `{n}`?"),
                                None => format!("transaction fields: {}", names.join(", ")),
                            };
                            ctx.error_hint(
                                span.clone(),
                                format!("unknown transaction field `{name}`"),
                                hint,
                            );
                            None
                        }
                    }
                };
                if let Some(what) = &a.sum {
                    let field = if what == "credit" {
                        None
                    } else {
                        match txn_field(ctx, what, true) {
                            Some(i) => Some(i),
                            None => continue,
                        }
                    };
                    item.ty = match field {
                        None => Type::Money,
                        Some(i) => t.fields[i].ty.expr_type(),
                    };
                    item.kind = Some(MeasureKind::Sum { field, filter });
                } else if let Some(what) = &a.count {
                    if what != "credits" {
                        ctx.error_hint(span.clone(), format!("`count = \"{what}\"`: only credits can be counted"), "write `count = \"credits\"`; to count distinct values of a field use `count_distinct`");
                        continue;
                    }
                    item.ty = Type::Number;
                    item.kind = Some(MeasureKind::Count { filter });
                } else if let Some(what) = &a.count_distinct {
                    let Some(field) = txn_field(ctx, what, false) else {
                        continue;
                    };
                    item.ty = Type::Number;
                    item.kind = Some(MeasureKind::CountDistinct { field, filter });
                } else if let Some(what) = &a.count_groups {
                    let Some(field) = txn_field(ctx, what, false) else {
                        continue;
                    };
                    let Some(having_text) = &a.having else {
                        ctx.error_hint(
                            span.clone(),
                            format!(
                                "`count_groups` in `{}` needs a `having` condition",
                                item.name
                            ),
                            "e.g. `having = \"distinct(product) >= 2\"`",
                        );
                        continue;
                    };
                    let having = match ctx.expr(
                        having_text,
                        ExprAt::Within(span.clone()),
                        &credit_env(t, true),
                    ) {
                        Some((e, Type::Bool)) => e,
                        Some((_, ty)) => {
                            ctx.error(
                                span.clone(),
                                format!("`having` must be a condition, but it is {ty}"),
                            );
                            continue;
                        }
                        None => continue,
                    };
                    item.ty = Type::Number;
                    item.kind = Some(MeasureKind::CountGroups {
                        field,
                        filter,
                        having,
                    });
                } else if let Some(scope) = &a.sum_over {
                    let scope = match scope.as_str() {
                        "direct_reports" => RollupScope::DirectReports,
                        "all_reports" => RollupScope::AllReports,
                        "team" => RollupScope::Team,
                        other => {
                            ctx.error_hint(
                                span.clone(),
                                format!("unknown roll-up `{other}`"),
                                "`direct_reports`, `all_reports` or `team` (everyone with the same manager, oneself included)",
                            );
                            continue;
                        }
                    };
                    let Some(of) = &a.of else {
                        ctx.error_hint(
                            span.clone(),
                            format!(
                                "`sum_over` in `{}` needs `of`: the measure or quota to add up",
                                item.name
                            ),
                            "e.g. `of = \"nrr\"`",
                        );
                        continue;
                    };
                    item.deps.push(of.clone());
                    // `of` resolves after all measures are known.
                    item.kind = Some(MeasureKind::Rollup {
                        scope,
                        of: ValueRef::Measure(usize::MAX),
                        filter,
                    });
                    item.derived = None;
                    item.ty = Type::Money;
                } else {
                    continue;
                }
            }
        }
        pending.push(item);
    }

    // Resolve roll-up targets and derived formulas; types of derived
    // measures need the types of what they read, so go in dependency order.
    let names: Vec<String> = file.measures.keys().map(|k| k.get_ref().clone()).collect();
    for m in &mut pending {
        if let Some(MeasureKind::Rollup { .. }) = &m.kind {
            // deps[0] is `of`
        } else if let Some(text) = &m.derived {
            if let Ok(e) = expr::parse(text) {
                m.deps = e
                    .references()
                    .iter()
                    .filter(|r| names.iter().any(|n| n == *r))
                    .map(|r| r.to_string())
                    .collect();
            }
        }
    }
    // Topological order with cycle detection.
    let index: HashMap<&str, usize> = pending
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut order: Vec<usize> = Vec::new();
    let mut state = vec![0u8; pending.len()]; // 0 new, 1 visiting, 2 done
    fn visit(
        i: usize,
        pending_deps: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        match state[i] {
            2 => return None,
            1 => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(i);
                return Some(cycle);
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for &d in &pending_deps[i] {
            if let Some(c) = visit(d, pending_deps, state, order, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
        None
    }
    let deps: Vec<Vec<usize>> = pending
        .iter()
        .map(|m| {
            m.deps
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    let mut cycles_reported = false;
    for i in 0..pending.len() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(i, &deps, &mut state, &mut order, &mut stack) {
            if !cycles_reported {
                let path: Vec<&str> = cycle.iter().map(|&c| pending[c].name.as_str()).collect();
                let first = cycle[0];
                ctx.error_hint(
                    pending[first].span.clone(),
                    format!(
                        "measures depend on each other in a cycle: {}",
                        path.join(" → ")
                    ),
                    "a measure cannot be computed from itself; break the cycle",
                );
                cycles_reported = true;
            }
            state.iter_mut().for_each(|s| {
                if *s == 1 {
                    *s = 2
                }
            });
        }
    }
    // Measures rejected above, and those in a cycle, poison what reads them.
    let mut failed: Vec<String> = file
        .measures
        .keys()
        .map(|k| k.get_ref().clone())
        .filter(|n| !pending.iter().any(|m| &m.name == n))
        .collect();
    failed.extend(
        (0..pending.len())
            .filter(|i| !order.contains(i))
            .map(|i| pending[i].name.clone()),
    );

    let mut done: Vec<Measure> = Vec::new();
    for i in order {
        let m = &pending[i];
        if m.deps.iter().any(|d| failed.contains(d)) {
            failed.push(m.name.clone());
            continue;
        }
        let mut env_names: Vec<(String, Type)> = done
            .iter()
            .map(|d| (d.name.clone(), d.ty.clone()))
            .collect();
        env_names.extend(quotas.iter().map(|q| (q.name.clone(), Type::Money)));
        let (kind, ty) = if let Some(text) = &m.derived {
            let env = Env {
                names: env_names,
                group: false,
            };
            match ctx.expr(text, ExprAt::Within(m.span.clone()), &env) {
                Some((e, ty @ (Type::Money | Type::Number))) => (MeasureKind::Derived(e), ty),
                Some((_, ty)) => {
                    ctx.error(
                        m.span.clone(),
                        format!(
                            "measure `{}` must be an amount or a number, but it is {ty}",
                            m.name
                        ),
                    );
                    continue;
                }
                None => continue,
            }
        } else {
            match &m.kind {
                Some(MeasureKind::Rollup { scope, filter, .. }) => {
                    let of = &m.deps[0];
                    if ctx.poisoned.iter().any(|q| q == of) {
                        // A quota declared but rejected: reported once, there.
                        continue;
                    }
                    let (target, ty) = if let Some(j) = done.iter().position(|d| &d.name == of) {
                        (ValueRef::Measure(j), done[j].ty.clone())
                    } else if let Some(q) = quotas.iter().position(|q| &q.name == of) {
                        (ValueRef::Quota(q), Type::Money)
                    } else {
                        let all: Vec<String> = env_names.iter().map(|(n, _)| n.clone()).collect();
                        let hint = match expr::closest(of, &all) {
                            Some(n) => format!("did you mean `{n}`?"),
                            None => "name a measure or a quota".to_string(),
                        };
                        ctx.error_hint(
                            m.span.clone(),
                            format!("`of = \"{of}\"`: no measure or quota has that name"),
                            hint,
                        );
                        continue;
                    };
                    (
                        MeasureKind::Rollup {
                            scope: *scope,
                            of: target,
                            filter: filter.clone(),
                        },
                        ty,
                    )
                }
                Some(k) => (k.clone(), m.ty.clone()),
                None => continue,
            }
        };
        done.push(Measure {
            name: m.name.clone(),
            ty,
            kind,
            description: m.description.clone(),
            source: m.source.clone(),
        });
    }
    let failed: Vec<String> = failed
        .into_iter()
        .filter(|f| !done.iter().any(|d| &d.name == f))
        .chain(
            pending
                .iter()
                .map(|m| m.name.clone())
                .filter(|n| !done.iter().any(|d| &d.name == n)),
        )
        .collect();
    (done, failed)
}

/// A measure's definition in words, for explanations.
fn describe_aggregate(a: &AggregateDef) -> String {
    let filter = a
        .filter
        .as_ref()
        .map_or(String::new(), |f| format!(" where {f}"));
    if let Some(what) = &a.sum {
        format!("sum of {what}{filter}")
    } else if a.count.is_some() {
        format!("number of credits{filter}")
    } else if let Some(field) = &a.count_distinct {
        format!("number of distinct {field}{filter}")
    } else if let Some(field) = &a.count_groups {
        let having = a.having.as_deref().unwrap_or("");
        format!("number of {field} groups{filter} with {having}")
    } else if let Some(scope) = &a.sum_over {
        let of = a.of.as_deref().unwrap_or("");
        format!("{of} summed over {}{filter}", scope.replace('_', " "))
    } else {
        String::new()
    }
}

fn check_plans(
    ws: &Workspace,
    srcs: &[SourceFile],
    diags: &mut Vec<Diagnostic>,
    poisoned: &[String],
) -> Vec<Plan> {
    struct Parsed {
        plan: Plan,
        includes: Vec<Text>,
        src: usize,
        /// Components written but rejected (reported where they are
        /// written), this plan's own and those it includes: a plan test
        /// naming one is not reported again.
        broken: Vec<String>,
        /// Includes a plan whose file was rejected, so which components it
        /// has is not known.
        incomplete: bool,
    }
    let mut parsed: Vec<Parsed> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    // Plans whose file was rejected, by the id it gives when that can be read.
    let mut broken_plans: Vec<String> = Vec::new();
    for (si, src) in srcs.iter().enumerate() {
        let Some(file) = parse_toml::<PlanFile>(src, diags) else {
            broken_plans.extend(plan_id(&src.text).or_else(|| written_plan_id(&src.text)));
            continue;
        };
        let mut ctx = Ctx {
            src,
            diags,
            poisoned: poisoned.to_vec(),
        };
        check_name(&mut ctx, &file.plan.id, "plan");
        let id = file.plan.id.get_ref().clone();
        if let Some(other) = seen.get(&id) {
            ctx.error_hint(
                file.plan.id.span(),
                format!("plan `{id}` is also defined in {other}"),
                "each plan file needs an `id` of its own: rename one of them (`attain plan clone` copies a plan under a new id)",
            );
            continue;
        }
        seen.insert(id.clone(), src.path.clone());
        let mut components = Vec::new();
        let mut broken = Vec::new();
        for c in &file.components {
            if let Some(comp) = check_component(&mut ctx, ws, c) {
                if components.iter().any(|x: &Component| x.id == comp.id) {
                    ctx.error(
                        c.get_ref().id.span(),
                        format!("plan `{id}` has two components named `{}`", comp.id),
                    );
                    continue;
                }
                components.push(comp);
            } else {
                broken.push(c.get_ref().id.get_ref().clone());
            }
        }
        let plan = Plan {
            id,
            name: file
                .plan
                .name
                .clone()
                .unwrap_or_else(|| file.plan.id.get_ref().clone()),
            description: file.plan.description.clone(),
            components,
            tests: Vec::new(),
            file: src.path.clone(),
            cloned_from: file.plan.cloned_from.as_ref().map(|c| ClonedFrom {
                plan: c.plan.clone(),
                file: c.file.clone(),
                version: c.version,
                digest: c.digest.clone(),
            }),
        };
        parsed.push(Parsed {
            plan,
            includes: file.plan.includes.clone(),
            src: si,
            broken,
            incomplete: false,
        });
    }
    // Includes, followed to any depth; a plan reached twice contributes
    // its components once, and a cycle is an error.
    let own: Vec<Vec<Component>> = parsed.iter().map(|p| p.plan.components.clone()).collect();
    let own_broken: Vec<Vec<String>> = parsed.iter().map(|p| p.broken.clone()).collect();
    let include_ids: Vec<Vec<Text>> = parsed.iter().map(|p| p.includes.clone()).collect();
    for i in 0..parsed.len() {
        let src = &srcs[parsed[i].src];
        let mut visited = vec![i];
        let mut stack: Vec<(usize, Text)> = include_ids[i]
            .iter()
            .rev()
            .map(|t| (i, t.clone()))
            .collect();
        while let Some((from, inc)) = stack.pop() {
            let Some(j) = parsed.iter().position(|p| &p.plan.id == inc.get_ref()) else {
                // Which components it would bring is not known: the plan's
                // tests are not checked against them.
                parsed[i].incomplete = true;
                // A plan whose file was rejected is reported there.
                if from == i && !broken_plans.contains(inc.get_ref()) {
                    let ids: Vec<String> = parsed.iter().map(|p| p.plan.id.clone()).collect();
                    let hint = match expr::closest(inc.get_ref(), &ids) {
                        Some(n) => format!("did you mean `{n}`?"),
                        None => format!("plans: {}", ids.join(", ")),
                    };
                    diags.push(
                        Diagnostic::error(
                            src.locate(inc.span()),
                            format!("unknown plan `{}`", inc.get_ref()),
                        )
                        .with_hint(hint),
                    );
                }
                continue;
            };
            if j == i {
                if from == i {
                    diags.push(Diagnostic::error(
                        src.locate(inc.span()),
                        format!("plan `{}` includes itself", inc.get_ref()),
                    ));
                } else {
                    diags.push(Diagnostic::error(
                        src.locate(inc.span()),
                        format!(
                            "plan `{}` includes itself through `{}`",
                            parsed[i].plan.id, parsed[from].plan.id
                        ),
                    ));
                }
                continue;
            }
            if visited.contains(&j) {
                continue;
            }
            visited.push(j);
            parsed[i].broken.extend(own_broken[j].iter().cloned());
            for c in &own[j] {
                if parsed[i].plan.components.iter().any(|x| x.id == c.id) {
                    let d = Diagnostic::error(
                        src.locate(inc.span()),
                        format!(
                            "including `{}` would give plan `{}` two components named `{}`",
                            parsed[j].plan.id, parsed[i].plan.id, c.id
                        ),
                    );
                    diags.push(d);
                } else {
                    parsed[i].plan.components.push(c.clone());
                }
            }
            stack.extend(include_ids[j].iter().rev().map(|t| (j, t.clone())));
        }
    }
    // Tests, now that each plan's full component list is known.
    for p in &mut parsed {
        let src = &srcs[p.src];
        let Some(file) = parse_toml::<PlanFile>(src, &mut Vec::new()) else {
            continue;
        };
        let mut ctx = Ctx {
            src,
            diags,
            poisoned: poisoned.to_vec(),
        };
        let declared = Declared {
            broken: &p.broken,
            incomplete: p.incomplete,
        };
        for t in &file.tests {
            if let Some(test) = check_test(&mut ctx, ws, &p.plan, &declared, t) {
                p.plan.tests.push(test);
            }
        }
    }
    parsed.into_iter().map(|p| p.plan).collect()
}

/// The `id = "..."` under `[plan]` of a file that is not TOML, read line by
/// line (a plan including it is then not told the plan is unknown).
fn written_plan_id(text: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim);
    lines.find(|l| l.starts_with("[plan]"))?;
    for line in lines {
        if line.starts_with('[') {
            return None;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "id" {
            let value = value.trim();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let rest = &value[1..];
            return rest.find(quote).map(|end| rest[..end].to_string());
        }
    }
    None
}

fn component_env(ws: &Workspace, has_quota: bool) -> Env {
    let mut names: Vec<(String, Type)> = ws
        .measures
        .iter()
        .map(|m| (m.name.clone(), m.ty.clone()))
        .collect();
    names.extend(ws.quotas.iter().map(|q| (q.name.clone(), Type::Money)));
    if has_quota {
        names.push(("quota".into(), Type::Money));
        names.push(("attainment".into(), Type::Number));
    }
    Env {
        names,
        group: false,
    }
}

fn check_component(ctx: &mut Ctx, ws: &Workspace, c: &Spanned<ComponentDef>) -> Option<Component> {
    let span = c.span();
    let d = c.get_ref();
    check_name(ctx, &d.id, "component");
    let period = match PeriodKind::parse(d.period.get_ref()) {
        Some(p) => p,
        None => {
            ctx.error_hint(
                d.period.span(),
                format!("unknown period `{}`", d.period.get_ref()),
                "`month`, `quarter` or `year`",
            );
            return None;
        }
    };
    let lookup =
        |ctx: &mut Ctx, name: &Text, what: &str, candidates: Vec<String>| -> Option<usize> {
            if ctx.poisoned.iter().any(|p| p == name.get_ref()) {
                return None;
            }
            match candidates.iter().position(|n| n == name.get_ref()) {
                Some(i) => Some(i),
                None => {
                    let hint = match expr::closest(name.get_ref(), &candidates) {
                        Some(n) => format!("did you mean `{n}`?"),
                        None => format!("{what}s: {}", candidates.join(", ")),
                    };
                    ctx.error_hint(
                        name.span(),
                        format!("unknown {what} `{}`", name.get_ref()),
                        hint,
                    );
                    None
                }
            }
        };
    let measure = match &d.measure {
        None => None,
        Some(m) => Some(lookup(
            ctx,
            m,
            "measure",
            ws.measures.iter().map(|m| m.name.clone()).collect(),
        )?),
    };
    let quota = match &d.quota {
        None => None,
        Some(q) => Some(lookup(
            ctx,
            q,
            "quota",
            ws.quotas.iter().map(|q| q.name.clone()).collect(),
        )?),
    };
    if let (Some(qi), Some(qname)) = (quota, &d.quota) {
        if let Some(per) = ws.quotas[qi].per {
            if per != period {
                ctx.error_hint(
                    qname.span(),
                    format!(
                        "quota `{}` is an amount per {}, but component `{}` is paid per {}",
                        qname.get_ref(),
                        per.name(),
                        d.id.get_ref(),
                        period.name()
                    ),
                    format!(
                        "define a {} quota, or pay this component per {}",
                        period.name(),
                        per.name()
                    ),
                );
                return None;
            }
        }
    }
    let env = component_env(ws, quota.is_some());
    let gate = match &d.gate {
        None => None,
        Some(g) => match ctx.expr(g.get_ref(), ExprAt::String(g.span()), &env)? {
            (expr, Type::Bool) => Some(Formula {
                expr,
                text: g.get_ref().clone(),
            }),
            (_, ty) => {
                ctx.error_hint(
                    g.span(),
                    format!("a gate must be a condition, but this is {ty}"),
                    "e.g. `gate = \"attainment >= 80%\"`",
                );
                return None;
            }
        },
    };
    let ways = [
        d.rate.is_some(),
        d.tiers.is_some() || d.bands.is_some(),
        d.per_point.is_some(),
        d.curve.is_some(),
        d.amount.is_some(),
        d.payout.is_some(),
    ];
    if ways.iter().filter(|w| **w).count() != 1 {
        ctx.error_hint(d.id.span(), format!("component `{}` must say how it pays with exactly one of `rate`, `tiers` with `bands`, `per_point`, `curve`, `amount` or `payout`", d.id.get_ref()), "e.g. `rate = \"12%\"`, or `tiers = \"marginal\"` with `bands = [...]`");
        return None;
    }
    let measure_ty = measure.map(|m| ws.measures[m].ty.clone());
    let need_measure = |ctx: &mut Ctx, what: &str| -> Option<()> {
        if measure.is_none() {
            ctx.error_hint(
                d.id.span(),
                format!(
                    "component `{}` pays by {what}, which needs a `measure`",
                    d.id.get_ref()
                ),
                "add e.g. `measure = \"nrr\"`",
            );
            return None;
        }
        Some(())
    };
    let rule = if let Some(r) = &d.rate {
        need_measure(ctx, "a rate")?;
        if measure_ty != Some(Type::Money) {
            ctx.error_hint(
                r.span(),
                format!(
                    "a rate applies to an amount, but measure `{}` is a number",
                    d.measure.as_ref().map_or("", |m| m.get_ref().as_str())
                ),
                "use `payout` with a formula, or `per_point`",
            );
            return None;
        }
        PayRule::Rate(ctx.pay_rate(r, true)?)
    } else if d.tiers.is_some() || d.bands.is_some() {
        need_measure(ctx, "tiers")?;
        let mode = match d.tiers.as_ref().map(|t| t.get_ref().as_str()) {
            Some("marginal") | None => TierMode::Marginal,
            Some("retroactive") => TierMode::Retroactive,
            Some(other) => {
                ctx.error_hint(d.tiers.as_ref().map_or(span.clone(), |t| t.span()), format!("unknown tier mode `{other}`"), "`marginal` (each rate on the part inside its band) or `retroactive` (the band reached sets the rate for everything)");
                return None;
            }
        };
        let Some(bands) = &d.bands else {
            ctx.error_hint(
                d.id.span(),
                format!("component `{}` has `tiers` but no `bands`", d.id.get_ref()),
                "add `bands = [{ from = \"0%\", rate = \"5%\" }, ...]`",
            );
            return None;
        };
        if measure_ty != Some(Type::Money) {
            ctx.error(
                d.id.span(),
                "rate tiers apply to an amount, but the measure is a number",
            );
            return None;
        }
        let (basis, bands) = check_bands(ctx, bands, quota.is_some(), false, &ws.money())?;
        PayRule::Tiers { mode, basis, bands }
    } else if let Some(bands) = &d.per_point {
        need_measure(ctx, "points of attainment")?;
        if quota.is_none() {
            ctx.error_hint(
                d.id.span(),
                "a per-point bonus counts points of attainment, which needs a `quota`",
                "add e.g. `quota = \"nrr_target\"`",
            );
            return None;
        }
        let (_, bands) = check_bands(ctx, bands, true, true, &ws.money())?;
        let points_rounding = match &d.points_rounding {
            None => None,
            Some(r) => Some(ctx.rounding(r, 2)?),
        };
        PayRule::PerPoint {
            bands,
            points_rounding,
        }
    } else if let Some(points) = &d.curve {
        need_measure(ctx, "a pay curve")?;
        let mut out: Vec<(Decimal, Decimal)> = Vec::new();
        let mut basis = None;
        for p in points {
            let (at, kind) = ctx.number(&p.get_ref().at)?;
            let this = match kind {
                LiteralKind::Percent if quota.is_some() => Basis::Attainment,
                LiteralKind::Money => Basis::Amount,
                _ if quota.is_none() && measure_ty == Some(Type::Number) => Basis::Value,
                _ if quota.is_some() => Basis::Attainment,
                _ => Basis::Value,
            };
            if basis.is_some_and(|b| b != this) {
                ctx.error(
                    p.get_ref().at.span(),
                    "curve points mix attainment, amounts and plain values",
                );
                return None;
            }
            basis = Some(this);
            let pay = ctx.money(&p.get_ref().pay, "`pay`")?;
            if let Some((prev, _)) = out.last() {
                if at <= *prev {
                    ctx.error_hint(
                        p.get_ref().at.span(),
                        format!(
                            "curve points must rise: `{}` does not come after {}",
                            ctx.src.slice(p.get_ref().at.span()),
                            prev
                        ),
                        "list points from the lowest `at` to the highest",
                    );
                    return None;
                }
            }
            out.push((at, pay));
        }
        if out.len() < 2 {
            ctx.error(span.clone(), "a pay curve needs at least two points");
            return None;
        }
        PayRule::Curve {
            basis: basis.unwrap_or(Basis::Value),
            points: out,
        }
    } else if let Some(a) = &d.amount {
        PayRule::Fixed(ctx.money(a, "`amount`")?)
    } else if let Some(f) = &d.payout {
        match ctx.expr(f.get_ref(), ExprAt::String(f.span()), &env)? {
            (expr, Type::Money) => PayRule::Formula(Formula {
                expr,
                text: f.get_ref().clone(),
            }),
            (_, ty) => {
                ctx.error_hint(
                    f.span(),
                    format!("a payout must be an amount of money, but this formula gives {ty}"),
                    "multiply by an amount, e.g. `$125 * points`",
                );
                return None;
            }
        }
    } else {
        return None;
    };
    let cap = match &d.cap {
        None => None,
        Some(c) => Some(ctx.money(c, "`cap`")?),
    };
    let floor = match &d.floor {
        None => None,
        Some(f) => Some(ctx.money(f, "`floor`")?),
    };
    if let (Some(c), Some(f)) = (cap, floor) {
        if f > c {
            ctx.error(span.clone(), format!("the floor {f} is above the cap {c}"));
        }
    }
    let rounding = match &d.rounding {
        None => ws.payout_rounding,
        Some(r) => ctx.rounding(r, ws.minor_unit)?,
    };
    let holdback = match &d.holdback {
        None => None,
        Some(h) => {
            let def = h.get_ref();
            let percent = ctx.rate(&def.percent, "a holdback's `percent`")?;
            if percent <= Decimal::ZERO || percent > Decimal::ONE {
                ctx.error_hint(
                    def.percent.span(),
                    format!(
                        "a holdback withholds a share between 0% and 100%, not `{}`",
                        ctx.src.slice(def.percent.span())
                    ),
                    "write e.g. `percent = \"20%\"`",
                );
                return None;
            }
            let Some(until) = crate::plan::model::Release::parse(def.until.get_ref()) else {
                ctx.error_hint(
                    def.until.span(),
                    format!("`{}` is not a release", def.until.get_ref()),
                    "`until` is `quarter_end`, `year_end` or `manual` (released with `attain release`)",
                );
                return None;
            };
            Some(crate::plan::model::Holdback { percent, until })
        }
    };
    let mut accepts = Vec::new();
    for name in d.accept.iter().flatten() {
        match crate::plan::model::Finding::parse(name.get_ref()) {
            Some(f) if accepts.iter().any(|(a, _)| *a == f) => ctx.error(
                name.span(),
                format!("`{}` is accepted twice", name.get_ref()),
            ),
            Some(f) => accepts.push((f, ctx.src.locate(name.span()))),
            None => {
                let kinds: Vec<String> = crate::plan::model::Finding::ALL
                    .iter()
                    .map(|f| format!("`{}`", f.name()))
                    .collect();
                ctx.error_hint(
                    name.span(),
                    format!("`{}` is not a kind of lint finding", name.get_ref()),
                    format!("`accept` lists {}", kinds.join(", ")),
                );
            }
        }
    }
    Some(Component {
        id: d.id.get_ref().clone(),
        name: d.name.clone().unwrap_or_else(|| d.id.get_ref().clone()),
        period,
        measure,
        quota,
        gate,
        rule,
        cap,
        floor,
        rounding,
        rounding_is_default: d.rounding.is_none(),
        origin: ctx.src.path.clone(),
        location: ctx.src.locate(d.id.span()),
        holdback,
        accepts,
    })
}

/// Checks a band table: edges all of one kind, rising, with no gap and no
/// overlap; each band has its rate (or amount per point). Errors show
/// amounts in `money`.
fn check_bands(
    ctx: &mut Ctx,
    bands: &[Spanned<BandDef>],
    has_quota: bool,
    per_point: bool,
    money: &Currency,
) -> Option<(Basis, Vec<Band>)> {
    if bands.is_empty() {
        ctx.error(0..0, "a band table needs at least one band");
        return None;
    }
    let mut basis: Option<Basis> = None;
    let mut out: Vec<Band> = Vec::new();
    let mut ok = true;
    for (i, b) in bands.iter().enumerate() {
        let def = b.get_ref();
        let label = def
            .name
            .clone()
            .unwrap_or_else(|| format!("band {}", i + 1));
        let edge = |ctx: &mut Ctx, n: &Num| -> Option<(Decimal, Basis)> {
            let (v, kind) = ctx.number(n)?;
            let basis = match kind {
                LiteralKind::Percent => Basis::Attainment,
                LiteralKind::Money => Basis::Amount,
                LiteralKind::Plain => {
                    ctx.error_hint(
                        n.span(),
                        format!(
                            "`{}` does not say whether it is attainment or an amount",
                            ctx.src.slice(n.span())
                        ),
                        "write attainment as `\"100%\"` and amounts as `\"$100_000\"`",
                    );
                    return None;
                }
            };
            Some((v, basis))
        };
        let Some((from, fb)) = edge(ctx, &def.from) else {
            ok = false;
            continue;
        };
        let to = match &def.to {
            None => None,
            Some(t) => match edge(ctx, t) {
                Some((v, tb)) if tb == fb => Some(v),
                Some(_) => {
                    ctx.error(
                        t.span(),
                        format!("{label} starts and ends in different units"),
                    );
                    ok = false;
                    continue;
                }
                None => {
                    ok = false;
                    continue;
                }
            },
        };
        if let Some(prev) = basis {
            if prev != fb {
                ctx.error_hint(
                    def.from.span(),
                    format!(
                        "{label} is written in {} but the previous bands in {}",
                        basis_name(fb),
                        basis_name(prev)
                    ),
                    "write every edge of one table the same way",
                );
                ok = false;
                continue;
            }
        }
        basis = Some(fb);
        if fb == Basis::Attainment && !has_quota {
            ctx.error_hint(
                def.from.span(),
                format!("{label} is on attainment, but the component has no `quota`"),
                "add a `quota`, or write edges as amounts (`\"$100_000\"`)",
            );
            ok = false;
        }
        if per_point && fb != Basis::Attainment {
            ctx.error(
                def.from.span(),
                "per-point bands are written in attainment (`\"80%\"`)",
            );
            ok = false;
        }
        if let Some(t) = to {
            if t <= from {
                ctx.error(
                    b.span(),
                    format!(
                        "{label} ends at {} but starts at {}",
                        show_edge(t, fb, money),
                        show_edge(from, fb, money)
                    ),
                );
                ok = false;
            }
        }
        if let Some(prev) = out.last() {
            let prev_end = prev.to;
            match prev_end {
                Some(end) if end < from => {
                    ctx.error_hint(def.from.span(), format!("{label} starts at {} but the previous band ends at {}: {} to {} is not covered", show_edge(from, fb, money), show_edge(end, fb, money), show_edge(end, fb, money), show_edge(from, fb, money)), "make each band start where the previous one ends");
                    ok = false;
                }
                Some(end) if end > from => {
                    ctx.error_hint(def.from.span(), format!("{label} starts at {} but the previous band ends at {}: the bands overlap", show_edge(from, fb, money), show_edge(end, fb, money)), "make each band start where the previous one ends");
                    ok = false;
                }
                None if from <= prev.from => {
                    ctx.error_hint(
                        def.from.span(),
                        format!(
                            "{label} starts at {}, not above the previous band's start {}",
                            show_edge(from, fb, money),
                            show_edge(prev.from, fb, money)
                        ),
                        "list bands from the lowest to the highest",
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        let rate = if per_point {
            match (&def.pay, &def.rate) {
                (Some(p), None) => ctx.money(p, "`pay` per point"),
                _ => {
                    ctx.error_hint(
                        b.span(),
                        format!("{label} needs `pay`, the amount per point"),
                        "e.g. `{ from = \"0%\", pay = \"$90\" }`",
                    );
                    None
                }
            }
        } else {
            match (&def.rate, &def.pay) {
                (Some(r), None) => ctx.pay_rate(r, false),
                _ => {
                    ctx.error_hint(
                        b.span(),
                        format!("{label} needs a `rate`"),
                        "e.g. `{ from = \"0%\", rate = \"7.5%\" }`",
                    );
                    None
                }
            }
        };
        let Some(rate) = rate else {
            ok = false;
            continue;
        };
        // A band without `to` ends where the next begins.
        if let Some(prev) = out.last_mut() {
            if prev.to.is_none() {
                prev.to = Some(from);
            }
        }
        out.push(Band {
            name: def.name.clone(),
            from,
            to,
            rate,
        });
    }
    if ok {
        Some((basis.unwrap_or(Basis::Attainment), out))
    } else {
        None
    }
}

fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Attainment => "attainment",
        Basis::Amount => "amounts",
        Basis::Value => "plain values",
    }
}

fn show_edge(v: Decimal, b: Basis, money: &Currency) -> String {
    match b {
        Basis::Attainment => crate::money::format_percent(v, 4),
        Basis::Amount => money.format(v),
        Basis::Value => v.normalize().to_string(),
    }
}

/// What a plan declares beyond its checked components: those rejected, and
/// whether an included plan's file was rejected.
struct Declared<'a> {
    broken: &'a [String],
    incomplete: bool,
}

fn check_test(
    ctx: &mut Ctx,
    ws: &Workspace,
    plan: &Plan,
    declared: &Declared,
    t: &Spanned<PlanTestDef>,
) -> Option<PlanTest> {
    let d = t.get_ref();
    let loc = ctx.src.locate(t.span());
    let location = format!("{}:{}", loc.file, loc.line);
    let period = match &d.period {
        None => None,
        Some(p) => match Period::parse(p.get_ref()) {
            Some(p) => Some(p),
            None => {
                ctx.error_hint(
                    p.span(),
                    format!("`{}` is not a period", p.get_ref()),
                    "write `2026-Q1`, `2026-M03` or `2026`",
                );
                return None;
            }
        },
    };
    let start = match &d.start {
        None => None,
        Some(s) => match s.get_ref().parse::<jiff::civil::Date>() {
            Ok(date) => Some(date),
            Err(_) => {
                ctx.error_hint(
                    s.span(),
                    format!("`{}` is not a date", s.get_ref()),
                    "write dates as `2026-02-15`",
                );
                return None;
            }
        },
    };
    let mut measures = Vec::new();
    for (name, value) in &d.measures {
        if ctx.poisoned.iter().any(|p| p == name.get_ref()) {
            return None;
        }
        let Some(i) = ws.measure(name.get_ref()) else {
            let names: Vec<String> = ws.measures.iter().map(|m| m.name.clone()).collect();
            let hint = match expr::closest(name.get_ref(), &names) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("measures: {}", names.join(", ")),
            };
            ctx.error_hint(
                name.span(),
                format!("unknown measure `{}`", name.get_ref()),
                hint,
            );
            return None;
        };
        let (v, _) = ctx.number(value)?;
        measures.push((i, v));
    }
    let mut quotas = Vec::new();
    for (name, value) in &d.quotas {
        if ctx.poisoned.iter().any(|p| p == name.get_ref()) {
            return None;
        }
        let Some(i) = ws.quota(name.get_ref()) else {
            let names: Vec<String> = ws.quotas.iter().map(|q| q.name.clone()).collect();
            let hint = match expr::closest(name.get_ref(), &names) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("quotas: {}", names.join(", ")),
            };
            ctx.error_hint(
                name.span(),
                format!("unknown quota `{}`", name.get_ref()),
                hint,
            );
            return None;
        };
        quotas.push((i, ctx.quota_amount(value, name.get_ref())?));
    }
    let mut expect = Vec::new();
    for (name, value) in &d.expect {
        let Some(i) = plan.components.iter().position(|c| &c.id == name.get_ref()) else {
            if declared.incomplete || declared.broken.contains(name.get_ref()) {
                // The component's own problem is reported where it is written.
                return None;
            }
            let mut ids: Vec<String> = plan.components.iter().map(|c| c.id.clone()).collect();
            ids.extend(declared.broken.iter().cloned());
            let hint = match expr::closest(name.get_ref(), &ids) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("components: {}", ids.join(", ")),
            };
            ctx.error_hint(
                name.span(),
                format!("plan `{}` has no component `{}`", plan.id, name.get_ref()),
                hint,
            );
            return None;
        };
        expect.push((i, ctx.money(value, "an expected payout")?));
    }
    let data = check_test_data(ctx, d, t.span())?;
    Some(PlanTest {
        name: d.name.clone(),
        period,
        start,
        measures,
        quotas,
        expect,
        location,
        data,
    })
}

/// The data of a plan test that gives participants and transactions
/// instead of measures: `Some(None)` for a test with measures only, `None`
/// after an error.
fn check_test_data(
    ctx: &mut Ctx,
    d: &PlanTestDef,
    span: Range<usize>,
) -> Option<Option<crate::plan::TestData>> {
    let (who, people, txns) = match (&d.participant, &d.participants, &d.transactions) {
        (None, None, None) => return Some(None),
        (Some(who), Some(people), Some(txns)) => (who, people, txns),
        (who, people, txns) => {
            let given = [who, people, txns]
                .into_iter()
                .flatten()
                .next()
                .map_or(span, |x| x.span());
            ctx.error_hint(
                given,
                "a test with data needs `participant`, `participants` and `transactions`",
                "name the participant whose payouts `expect` gives, and write the rows of \
                 both files as CSV text, header first",
            );
            return None;
        }
    };
    if let Some((name, _)) = d.measures.iter().next() {
        ctx.error_hint(
            name.span(),
            "a test gives measures or data (`participants` and `transactions`), not both",
            "with data, the measures are calculated from the transactions",
        );
        return None;
    }
    if let Some(start) = &d.start {
        ctx.error_hint(
            start.span(),
            "with data, the participant's first day is the one in `participants`",
            "write it in the participants' start column",
        );
        return None;
    }
    // The line before a text's first: a `"""` string skips the line break
    // right after its quotes.
    let line_before = |text: &Text| {
        let at = ctx.src.locate(text.span()).line;
        let quoted = ctx.src.slice(text.span());
        let opens_a_line = ["\"\"\"\n", "'''\n", "\"\"\"\r\n", "'''\r\n"]
            .iter()
            .any(|q| quoted.starts_with(q));
        if opens_a_line {
            at
        } else {
            at.saturating_sub(1)
        }
    };
    Some(Some(crate::plan::TestData {
        participant: who.get_ref().clone(),
        participants: people.get_ref().clone(),
        transactions: txns.get_ref().clone(),
        file: ctx.src.locate(span).file,
        participants_line: line_before(people),
        transactions_line: line_before(txns),
    }))
}
