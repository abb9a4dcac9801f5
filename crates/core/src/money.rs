//! Exact numbers: parsing what a person wrote, rounding by a named rule, and
//! printing amounts.
//!
//! Every amount, rate and attainment in attain is a [`Decimal`]. A number
//! written in a plan or a data file is parsed from its text, never through a
//! binary float, so `0.075` is exactly seventy-five thousandths.

use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;

pub use rust_decimal::Decimal as Dec;

/// How a value is brought to a number of decimal places. Each mode is named in
/// plans and traces exactly as spelled by [`RoundingMode::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// 2.345 → 2.35, −2.345 → −2.35 (commercial rounding, attain's default).
    HalfAwayFromZero,
    /// 2.345 → 2.34, 2.355 → 2.36 (banker's rounding).
    HalfEven,
    /// Toward −∞.
    Floor,
    /// Toward +∞.
    Ceiling,
    /// Toward zero.
    Truncate,
}

impl RoundingMode {
    pub const ALL: [RoundingMode; 5] = [
        RoundingMode::HalfAwayFromZero,
        RoundingMode::HalfEven,
        RoundingMode::Floor,
        RoundingMode::Ceiling,
        RoundingMode::Truncate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RoundingMode::HalfAwayFromZero => "half_away_from_zero",
            RoundingMode::HalfEven => "half_even",
            RoundingMode::Floor => "floor",
            RoundingMode::Ceiling => "ceiling",
            RoundingMode::Truncate => "truncate",
        }
    }

    pub fn parse(text: &str) -> Option<RoundingMode> {
        RoundingMode::ALL.into_iter().find(|m| m.name() == text)
    }

    fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
            RoundingMode::Truncate => RoundingStrategy::ToZero,
        }
    }
}

impl fmt::Display for RoundingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rounding rule as a plan states it: a number of places and a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rounding {
    pub places: u32,
    pub mode: RoundingMode,
}

impl Rounding {
    pub const CENTS: Rounding = Rounding {
        places: 2,
        mode: RoundingMode::HalfAwayFromZero,
    };

    pub fn apply(self, value: Decimal) -> Decimal {
        round(value, self.places, self.mode)
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} places, {}", self.places, self.mode)
    }
}

/// Rounds `value` to `places` decimals. The result keeps exactly `places`
/// decimals so that printing it shows the step (2.50, not 2.5).
pub fn round(value: Decimal, places: u32, mode: RoundingMode) -> Decimal {
    let mut r = value.round_dp_with_strategy(places, mode.strategy());
    if r.scale() < places {
        r.rescale(places);
    }
    r
}

/// Why a piece of text is not an exact number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    NotANumber,
    TooPrecise,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Empty => f.write_str("no number was given"),
            NumberError::NotANumber => f.write_str("it is not a number"),
            NumberError::TooPrecise => f.write_str("it has more than 28 significant digits"),
        }
    }
}

/// What kind of literal a number was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// `300000`, `0.075`, `300_000`
    Plain,
    /// `7.5%`: the value is divided by 100 exactly.
    Percent,
    /// `$1_000`: an amount of money.
    Money,
}

/// Parses a number as a person writes it in a plan: optional sign, optional
/// `$`, digits with `_` or `,` separators, optional fraction, optional `%`.
/// The value is exact: `7.5%` is 0.075.
pub fn parse_literal(text: &str) -> Result<(Decimal, LiteralKind), NumberError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(NumberError::Empty);
    }
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (money, t) = match t.strip_prefix('$') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (percent, t) = match t.strip_suffix('%') {
        Some(rest) => (true, rest.trim_end()),
        None => (false, t),
    };
    if money && percent {
        return Err(NumberError::NotANumber);
    }
    let mut digits = String::with_capacity(t.len() + 1);
    if negative {
        digits.push('-');
    }
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut prev_digit = false;
    for c in t.chars() {
        match c {
            '0'..='9' => {
                digits.push(c);
                seen_digit = true;
                prev_digit = true;
            }
            '_' | ',' if prev_digit && !seen_point => prev_digit = false,
            '_' if prev_digit => prev_digit = false,
            '.' if !seen_point => {
                seen_point = true;
                prev_digit = false;
                digits.push('.');
            }
            _ => return Err(NumberError::NotANumber),
        }
    }
    if !seen_digit || !prev_digit && !t.ends_with('.') {
        return Err(NumberError::NotANumber);
    }
    let mut value = Decimal::from_str_exact(&digits).map_err(|_| NumberError::TooPrecise)?;
    if percent {
        value = value
            .checked_div(Decimal::ONE_HUNDRED)
            .ok_or(NumberError::TooPrecise)?;
    }
    let kind = if money {
        LiteralKind::Money
    } else if percent {
        LiteralKind::Percent
    } else {
        LiteralKind::Plain
    };
    Ok((value, kind))
}

