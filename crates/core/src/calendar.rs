//! The fiscal calendar: which month a year starts in, and the months,
//! quarters and years that components are paid on.
//!
//! A fiscal year is labelled by the calendar year in which it *ends*
//! (a year starting in February 2026 is FY2027), the common convention; with
//! the default first month, January, fiscal and calendar years coincide.

use jiff::civil::Date;
use std::fmt;

/// How long a component's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<PeriodKind> {
        match text {
            "month" => Some(PeriodKind::Month),
            "quarter" => Some(PeriodKind::Quarter),
            "year" => Some(PeriodKind::Year),
            _ => None,
        }
    }

    /// Months in one period of this kind.
    pub fn months(self) -> u32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Year => 12,
        }
    }

    /// Periods of this kind in a fiscal year.
    pub fn per_year(self) -> u32 {
        12 / self.months()
    }
}

/// One period of a fiscal calendar: `2026-Q3`, `2026-M07`, `2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i16,
    pub kind: PeriodKind,
    /// 1-based index inside the fiscal year (month 1..12, quarter 1..4, 1).
    pub index: u8,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{}-M{:02}", self.year, self.index),
            PeriodKind::Quarter => write!(f, "{}-Q{}", self.year, self.index),
            PeriodKind::Year => write!(f, "{}", self.year),
        }
    }
}

impl Period {
    /// Parses `2026-Q3`, `2026-M07` or `2026`.
    pub fn parse(text: &str) -> Option<Period> {
        let (year, rest) = match text.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (text, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i16 = year.parse().ok()?;
        let (kind, index) = match rest {
            None => (PeriodKind::Year, 1),
            Some(r) => {
                let (kind, digits) = if let Some(d) = r.strip_prefix('Q') {
                    (PeriodKind::Quarter, d)
                } else if let Some(d) = r.strip_prefix('M') {
                    (PeriodKind::Month, d)
                } else {
                    return None;
                };
                if digits.is_empty()
                    || digits.len() > 2
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                (kind, digits.parse::<u8>().ok()?)
            }
        };
        if index == 0 || u32::from(index) > kind.per_year() {
            return None;
        }
        Some(Period { year, kind, index })
    }
}

/// A fiscal calendar. Only the first month is configurable: the periods of a
/// year are whole calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiscalCalendar {
    first_month: u8,
}

impl Default for FiscalCalendar {
    fn default() -> Self {
        FiscalCalendar { first_month: 1 }
    }
}

impl FiscalCalendar {
    /// `first_month` is 1 (January) to 12.
    pub fn new(first_month: u8) -> Option<FiscalCalendar> {
        (1..=12)
            .contains(&first_month)
            .then_some(FiscalCalendar { first_month })
    }

    pub fn first_month(&self) -> u8 {
        self.first_month
    }

    /// The fiscal year and the 0-based fiscal month (0..12) of a date.
    pub fn fiscal_month(&self, date: Date) -> (i16, u8) {
        let m = date.month() as u8; // 1..12
        let offset = (m + 12 - self.first_month) % 12;
        let year = if self.first_month == 1 || m < self.first_month {
            date.year()
        } else {
            date.year() + 1
        };
        (year, offset)
    }

    /// The period of the given kind that contains `date`.
    pub fn period_of(&self, date: Date, kind: PeriodKind) -> Period {
        let (year, offset) = self.fiscal_month(date);
        let index = offset / kind.months() as u8 + 1;
        Period { year, kind, index }
    }

    /// First day of a period.
    pub fn start(&self, period: Period) -> Date {
        let offset = (u32::from(period.index) - 1) * period.kind.months();
        self.month_start(period.year, offset)
    }

    /// Last day of a period (inclusive).
    pub fn end(&self, period: Period) -> Date {
        let offset = u32::from(period.index) * period.kind.months();
        self.month_start(period.year, offset)
            .yesterday()
            .unwrap_or(Date::MAX)
    }

