//! ISO dates (`2026-03-08`) read many at a time, as a transactions file
//! holds them: nearly all in one or two years. The months of the last two
//! years seen are kept (where each starts as a day number, how many days
//! it has), so a date of either costs a compare and four digits, not a
//! full parse and a calendar computation. Two, because a fiscal year's
//! file often holds a few rows of the year before among the rest: with one
//! year kept, each of them cost two full reads.

use crate::calendar::day_number_of;

/// Reads dates to `(year, month, day)` and a day number
/// ([`crate::calendar::day_number`]), exactly as [`super::parse_ymd`] and
/// [`day_number_of`] do.
pub(super) struct DayReader {
    /// The last year seen.
    last: Year,
    /// The year seen before it.
    before: Year,
}

/// One year's months, as a [`DayReader`] keeps them.
#[derive(Clone, Copy)]
struct Year {
    /// The first five bytes of a date of the year (`2026-`), as the low
    /// bytes of a little-endian word; `u64::MAX` when there is no year.
    key: u64,
    year: i16,
    /// Per month (1 to 12): the day number of its day 0 and its length.
    months: [(i32, i8); 13],
}

impl Year {
    const NONE: Year = Year {
        key: u64::MAX,
        year: 0,
        months: [(0, 0); 13],
    };
}

impl DayReader {
    pub(super) fn new() -> DayReader {
        DayReader {
            last: Year::NONE,
            before: Year::NONE,
        }
    }

    /// The date `text` holds, as `(year, month, day)` and its day number;
    /// `None` when it is not a date written `YYYY-MM-DD`.
    #[inline(always)]
    pub(super) fn read(&mut self, text: &[u8]) -> Option<((i16, i8, i8), i32)> {
        let b: &[u8; 10] = text.try_into().ok()?;
        let word = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        if word & 0xff_ffff_ffff != self.last.key {
            return self.read_other_year(b);
        }
        let digit = |i: usize| b[i].wrapping_sub(b'0');
        let (m1, m0, d1, d0) = (digit(5), digit(6), digit(8), digit(9));
        if m1 > 9 || m0 > 9 || d1 > 9 || d0 > 9 || b[7] != b'-' {
            return None;
        }
        let month = m1 * 10 + m0;
        let day = (d1 * 10 + d0) as i8;
        let &(zero, length) = self
            .last
            .months
            .get(usize::from(month))
            .filter(|_| month > 0)?;
        (1..=length)
            .contains(&day)
            .then_some(((self.last.year, month as i8, day), zero + i32::from(day)))
    }

    /// A date of another year than the last seen: the year before it,
    /// swapped in, or else read in full and its year kept.
    #[cold]
    fn read_other_year(&mut self, b: &[u8; 10]) -> Option<((i16, i8, i8), i32)> {
        let key = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], 0, 0, 0]);
        if key == self.before.key {
            std::mem::swap(&mut self.last, &mut self.before);
            return self.read(b);
        }
        let (y, m, d) = super::parse_ymd(b)?;
        let year = i32::from(y);
        self.before = self.last;
        self.last.year = y;
        self.last.key = key;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        for (month, slot) in (1i8..=12).zip(self.last.months.iter_mut().skip(1)) {
            let length = match month {
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => 31,
            };
            *slot = (day_number_of(year, i32::from(month), 1) - 1, length);
        }
        Some(((y, m, d), day_number_of(year, i32::from(m), i32::from(d))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_as_the_full_parse_reads_them() {
        // Years in turn and back again, so the cache is filled, used and
        // replaced; every month and day, valid or not, and malformed text.
        let mut reader = DayReader::new();
        for year in [2026, 2024, 2024, 1900, 2000, 2026, 2100, 0, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let expected = super::super::parse_ymd(text.as_bytes()).map(|(y, m, d)| {
                        let n = day_number_of(i32::from(y), i32::from(m), i32::from(d));
                        ((y, m, d), n)
                    });
                    assert_eq!(reader.read(text.as_bytes()), expected, "{text}");
                }
            }
            for text in [
                format!("{year:04}-1-011"),
                format!("{year:04}-01-1x"),
                format!("{year:04}-01/01"),
                format!("{year:04}-0a-01"),
                format!("{year:04}-01-01 "),
                format!("{year:04}-01-1"),
            ] {
                assert_eq!(reader.read(text.as_bytes()), None, "{text}");
            }
        }
        assert_eq!(reader.read(b"2026/01-01"), None);
        assert_eq!(
            reader.read(b"2026-01-01").map(|x| x.1),
            Some(day_number_of(2026, 1, 1))
        );
    }

    #[test]
    fn dates_of_years_in_turn_read_alike() {
        // Three years in turn: the two kept swap places, and the third
        // replaces the one seen longest ago.
        let mut reader = DayReader::new();
        for round in 0..3 {
            for text in [
                "2026-03-08",
                "2025-12-31",
                "2026-02-29",
                "2024-02-29",
                "2025-02-29",
            ] {
                let expected = super::super::parse_ymd(text.as_bytes()).map(|(y, m, d)| {
                    let n = day_number_of(i32::from(y), i32::from(m), i32::from(d));
                    ((y, m, d), n)
                });
                assert_eq!(
                    reader.read(text.as_bytes()),
                    expected,
                    "{text}, round {round}"
                );
            }
        }
        assert_eq!(reader.read(b"2024-02-29").map(|x| x.0), Some((2024, 2, 29)));
        assert_eq!(reader.read(b"2026-02-29"), None);
    }
}