/// Parses an amount from a data file: plain decimal text (`1234.50`, `-3`).
/// Stricter than [`parse_literal`]: no separators, no symbols.
pub fn parse_amount(text: &str) -> Result<Decimal, NumberError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(NumberError::Empty);
    }
    let body = t.strip_prefix('-').unwrap_or(t);
    let ok = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|&b| b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return Err(NumberError::NotANumber);
    }
    Decimal::from_str_exact(t).map_err(|_| NumberError::TooPrecise)
}

/// How the amounts of a currency are printed: its sign and its decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// The ISO code (`USD`, `JPY`), for labels that name the currency.
    pub code: String,
    /// `$`, `€`, `£`, or the ISO code and a space (`JPY `).
    pub symbol: String,
    /// The decimals always shown (more only where they carry a digit).
    pub minor_unit: u32,
}

impl Currency {
    /// The currency of ISO code `code` with `minor_unit` decimals.
    pub fn new(code: &str, minor_unit: u32) -> Currency {
        Currency {
            code: code.to_string(),
            symbol: currency_symbol(code),
            minor_unit,
        }
    }

    /// US dollars and cents.
    pub fn usd() -> Currency {
        Currency::new("USD", 2)
    }

    /// `$12,345.60`, `JPY 32,466`, `-€1,000.00`.
    pub fn format(&self, value: Decimal) -> String {
        let negative = value.is_sign_negative() && !value.is_zero();
        // At least the minor unit; more places only where they carry a digit.
        let v = value.abs().normalize();
        let v = round(
            v,
            v.scale().max(self.minor_unit),
            RoundingMode::HalfAwayFromZero,
        );
        let text = v.to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let grouped = group_thousands(int);
        let sign = if negative { "-" } else { "" };
        let symbol = &self.symbol;
        if frac.is_empty() {
            format!("{sign}{symbol}{grouped}")
        } else {
            format!("{sign}{symbol}{grouped}.{frac}")
        }
    }

    /// Whether `amount` is finer than the smallest unit (`0.5` yen): it
    /// could not be paid, and rounding it silently would pay something else.
    pub fn is_finer_than_unit(&self, amount: Decimal) -> bool {
        amount.normalize().scale() > self.minor_unit
    }

    /// `amount` as written in a file or a flag, with the currency's
    /// decimals: the examples a hint gives.
    pub fn written(&self, amount: Decimal) -> String {
        written_amount(amount, self.minor_unit)
    }

    /// `JPY amounts have no decimals`, `USD amounts have 2 decimals`.
    pub fn decimals_rule(&self) -> String {
        match self.minor_unit {
            0 => format!("{} amounts have no decimals", self.code),
            1 => format!("{} amounts have 1 decimal", self.code),
            n => format!("{} amounts have {n} decimals", self.code),
        }
    }

    /// A difference: `+$750.00`, `-$12.00`, `$0.00`; a gain shows its sign
    /// as plainly as a loss.
    pub fn format_signed(&self, value: Decimal) -> String {
        if value > Decimal::ZERO {
            format!("+{}", self.format(value))
        } else {
            self.format(value)
        }
    }
}

/// `amount` as written with `minor_unit` decimals (`1500.00`, `1500`),
/// cut rather than rounded: for the examples hints give.
pub fn written_amount(amount: Decimal, minor_unit: u32) -> String {
    round(amount, minor_unit, RoundingMode::Truncate).to_string()
}

/// The sign printed before an amount of a currency: `$`, `€`, `£`, or the
/// ISO code and a space (`JPY 32,466`) for any other.
pub fn currency_symbol(currency: &str) -> String {
    match currency {
        "USD" | "CAD" | "AUD" | "NZD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        other => format!("{other} "),
    }
}