    /// Days in a period, both ends included.
    pub fn days(&self, period: Period) -> i32 {
        days_between(self.start(period), self.end(period)) + 1
    }

    /// Every period of `kind` in a fiscal year, in order.
    pub fn periods(&self, year: i16, kind: PeriodKind) -> Vec<Period> {
        (1..=kind.per_year() as u8)
            .map(|index| Period { year, kind, index })
            .collect()
    }

    /// The first day of fiscal month `offset` (0-based, may be 12 for the
    /// next year's first month) of fiscal `year`.
    fn month_start(&self, year: i16, offset: u32) -> Date {
        let start_year = if self.first_month == 1 {
            year
        } else {
            year - 1
        };
        let m0 = u32::from(self.first_month) - 1 + offset; // months since Jan of start_year
        let y = start_year + (m0 / 12) as i16;
        let m = (m0 % 12) as i8 + 1;
        Date::new(y, m, 1).unwrap_or(Date::MAX)
    }
}

/// Whole days from `a` to `b` (negative when `b` is before `a`).
pub fn days_between(a: Date, b: Date) -> i32 {
    // Julian-day style count avoids jiff's span machinery in a hot path.
    day_number(b) - day_number(a)
}

/// Days since 0000-03-01 in the proleptic Gregorian calendar; only
/// differences are meaningful.
pub fn day_number(d: Date) -> i32 {
    day_number_of(
        i32::from(d.year()),
        i32::from(d.month()),
        i32::from(d.day()),
    )
}

/// [`day_number`] of a year, month and day that make a date.
pub fn day_number_of(y: i32, m: i32, day: i32) -> i32 {
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn calendar_year_quarters() {
        let cal = FiscalCalendar::default();
        let q = cal.period_of(date(2026, 5, 17), PeriodKind::Quarter);
        assert_eq!(q.to_string(), "2026-Q2");
        assert_eq!(cal.start(q), date(2026, 4, 1));
        assert_eq!(cal.end(q), date(2026, 6, 30));
        assert_eq!(cal.days(q), 91);
        let q4 = Period::parse("2026-Q4").unwrap_or(q);
        assert_eq!(cal.end(q4), date(2026, 12, 31));
        assert_eq!(cal.days(Period::parse("2026-Q1").unwrap_or(q)), 90);
    }

    #[test]
    fn february_fiscal_year_is_named_by_its_end() {
        let cal = FiscalCalendar::new(2).unwrap_or_default();
        let p = cal.period_of(date(2026, 2, 1), PeriodKind::Quarter);
        assert_eq!(p.to_string(), "2027-Q1");
        assert_eq!(
            cal.period_of(date(2026, 1, 31), PeriodKind::Year)
                .to_string(),
            "2026"
        );
        let m = cal.period_of(date(2027, 1, 15), PeriodKind::Month);
        assert_eq!(m.to_string(), "2027-M12");
        assert_eq!(cal.start(m), date(2027, 1, 1));
        assert_eq!(cal.end(m), date(2027, 1, 31));
        let y = Period::parse("2027").unwrap_or(m);
        assert_eq!(cal.start(y), date(2026, 2, 1));
        assert_eq!(cal.end(y), date(2027, 1, 31));
    }

    #[test]
    fn periods_parse_and_print() {
        for text in ["2026-Q1", "2026-M07", "2026", "2026-M12"] {
            assert_eq!(
                Period::parse(text).map(|p| p.to_string()).as_deref(),
                Some(text)
            );
        }
        for bad in [
            "2026-Q5", "2026-M13", "2026-Q0", "26-Q1", "2026-X1", "2026-Q",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_numbers_count_days() {
        assert_eq!(days_between(date(2026, 1, 1), date(2026, 12, 31)), 364);
        assert_eq!(days_between(date(2024, 2, 28), date(2024, 3, 1)), 2);
        assert_eq!(days_between(date(2026, 3, 1), date(2026, 2, 28)), -1);
    }
}