/// `1234567` → `1,234,567` (ASCII digits).
pub fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// A ratio printed as a percentage with as many decimals as it needs (up to
/// `max_places`), e.g. `112.5%`.
pub fn format_percent(ratio: Decimal, max_places: u32) -> String {
    let pct = (ratio * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(max_places, RoundingStrategy::MidpointAwayFromZero);
    format!("{}%", pct.normalize())
}

/// A plain number without trailing zeros beyond what it was written with.
pub fn format_number(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn literals_are_exact() {
        assert_eq!(parse_literal("0.075"), Ok((d("0.075"), LiteralKind::Plain)));
        assert_eq!(
            parse_literal("7.5%"),
            Ok((d("0.075"), LiteralKind::Percent))
        );
        assert_eq!(
            parse_literal("300_000"),
            Ok((d("300000"), LiteralKind::Plain))
        );
        assert_eq!(
            parse_literal("$1,000.50"),
            Ok((d("1000.50"), LiteralKind::Money))
        );
        assert_eq!(
            parse_literal("-12.5%"),
            Ok((d("-0.125"), LiteralKind::Percent))
        );
        assert_eq!(parse_literal("1__0"), Err(NumberError::NotANumber));
        assert_eq!(parse_literal("abc"), Err(NumberError::NotANumber));
        assert_eq!(parse_literal("$5%"), Err(NumberError::NotANumber));
        assert_eq!(parse_literal(""), Err(NumberError::Empty));
        assert_eq!(parse_literal("1_"), Err(NumberError::NotANumber));
    }

    #[test]
    fn amounts_from_data_are_strict() {
        assert_eq!(parse_amount("1234.50"), Ok(d("1234.50")));
        assert_eq!(parse_amount("-3"), Ok(d("-3")));
        assert_eq!(parse_amount("1,234"), Err(NumberError::NotANumber));
        assert_eq!(parse_amount("1.2.3"), Err(NumberError::NotANumber));
        assert_eq!(parse_amount("-"), Err(NumberError::NotANumber));
    }

    #[test]
    fn rounding_modes_are_named_and_exact() {
        let cases = [
            ("2.345", RoundingMode::HalfAwayFromZero, "2.35"),
            ("-2.345", RoundingMode::HalfAwayFromZero, "-2.35"),
            ("2.345", RoundingMode::HalfEven, "2.34"),
            ("2.355", RoundingMode::HalfEven, "2.36"),
            ("2.349", RoundingMode::Floor, "2.34"),
            ("-2.341", RoundingMode::Floor, "-2.35"),
            ("2.341", RoundingMode::Ceiling, "2.35"),
            ("-2.349", RoundingMode::Truncate, "-2.34"),
            ("2.5", RoundingMode::HalfAwayFromZero, "2.50"),
        ];
        for (input, mode, want) in cases {
            assert_eq!(round(d(input), 2, mode).to_string(), want, "{input} {mode}");
        }
    }

    #[test]
    fn money_is_printed_with_separators() {
        let usd = Currency::usd();
        assert_eq!(usd.format(d("1234567.5")), "$1,234,567.50");
        assert_eq!(usd.format(d("-12")), "-$12.00");
        assert_eq!(usd.format(d("999")), "$999.00");
        assert_eq!(usd.format(d("15000.00000")), "$15,000.00");
        assert_eq!(usd.format(d("3280.62375")), "$3,280.62375");
        assert_eq!(format_percent(d("1.125"), 2), "112.5%");
    }

    #[test]
    fn money_is_printed_in_its_currency() {
        let yen = Currency::new("JPY", 0);
        assert_eq!(yen.format(d("32466")), "JPY 32,466");
        assert_eq!(yen.format(d("32466.00")), "JPY 32,466");
        assert_eq!(yen.format(d("-1500")), "-JPY 1,500");
        let euro = Currency::new("EUR", 2);
        assert_eq!(euro.format(d("1000")), "€1,000.00");
        assert_eq!(euro.code, "EUR");
    }

    #[test]
    fn differences_show_their_sign() {
        let euro = Currency::new("EUR", 2);
        assert_eq!(euro.format_signed(d("750")), "+€750.00");
        assert_eq!(euro.format_signed(d("-12")), "-€12.00");
        assert_eq!(euro.format_signed(d("0")), "€0.00");
        assert_eq!(euro.format_signed(d("-0")), "€0.00");
        assert_eq!(Currency::new("JPY", 0).format_signed(d("500")), "+JPY 500");
    }
}
