//! The transactions file, read fast: blocks of the file are split at line
//! ends and parsed on every core, then merged in file order, so the result
//! (and every error's line number) is the same as a sequential read.
//!
//! Splitting at line ends is only valid when no field is quoted (a quoted
//! field may hold a line end). Blocks are scanned for `"`; from the first
//! block holding one, the rest of the file is read by the `csv` crate, one
//! record at a time.

use super::day_reader::DayReader;
use super::digits::{digits_word, eight_digits};
use super::numbered_ids::NumberedIds;
use super::separators::Separators;
use super::{
    bind_columns, csv_error, each_record, read_field, Column, FieldReader, Interner, Participants,
    RowErrors, Transactions, MAX_ROW_ERRORS, NONE,
};
use crate::diag::{Diagnostic, Location};
use crate::plan::Workspace;
use rayon::prelude::*;
use std::io::Read;

/// Bytes read and parsed at a time: large enough to keep every core busy,
/// small enough that memory stays flat whatever the file's size, and that
/// the first read and the last merge (which nothing overlaps) are short.
const BLOCK: usize = 8 << 20;

/// Where each schema column sits in the file.
struct Layout {
    id: usize,
    date: usize,
    amount: usize,
    fields: Vec<usize>,
    width: usize,
}

struct Ctx<'a> {
    ws: &'a Workspace,
    people: &'a Participants,
    file: &'a str,
    layout: Layout,
    /// How each schema field is read when its value is ordinary.
    fast: Vec<Fast>,
    /// The smallest amount allowed, in minor units.
    amount_min: Bound,
    /// Interned text that every part starts from: the allowed values of
    /// interned fields, so their ids are known without hashing.
    seed: Interner,
    ids: IdTable,
    /// Every split percent is a whole number: splits are checked in
    /// integers.
    integer_splits: bool,
    /// What each column of the file holds, for rows read in one pass
    /// ([`Scratch::read`]); `None` when that pass cannot apply.
    ops: Option<Vec<Op>>,
    /// Schema fields whose column is not in the file (optional, empty).
    absent: Vec<usize>,
}

/// The role of one column of the file.
#[derive(Clone, Copy, PartialEq)]
enum Act {
    Id,
    Date,
    Amount,
    Field(usize),
    Skip,
}

/// How one column of the file is read in one pass ([`Scratch::read`]):
/// its role and, for a field, all that reading its value needs, in one
/// place rather than behind the field's index.
enum Op {
    Skip,
    Id,
    Date,
    Amount,
    /// Interned text with a list of allowed values, each up to 15 bytes:
    /// their ids in the seed and their keys (as [`IdTable::key`]).
    Allowed {
        field: usize,
        ids: Vec<u32>,
        keys: Vec<(u64, u64)>,
    },
    /// Raw text with no list of allowed values.
    Raw {
        field: usize,
        optional: bool,
    },
    Participant {
        field: usize,
        optional: bool,
    },
    /// A whole number, or an amount in minor units (`money`).
    Number {
        field: usize,
        optional: bool,
        min: Bound,
        money: bool,
    },
    /// Any other field: through [`fast_value`].
    Other(usize),
}

/// A lower bound on an integer column, as an integer.
#[derive(Clone, Copy)]
enum Bound {
    None,
    AtLeast(i64),
    /// Not representable: every value goes the careful way.
    Careful,
}

impl Bound {
    fn new(min: Option<rust_decimal::Decimal>, scale: u32) -> Bound {
        let Some(m) = min else {
            return Bound::None;
        };
        // v >= m, for an integer v counted in 10^-scale, is v >= ceil(m × 10^scale).
        let scaled = 10i64
            .checked_pow(scale)
            .and_then(|p| m.checked_mul(rust_decimal::Decimal::from(p)));
        match scaled.map(|x| x.ceil()).and_then(|x| i64::try_from(x).ok()) {
            Some(v) => Bound::AtLeast(v),
            None => Bound::Careful,
        }
    }

    fn allows(self, v: i64) -> bool {
        match self {
            Bound::None => true,
            Bound::AtLeast(m) => v >= m,
            Bound::Careful => false,
        }
    }
}

/// The fast path of one field; whatever it does not accept is handed to
/// `read_field`, which accepts or explains it exactly as before.
enum Fast {
    /// Interned text with a list of allowed values: their ids in the seed,
    /// and their keys (as [`IdTable::key`]) when every value has one.
    Allowed(Vec<u32>, Option<Vec<(u64, u64)>>),
    /// Raw text, with or without a list of allowed values.
    Raw,
    Participant,
    Integer(Bound),
    Money(Bound),
    Careful,
}

/// Participant ids up to 11 bytes, in an open-addressing table whose keys
/// are compared as two integers: one probe per owner column per row instead
/// of a general string-keyed map. Longer ids go through the map.
///
/// A lookup lands at a random slot, usually a cache miss: each slot holds
/// the key and the participant together (one miss, where a table of
/// indexes into the keys cost two, one after the other), in 16 bytes, so
/// that the table of 10,000 people (256 KB) stays in a core's own cache.
struct IdTable {
    /// [`IdTable::key`], with the participant's index in bytes 3 to 6 of
    /// the second word (zero in the key of an id of 11 bytes or fewer).
    slots: Vec<(u64, u64)>,
    shift: u32,
    /// Ids of the most common shape of a prefix and a number, found by
    /// number instead.
    numbered: Option<NumberedIds>,
}

/// The longest id [`IdTable`] holds.
const SHORT_ID: usize = 11;
/// Where a slot holds the participant's index.
const SLOT_INDEX: u64 = 0x00ff_ffff_ff00_0000;
/// A slot's second word when the slot is empty (no key has it: lengths
/// are below 16).
const EMPTY_SLOT: u64 = u64::MAX;

impl IdTable {
    fn key(id: &[u8]) -> Option<(u64, u64)> {
        let n = id.len();
        if n > 15 {
            return None;
        }
        // The bytes, zero-padded, read as two integers by overlapping
        // loads (an overlap holds the same bytes twice, so OR keeps them);
        // the length in the last byte keeps "a" and "a\0" apart.
        let word = |at: usize| -> u64 {
            id.get(at..at + 8)
                .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
        };
        let half = |at: usize| -> u64 {
            id.get(at..at + 4).map_or(0, |w| {
                u64::from(u32::from_le_bytes(w.try_into().unwrap_or_default()))
            })
        };
        let (lo, hi) = if n >= 8 {
            let tail = if n == 8 {
                0
            } else {
                word(n - 8) >> (8 * (16 - n))
            };
            (word(0), tail)
        } else if n >= 4 {
            (half(0) | half(n - 4) << (8 * (n - 4)), 0)
        } else {
            let lo = id
                .iter()
                .enumerate()
                .fold(0u64, |k, (i, &c)| k | u64::from(c) << (8 * i));
            (lo, 0)
        };
        Some((lo, hi | (n as u64) << 56))
    }

    fn slot(&self, (a, b): (u64, u64)) -> usize {
        let h = (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> self.shift) as usize
    }

    fn new(people: &Participants) -> IdTable {
        // At most 80% full, and at least 16 slots.
        let bits = (people.len() + people.len() / 4)
            .max(16)
            .next_power_of_two()
            .trailing_zeros();
        let mut t = IdTable {
            slots: vec![(0, EMPTY_SLOT); 1 << bits],
            shift: 64 - bits,
            numbered: NumberedIds::new(&people.ids),
        };
        let mask = t.slots.len() - 1;
        for (i, id) in people.ids.iter().enumerate() {
            let Some(key) = IdTable::key(id.as_bytes()).filter(|_| id.len() <= SHORT_ID) else {
                continue;
            };
            // The last row of an id wins, as in the map.
            let mut s = t.slot(key);
            while t.slots[s].1 != EMPTY_SLOT && (t.slots[s].0, t.slots[s].1 & !SLOT_INDEX) != key {
                s = (s + 1) & mask;
            }
            t.slots[s] = (key.0, key.1 | u64::from(i as u32) << 24);
        }
        t
    }

    #[inline]
    fn get(&self, people: &Participants, id: &str) -> Option<u32> {
        self.get_bytes(people, id.as_bytes())
    }

    /// [`IdTable::get`] of an id's bytes (valid UTF-8).
    #[inline(always)]
    fn get_bytes(&self, people: &Participants, id: &[u8]) -> Option<u32> {
        if let Some(found) = self.numbered.as_ref().and_then(|n| n.get(id)) {
            return found;
        }
        let Some(key) = IdTable::key(id).filter(|_| id.len() <= SHORT_ID) else {
            let id = std::str::from_utf8(id).ok()?;
            return people.index.get(id).copied();
        };
        let mask = self.slots.len() - 1;
        let mut s = self.slot(key);
        loop {
            let &(a, b) = self.slots.get(s)?;
            if b == EMPTY_SLOT {
                return None;
            }
            if a == key.0 && b & !SLOT_INDEX == key.1 {
                return Some((b >> 24) as u32);
            }
            s = (s + 1) & mask;
        }
    }
}

/// `str::trim`, skipped when the ends are plainly not white space.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => s,
        (None, _) => s,
        _ => s.trim(),
    }
}

/// A whole number of plain digits with an optional `-`; `None` for anything
/// else, which the careful parser then reads or explains.
fn fast_integer(s: impl AsRef<[u8]>) -> Option<i64> {
    let b = s.as_ref();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

/// An ordinary value, read fast.
enum FastValue<'b> {
    /// As [`Row`] holds it.
    Number(i64),
    /// Text kept as written.
    Text(&'b str),
}

/// Reads an ordinary value of field `i`; `None` for anything else, which
/// `read_field` then reads or explains.
#[inline(always)]
fn fast_value<'b>(ctx: &Ctx, i: usize, raw: &'b str) -> Option<FastValue<'b>> {
    let (Some(f), Some(fast)) = (ctx.ws.transactions.fields.get(i), ctx.fast.get(i)) else {
        return None;
    };
    let raw = trim(raw);
    let v = match fast {
        Fast::Allowed(ids, keys) => {
            let values = f.values.as_ref().filter(|_| !raw.is_empty())?;
            // Two integer compares per allowed value, not a string compare.
            let j = match keys {
                Some(keys) => {
                    IdTable::key(raw.as_bytes()).and_then(|k| keys.iter().position(|&x| x == k))
                }
                None => values.iter().position(|a| a == raw),
            };
            i64::from(*ids.get(j?)?)
        }
        Fast::Raw => {
            let ok = match &f.values {
                None => !raw.is_empty() || f.optional,
                Some(values) => values.iter().any(|a| a == raw),
            };
            return ok.then_some(FastValue::Text(raw));
        }
        Fast::Participant if raw.is_empty() => {
            f.optional.then_some(())?;
            i64::from(NONE)
        }
        Fast::Participant => i64::from(ctx.ids.get(ctx.people, raw)?),
        Fast::Integer(_) | Fast::Money(_) if raw.is_empty() => {
            f.optional.then_some(())?;
            super::MISSING
        }
        Fast::Integer(min) => Some(fast_integer(raw)?).filter(|&x| min.allows(x))?,
        Fast::Money(min) => {
            Some(fast_minor_units(raw, ctx.ws.minor_unit)?).filter(|&x| min.allows(x))?
        }
        Fast::Careful => return None,
    };
    Some(FastValue::Number(v))
}

impl<'a> Ctx<'a> {
    fn new(ws: &'a Workspace, people: &'a Participants, file: &'a str, layout: Layout) -> Self {
        let mut seed = Interner::default();
        let fast: Vec<Fast> = ws
            .transactions
            .fields
            .iter()
            .map(|f| match (f.ty, &f.values) {
                (crate::plan::FieldType::Text, Some(values)) if f.interned => Fast::Allowed(
                    values.iter().map(|v| seed.intern(v)).collect(),
                    values.iter().map(|v| IdTable::key(v.as_bytes())).collect(),
                ),
                (crate::plan::FieldType::Text, _) if !f.interned => Fast::Raw,
                (crate::plan::FieldType::Participant, None) => Fast::Participant,
                (crate::plan::FieldType::Integer, None) => Fast::Integer(Bound::new(f.min, 0)),
                (crate::plan::FieldType::Money, None) => {
                    Fast::Money(Bound::new(f.min, ws.minor_unit))
                }
                _ => Fast::Careful,
            })
            .collect();
        let integer_splits = ws.credit.splits.iter().all(|s| match s.percent {
            crate::plan::SplitPercent::Field(pf) => {
                ws.transactions.fields[pf].ty == crate::plan::FieldType::Integer
            }
            crate::plan::SplitPercent::Fixed(_) => true,
        });
        // One role per column, and every field on a fast path; otherwise
        // rows take the general path.
        let mut acts = vec![Act::Skip; layout.width];
        let mut absent = Vec::new();
        let mut roles = vec![
            (layout.id, Act::Id),
            (layout.date, Act::Date),
            (layout.amount, Act::Amount),
        ];
        roles.extend(
            layout
                .fields
                .iter()
                .enumerate()
                .map(|(i, &c)| (c, Act::Field(i))),
        );
        let mut one_pass = fast.iter().all(|f| !matches!(f, Fast::Careful));
        for (c, act) in roles {
            match acts.get_mut(c) {
                Some(slot) if *slot == Act::Skip => *slot = act,
                Some(_) => one_pass = false,
                None => match act {
                    Act::Field(i) => absent.push(i),
                    _ => one_pass = false,
                },
            }
        }
        let ops = acts
            .iter()
            .map(|act| match *act {
                Act::Skip => Op::Skip,
                Act::Id => Op::Id,
                Act::Date => Op::Date,
                Act::Amount => Op::Amount,
                Act::Field(i) => {
                    let f = &ws.transactions.fields[i];
                    let optional = f.optional;
                    match &fast[i] {
                        Fast::Allowed(ids, Some(keys)) => Op::Allowed {
                            field: i,
                            ids: ids.clone(),
                            keys: keys.clone(),
                        },
                        Fast::Raw if f.values.is_none() => Op::Raw { field: i, optional },
                        Fast::Participant => Op::Participant { field: i, optional },
                        &Fast::Integer(min) => Op::Number {
                            field: i,
                            optional,
                            min,
                            money: false,
                        },
                        &Fast::Money(min) => Op::Number {
                            field: i,
                            optional,
                            min,
                            money: true,
                        },
                        _ => Op::Other(i),
                    }
                }
            })
            .collect();
        Ctx {
            ws,
            people,
            file,
            layout,
            ops: one_pass.then_some(ops),
            absent,
            fast,
            amount_min: Bound::new(ws.transactions.amount.min, ws.minor_unit),
            seed,
            ids: IdTable::new(people),
            integer_splits,
        }
    }

    /// A column for each schema field, empty.
    fn empty_columns(&self) -> Vec<Column> {
        self.ws
            .transactions
            .fields
            .iter()
            .map(Column::for_field)
            .collect()
    }
}

/// One block's rows, with text interned locally.
struct Part {
    /// The rows stored: every row read, or those a row sift keeps.
    rows: Transactions,
    /// Every id read is greater (in byte order) than the one before: the
    /// part's ids are then unique without hashing them.
    ascending: bool,
    /// The last id's [`order_key`].
    last_order: Option<u128>,
    /// The first and last ids read, stored or not, to check that ids
    /// ascend from one part to the next.
    first_id: Option<String>,
    last_id: String,
    errors: RowErrors,
    /// Lines the part's piece holds (rows and blank lines).
    lines: u64,
}

/// The values of a row read the general way, as a row sift sees them.
struct Scratch {
    day: i32,
    amount: i64,
    /// Per schema field, as [`Row::fields`].
    values: Vec<i64>,
}

impl Scratch {
    fn new(ctx: &Ctx) -> Scratch {
        Scratch {
            day: 0,
            amount: 0,
            values: vec![0; ctx.ws.transactions.fields.len()],
        }
    }

    /// The row, with `raw` its text kept as written ([`raw_of_last`]).
    fn row<'r>(&'r self, raw: &'r [&'r [u8]]) -> Row<'r> {
        Row {
            day: self.day,
            amount: self.amount,
            fields: &self.values,
            raw,
        }
    }

    /// The values of the last row stored in `rows`, which was read the
    /// general way.
    fn last_of(&mut self, rows: &Transactions) {
        let date = rows.date.last().copied().unwrap_or(jiff::civil::Date::MIN);
        self.day = crate::calendar::day_number(date);
        self.amount = rows.amount.last().copied().unwrap_or(0);
        for (slot, column) in self.values.iter_mut().zip(&rows.fields) {
            *slot = match column {
                Column::Text(v) | Column::Participant(v) => {
                    v.last().map_or(i64::from(NONE), |&x| i64::from(x))
                }
                Column::Integer(v) | Column::Money(v) => {
                    v.last().copied().unwrap_or(super::MISSING)
                }
                _ => 0,
            };
        }
    }
}

/// Per schema field, the text kept as written of the last row of `rows`
/// (empty for other fields), as [`Row::raw`] gives it.
fn raw_of_last(rows: &Transactions) -> Vec<&[u8]> {
    let last = rows.len().saturating_sub(1);
    rows.fields
        .iter()
        .map(|column| match column {
            Column::Raw(r) if !r.is_empty() => r.get(last).as_bytes(),
            _ => b"",
        })
        .collect()
}

/// Rows read in one pass, a batch at a time: the rows are cut at their
/// separators first, then each column is read down the batch by a loop of
/// its own (the column's op matched once per batch, not once per field),
/// then the rows go to the sift in order. A row with anything out of the
/// ordinary is marked and read the general way ([`Part::push_row`]), which
/// accepts or explains it exactly as before. Fields are bytes here: text is
/// made of them only for the rows stored.
struct Batch<'b> {
    /// Rows in the batch.
    rows: usize,
    /// Columns of the file.
    width: usize,
    /// Per row, `width + 1` positions in the piece: where each field
    /// starts, then one past the row's end (its `\n`, or the piece's end).
    /// Field `c` ends one before where field `c + 1` starts.
    cuts: Vec<u32>,
    /// Per row: read in one pass so far.
    ok: Vec<bool>,
    values: BatchValues<'b>,
}

/// What the column loops of a [`Batch`] write, row by row.
struct BatchValues<'b> {
    /// Schema fields.
    fields: usize,
    /// The date as year, month and day, made a [`jiff::civil::Date`] only
    /// when the row is stored; and as a day number ([`Row::day`]).
    ymd: Vec<(i16, i8, i8)>,
    day: Vec<i32>,
    days: DayReader,
    amount: Vec<i64>,
    /// `fields` per row, as [`Row::fields`].
    numbers: Vec<i64>,
    /// `fields` per row: the text of fields kept as written (bytes of
    /// valid UTF-8, cut at commas).
    raw: Vec<&'b [u8]>,
}

/// Rows per [`Batch`]: enough for each column's loop to run long, few
/// enough that the batch's bytes, cuts and values stay in the core's
/// first-level cache.
const BATCH_ROWS: usize = 128;

impl<'b> Batch<'b> {
    fn new(ctx: &Ctx, width: usize) -> Batch<'b> {
        let fields = ctx.ws.transactions.fields.len();
        Batch {
            rows: 0,
            width,
            cuts: vec![0; BATCH_ROWS * (width + 1)],
            ok: vec![false; BATCH_ROWS],
            values: BatchValues {
                fields,
                ymd: vec![(0, 1, 1); BATCH_ROWS],
                day: vec![0; BATCH_ROWS],
                days: DayReader::new(),
                amount: vec![0; BATCH_ROWS],
                numbers: vec![0; BATCH_ROWS * fields],
                raw: vec![b""; BATCH_ROWS * fields],
            },
        }
    }

    /// Cuts up to [`BATCH_ROWS`] rows from `start`, where `seps` says;
    /// where the next batch starts. `bytes` is shorter than 4 GiB (see
    /// [`parse_block`]), so positions fit 32 bits.
    fn cut(&mut self, bytes: &[u8], start: usize, seps: &mut Separators) -> usize {
        match self.cut_whole(bytes, start, seps) {
            Some(next) => next,
            None => self.cut_rows(bytes, start, seps),
        }
    }

    /// [`Batch::cut`] for a batch of [`BATCH_ROWS`] rows that all have
    /// their `width` fields and a line end; `None` (with `seps` as they
    /// were) for any other. Such a batch, nearly every one of a file, needs
    /// no test of each separator: its rows hold as many line ends as rows,
    /// and each row ends on one, so every other separator is a comma.
    #[inline(always)]
    fn cut_whole(
        &mut self,
        bytes: &[u8],
        mut start: usize,
        seps: &mut Separators,
    ) -> Option<usize> {
        let mut ahead = seps.clone();
        let from = start;
        for row in self.cuts.chunks_exact_mut(self.width + 1) {
            let (first, ends) = row.split_first_mut()?;
            *first = start as u32;
            for slot in ends.iter_mut() {
                *slot = ahead.next()? as u32 + 1;
            }
            start = ends.last().map_or(0, |&x| x as usize);
            if bytes.get(start.wrapping_sub(1)) != Some(&b'\n') {
                return None;
            }
        }
        let line_ends = super::separators::count_line_ends(bytes.get(from..start)?);
        if line_ends != BATCH_ROWS {
            return None;
        }
        *seps = ahead;
        self.ok.fill(true);
        self.rows = BATCH_ROWS;
        Some(start)
    }

    /// [`Batch::cut`] one separator at a time, for batches with a row of
    /// too few or too many fields, or the last rows of a piece.
    fn cut_rows(&mut self, bytes: &[u8], mut start: usize, seps: &mut Separators) -> usize {
        let width = self.width;
        let mut rows = 0;
        for (row, ok) in self.cuts.chunks_exact_mut(width + 1).zip(&mut self.ok) {
            if start >= bytes.len() {
                break;
            }
            let Some((first, ends)) = row.split_first_mut() else {
                break;
            };
            *first = start as u32;
            *ok = true;
            let mut end = start;
            for (col, slot) in ends.iter_mut().enumerate() {
                let sep = seps.next();
                end = sep.unwrap_or(bytes.len());
                let line_ends = sep.is_none_or(|i| bytes.get(i) == Some(&b'\n'));
                if (col + 1 == width) != line_ends {
                    // Too few fields, or too many: the row's other cuts
                    // all point past its end.
                    *ok = false;
                    end = seps.line_end(sep);
                    ends.fill(end as u32 + 1);
                    break;
                }
                *slot = end as u32 + 1;
            }
            rows += 1;
            start = end + 1;
        }
        self.rows = rows;
        start
    }

    /// Where row `r` starts and ends (its `\n` or the piece's end).
    fn span(&self, r: usize) -> (usize, usize) {
        let w = self.width + 1;
        let first = self.cuts.get(r * w).map_or(0, |&x| x as usize);
        let end = self.cuts.get(r * w + self.width).map_or(0, |&x| x as usize);
        (first, end.saturating_sub(1))
    }

    /// Runs `read` on field `col` of every row still ordinary, marking
    /// those it refuses.
    #[inline(always)]
    fn each(
        &mut self,
        bytes: &'b [u8],
        col: usize,
        mut read: impl FnMut(&mut BatchValues<'b>, usize, &'b [u8], usize) -> bool,
    ) {
        let w = self.width + 1;
        let last = col + 1 == self.width;
        let rows = self
            .ok
            .iter_mut()
            .zip(self.cuts.chunks_exact(w))
            .take(self.rows);
        for (r, (ok, cuts)) in rows.enumerate() {
            if *ok {
                let from = cuts.get(col).map_or(0, |&x| x as usize);
                *ok = cut_field(bytes, cuts, col, last)
                    .is_some_and(|value| read(&mut self.values, r, value, from));
            }
        }
    }

    /// Reads every column of the batch, each down the rows by its own loop.
    fn read(&mut self, ctx: &Ctx, ops: &[Op], bytes: &'b [u8]) {
        let minor_unit = ctx.ws.minor_unit;
        let n = self.values.fields;
        for (col, op) in ops.iter().enumerate() {
            match op {
                Op::Skip => {}
                Op::Id => self.each(bytes, col, |_, _, v, _| !v.is_empty() && plain(v)),
                Op::Date => self.each(bytes, col, |out, r, v, _| {
                    match (out.days.read(v), out.ymd.get_mut(r), out.day.get_mut(r)) {
                        (Some((ymd, day)), Some(a), Some(b)) => {
                            *a = ymd;
                            *b = day;
                            true
                        }
                        _ => false,
                    }
                }),
                Op::Amount => self.each(bytes, col, |out, r, v, from| {
                    let cents = (minor_unit == 2)
                        .then(|| fast_cents(bytes, from, v))
                        .flatten();
                    let x = cents.or_else(|| fast_minor_units(v, minor_unit));
                    match (x, out.amount.get_mut(r)) {
                        (Some(x), Some(slot)) if ctx.amount_min.allows(x) => {
                            *slot = x;
                            true
                        }
                        _ => false,
                    }
                }),
                Op::Allowed { field, ids, keys } => {
                    let at = *field;
                    self.each(bytes, col, |out, r, v, _| {
                        let id = IdTable::key(v)
                            .filter(|_| !v.is_empty() && plain(v))
                            .and_then(|k| keys.iter().position(|&x| x == k))
                            .and_then(|j| ids.get(j));
                        put(&mut out.numbers, r * n + at, id.map(|&id| i64::from(id)))
                    })
                }
                Op::Raw { field, optional } => {
                    let (at, optional) = (*field, *optional);
                    self.each(bytes, col, |out, r, v, _| {
                        match out.raw.get_mut(r * n + at) {
                            Some(slot) if (optional || !v.is_empty()) && plain(v) => {
                                *slot = v;
                                true
                            }
                            _ => false,
                        }
                    })
                }
                Op::Participant { field, optional } => {
                    let (at, optional) = (*field, *optional);
                    self.each(bytes, col, |out, r, v, _| {
                        let p = if v.is_empty() {
                            optional.then_some(NONE)
                        } else if plain(v) {
                            ctx.ids.get_bytes(ctx.people, v)
                        } else {
                            None
                        };
                        put(&mut out.numbers, r * n + at, p.map(i64::from))
                    })
                }
                Op::Number {
                    field,
                    optional,
                    min,
                    money,
                } => {
                    let (at, optional, min, money) = (*field, *optional, *min, *money);
                    self.each(bytes, col, |out, r, v, _| {
                        let x = if v.is_empty() {
                            optional.then_some(super::MISSING)
                        } else if money {
                            fast_minor_units(v, minor_unit).filter(|&x| min.allows(x))
                        } else {
                            fast_integer(v).filter(|&x| min.allows(x))
                        };
                        put(&mut out.numbers, r * n + at, x)
                    })
                }
                Op::Other(i) => {
                    let i = *i;
                    self.each(bytes, col, |out, r, v, _| {
                        // `v` was cut from `text` at ASCII bytes.
                        let value = std::str::from_utf8(v).ok();
                        out.set(r, i, value.and_then(|v| fast_value(ctx, i, v)))
                    })
                }
            }
        }
        for r in 0..self.rows {
            let fine = self.values.absent_fine(ctx, r) && self.values.splits_fine(ctx, r);
            if let Some(ok) = self.ok.get_mut(r) {
                *ok = *ok && fine;
            }
        }
    }

    /// Row `r`'s id (valid when the row is ordinary).
    fn id(&self, ctx: &Ctx, bytes: &'b [u8], r: usize) -> &'b [u8] {
        let w = self.width + 1;
        let col = ctx.layout.id;
        let cuts = self.cuts.get(r * w..(r + 1) * w).unwrap_or_default();
        cut_field(bytes, cuts, col, col + 1 == self.width).unwrap_or_default()
    }
}

impl<'b> BatchValues<'b> {
    fn row(&self, r: usize) -> Row<'_> {
        let n = self.fields;
        Row {
            day: self.day.get(r).copied().unwrap_or(0),
            amount: self.amount.get(r).copied().unwrap_or(0),
            fields: self.numbers.get(r * n..(r + 1) * n).unwrap_or_default(),
            raw: self.raw.get(r * n..(r + 1) * n).unwrap_or_default(),
        }
    }

    /// Fields whose column is not in the file take what an empty value
    /// gives them.
    fn absent_fine(&mut self, ctx: &Ctx, r: usize) -> bool {
        ctx.absent
            .iter()
            .all(|&i| self.set(r, i, fast_value(ctx, i, "")))
    }

    /// Sets field `i` of row `r` to a value read by [`fast_value`]; false
    /// when there is none.
    fn set(&mut self, r: usize, i: usize, value: Option<FastValue<'b>>) -> bool {
        let at = r * self.fields + i;
        match value {
            Some(FastValue::Number(x)) => put(&mut self.numbers, at, Some(x)),
            Some(FastValue::Text(t)) => match self.raw.get_mut(at) {
                Some(slot) => {
                    *slot = t.as_bytes();
                    true
                }
                None => false,
            },
            None => false,
        }
    }

    /// True when every split of row `r` has a percent from 0 to 100 and
    /// they add up to at most 100: when `check_splits` would find nothing
    /// to say.
    fn splits_fine(&self, ctx: &Ctx, r: usize) -> bool {
        if !ctx.integer_splits {
            return false;
        }
        let values = self.numbers.get(r * self.fields..).unwrap_or_default();
        let mut total: i64 = 0;
        for split in &ctx.ws.credit.splits {
            let crate::plan::SplitPercent::Field(pf) = split.percent else {
                continue;
            };
            if values.get(split.to).copied() == Some(i64::from(NONE)) {
                continue;
            }
            match values.get(pf) {
                Some(&p) if (0..=100).contains(&p) => total += p,
                _ => return false,
            }
        }
        total <= 100
    }
}

/// Field `col` of a row whose [`Batch::cuts`] are `cuts`; the last field
/// (`last`) without the `\r` of a Windows line end.
#[inline(always)]
fn cut_field<'b>(bytes: &'b [u8], cuts: &[u32], col: usize, last: bool) -> Option<&'b [u8]> {
    let (&from, &to) = (cuts.get(col)?, cuts.get(col + 1)?);
    let value = bytes.get(from as usize..(to as usize).saturating_sub(1))?;
    Some(if last {
        value.strip_suffix(b"\r").unwrap_or(value)
    } else {
        value
    })
}

/// Text with white space (or anything not ASCII) at an end goes the
/// general way, which trims it; dates and numbers need no such check, as
/// their readers take digits and signs only.
#[inline(always)]
fn plain(value: &[u8]) -> bool {
    match (value.first(), value.last()) {
        (Some(&f), Some(&l)) => f > b' ' && f < 0x80 && l > b' ' && l < 0x80,
        _ => true,
    }
}

/// Sets a field's value, when there is one.
#[inline(always)]
fn put(values: &mut [i64], field: usize, value: Option<i64>) -> bool {
    match (value, values.get_mut(field)) {
        (Some(v), Some(slot)) => {
            *slot = v;
            true
        }
        _ => false,
    }
}

/// The text of `bytes`, a field cut from `text`: the same bytes, found by
/// their address, as text without checking them again (a field is cut at
/// ASCII bytes, so its ends are character boundaries, and slicing checks
/// only those). Checking them again cost ≈ 75 instructions a field, and
/// two mispredicted branches. When the piece was not made text (`text` is
/// empty: see `parse_block`), the bytes are checked on their own.
fn field_text<'t>(text: &'t str, bytes: &'t [u8]) -> &'t str {
    let from = (bytes.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    text.get(from..from.wrapping_add(bytes.len()))
        .or_else(|| std::str::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// The text of `bytes[range]`: from `text` when it holds the piece (it is
/// empty when the piece was not made text, being ASCII), else checked on
/// its own.
fn line_text<'t>(text: &'t str, bytes: &'t [u8], range: std::ops::Range<usize>) -> &'t str {
    if text.len() == bytes.len() {
        text.get(range).unwrap_or_default()
    } else {
        bytes
            .get(range)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

/// One row, read and checked but not stored yet: what a [`RowSift`] sees.
pub struct Row<'r> {
    /// The date, as [`crate::calendar::day_number`] counts it.
    pub day: i32,
    /// In the currency's minor unit.
    pub amount: i64,
    /// Each schema field's value as a number: a participant's index or a
    /// text id (`NONE` when empty), a whole number or minor units
    /// (`MISSING` when empty); 0 for text kept as written, which
    /// [`Row::raw`] gives.
    fields: &'r [i64],
    /// Per schema field, the bytes of text kept as written (empty for
    /// other fields).
    raw: &'r [&'r [u8]],
}

impl Row<'_> {
    /// The participant field `f` names (`NONE`: empty).
    #[inline]
    pub fn participant(&self, f: usize) -> u32 {
        self.fields
            .get(f)
            .and_then(|&v| u32::try_from(v).ok())
            .unwrap_or(NONE)
    }

    /// The text id of interned field `f` (`NONE`: empty).
    #[inline]
    pub fn text(&self, f: usize) -> u32 {
        self.participant(f)
    }

    /// The whole number or minor units of field `f` (`MISSING`: empty).
    #[inline]
    pub fn integer(&self, f: usize) -> i64 {
        self.fields.get(f).copied().unwrap_or(super::MISSING)
    }

    /// The text of field `f` when it is kept as written (valid UTF-8,
    /// trimmed); empty for other fields.
    #[inline]
    pub fn raw(&self, f: usize) -> &[u8] {
        self.raw.get(f).copied().unwrap_or_default()
    }
}

/// Text of up to 15 bytes as two integers, equal exactly when the texts
/// are (the bytes and the length): a key needing no hash and no check.
/// `None` for longer text.
pub fn short_text_key(text: &[u8]) -> Option<(u64, u64)> {
    IdTable::key(text)
}

impl Part {
    fn new(ctx: &Ctx) -> Part {
        Part {
            rows: Transactions {
                fields: ctx.empty_columns(),
                text: ctx.seed.clone(),
                ..Transactions::default()
            },
            ascending: true,
            last_order: None,
            first_id: None,
            last_id: String::new(),
            errors: RowErrors::new(ctx.file),
            lines: 0,
        }
    }

    /// Empties the part for the next block, keeping its memory: fresh
    /// memory costs a page fault per 4 KB, which showed as a quarter of the
    /// run's time.
    fn clear(&mut self, ctx: &Ctx) {
        self.rows.ids.clear();
        self.ascending = true;
        self.last_order = None;
        self.first_id = None;
        self.last_id.clear();
        self.lines = 0;
        self.rows.date.clear();
        self.rows.amount.clear();
        self.rows.lines = super::Lines::default();
        for c in &mut self.rows.fields {
            c.truncate(0);
        }
        self.rows.text.clone_from(&ctx.seed);
        self.errors = RowErrors::new(ctx.file);
    }

    /// Forgets every row stored from the `rows`-th on (their ids stay
    /// read).
    fn truncate(&mut self, rows: usize) {
        self.rows.ids.truncate(rows);
        self.rows.date.truncate(rows);
        self.rows.amount.truncate(rows);
        self.rows.lines.truncate(rows);
        for c in &mut self.rows.fields {
            c.truncate(rows);
        }
    }

    /// Notes the id of a row read, stored or not; `prev` is the id of the
    /// row read before it in this part. [`Part::last_id`] is set once, at
    /// the part's end: copying every id there cost more than a percent of
    /// a run.
    #[inline(always)]
    fn read_id(&mut self, id: &[u8], prev: &[u8]) {
        let order = order_key(id);
        if self.first_id.is_none() {
            self.note_first_id(id);
        } else if self.ascending {
            self.ascending = match (self.last_order, order) {
                (Some(last), Some(this)) => last < this,
                _ => prev < id,
            };
        }
        self.last_order = order;
    }

    #[cold]
    fn note_first_id(&mut self, id: &[u8]) {
        self.first_id = Some(String::from_utf8_lossy(id).into_owned());
    }

    /// Stores row `r` of a batch, read in one pass.
    fn store<'t>(&mut self, text: &'t str, id: &'t [u8], v: &BatchValues<'t>, r: usize, line: u64) {
        self.rows.ids.push(field_text(text, id));
        let (y, m, d) = v.ymd.get(r).copied().unwrap_or((0, 1, 1));
        // `ymd` makes a date (see `parse_ymd`).
        let date = jiff::civil::Date::new(y, m, d).unwrap_or(jiff::civil::Date::MIN);
        self.rows.date.push(date);
        self.rows.amount.push(v.amount.get(r).copied().unwrap_or(0));
        let n = v.fields;
        let numbers = v.numbers.get(r * n..(r + 1) * n).unwrap_or_default();
        let raw = v.raw.get(r * n..(r + 1) * n).unwrap_or_default();
        for ((column, &x), &raw) in self.rows.fields.iter_mut().zip(numbers).zip(raw) {
            match column {
                Column::Text(c) | Column::Participant(c) => {
                    c.push(u32::try_from(x).unwrap_or(NONE));
                }
                Column::Integer(c) | Column::Money(c) => c.push(x),
                Column::Raw(c) => c.push(field_text(text, raw)),
                // Not read in one pass (see `Ctx::ops`).
                _ => {}
            }
        }
        self.rows
            .lines
            .push(u32::try_from(line).unwrap_or(u32::MAX));
    }

    fn reserve(&mut self, rows: usize) {
        self.rows.ids.reserve(rows);
        self.rows.date.reserve(rows);
        self.rows.amount.reserve(rows);
        for c in &mut self.rows.fields {
            c.reserve(rows);
        }
    }

    /// Reads a row the general way, accepting or explaining every value;
    /// the id read (`prev`: the one before it), if the row has its fields.
    fn push_row<'r>(
        &mut self,
        ctx: &Ctx,
        row: &[&'r str],
        line: u64,
        prev: &[u8],
    ) -> Option<&'r str> {
        let schema = &ctx.ws.transactions;
        let l = &ctx.layout;
        if row.len() != l.width {
            self.errors.push(
                line,
                0,
                format!(
                    "this row has {} fields, but the header has {}",
                    row.len(),
                    l.width
                ),
                row.iter().any(|f| f.contains('\r')).then(|| {
                    "the line holds a carriage return alone (an old Mac line end), which \
                     attain does not read as the end of a line: save the file with line feed \
                     (LF) or CR LF line ends"
                        .into()
                }),
            );
            return None;
        }
        let id = trim(row[l.id]);
        if id.is_empty() {
            self.errors.push(
                line,
                l.id + 1,
                format!("`{}` is empty", schema.id_column),
                Some("every transaction needs an id".into()),
            );
        }
        self.read_id(id.as_bytes(), prev);
        self.rows.ids.push(id);
        self.rows
            .lines
            .push(u32::try_from(line).unwrap_or(u32::MAX));
        let raw_date = trim(row[l.date]);
        match super::parse_date(raw_date) {
            Some(d) => self.rows.date.push(d),
            None => {
                self.errors.push(
                    line,
                    l.date + 1,
                    format!(
                        "`{}` is `{raw_date}`, which is not a date",
                        schema.date_column
                    ),
                    Some("expected YYYY-MM-DD, like 2026-03-31".into()),
                );
                self.rows.date.push(jiff::civil::Date::MIN);
            }
        }
        let raw_amount = trim(row[l.amount]);
        match fast_minor_units(raw_amount, ctx.ws.minor_unit) {
            Some(v) if ctx.amount_min.allows(v) => self.rows.amount.push(v),
            _ => {
                let mut col = Column::Money(Vec::new());
                let reader = FieldReader {
                    field: &schema.amount,
                    column_index: l.amount,
                };
                read_field(
                    &reader,
                    raw_amount,
                    line,
                    &mut col,
                    &mut self.rows.text,
                    None,
                    ctx.ws.minor_unit,
                    &mut self.errors,
                );
                self.rows.amount.push(match col {
                    Column::Money(v) => v.first().copied().unwrap_or(super::MISSING),
                    _ => super::MISSING,
                });
            }
        }
        for (i, f) in schema.fields.iter().enumerate() {
            let ci = l.fields[i];
            let raw = row.get(ci).copied().unwrap_or("");
            if self.fast_field(ctx, i, raw) {
                continue;
            }
            let reader = FieldReader {
                field: f,
                column_index: ci,
            };
            read_field(
                &reader,
                raw,
                line,
                &mut self.rows.fields[i],
                &mut self.rows.text,
                Some(ctx.people),
                ctx.ws.minor_unit,
                &mut self.errors,
            );
        }
        self.check_splits(ctx, row, line);
        Some(id)
    }

    /// Stores the value of field `i` when it is ordinary; false (nothing
    /// stored) for anything else.
    fn fast_field(&mut self, ctx: &Ctx, i: usize, raw: &str) -> bool {
        match (fast_value(ctx, i, raw), self.rows.fields.get_mut(i)) {
            (Some(FastValue::Number(v)), Some(Column::Text(c) | Column::Participant(c))) => {
                c.push(u32::try_from(v).unwrap_or(NONE));
            }
            (Some(FastValue::Number(v)), Some(Column::Integer(c) | Column::Money(c))) => c.push(v),
            (Some(FastValue::Text(t)), Some(Column::Raw(c))) => c.push(t),
            _ => return false,
        }
        true
    }

    /// A split owner needs a percent, from 0 to 100, and all splits of a
    /// row together may not exceed 100%: checked here, where the row can
    /// be pointed at, rather than when crediting.
    /// A percent that is there but could not be read has been reported
    /// already (`row`: the row's fields).
    fn check_splits(&mut self, ctx: &Ctx, row: &[&str], line: u64) {
        let schema = &ctx.ws.transactions;
        let mut total = rust_decimal::Decimal::ZERO;
        for split in &ctx.ws.credit.splits {
            let crate::plan::SplitPercent::Field(pf) = split.percent else {
                continue;
            };
            let named = matches!(&self.rows.fields[split.to], Column::Participant(v) if v.last().is_some_and(|&p| p != NONE));
            if !named {
                continue;
            }
            let pct = match &self.rows.fields[pf] {
                Column::Integer(v) => v
                    .last()
                    .filter(|&&x| x != super::MISSING)
                    .map(|&x| rust_decimal::Decimal::from(x)),
                Column::Decimal(v) => v.last().copied().flatten(),
                _ => None,
            };
            let col = ctx.layout.fields[pf].saturating_add(1);
            let (pct_name, to_name) = (&schema.fields[pf].column, &schema.fields[split.to].column);
            match pct {
                None if !trim(row.get(ctx.layout.fields[pf]).copied().unwrap_or("")).is_empty() => {
                }
                None => self.errors.push(
                    line,
                    col,
                    format!("`{pct_name}` is empty, but `{to_name}` names a split owner"),
                    Some(format!(
                        "give the percent credited to the split owner, or leave `{to_name}` empty"
                    )),
                ),
                Some(p)
                    if p < rust_decimal::Decimal::ZERO
                        || p > rust_decimal::Decimal::ONE_HUNDRED =>
                {
                    self.errors.push(
                        line,
                        col,
                        format!("`{pct_name}` is `{p}`, which is not a percent from 0 to 100"),
                        None,
                    )
                }
                Some(p) => total += p,
            }
        }
        if total > rust_decimal::Decimal::ONE_HUNDRED {
            self.errors.push(
                line,
                0,
                format!("the split percents of this row add up to {total}%, more than 100%"),
                None,
            );
        }
    }
}

/// An id of up to 15 bytes as one integer, zero-padded, that orders as
/// its bytes do: when `order_key(a) < order_key(b)`, `a < b` (padding
/// sorts first, as a prefix does). No copy and no call to compare bytes,
/// once per row.
fn order_key(id: &[u8]) -> Option<u128> {
    let (lo, hi) = IdTable::key(id)?;
    // `key` reads the bytes little-endian, with the length in the top byte.
    let high = u128::from(lo.swap_bytes());
    let low = u128::from((hi & 0x00ff_ffff_ffff_ffff).swap_bytes());
    Some(high << 64 | low)
}

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(id)
}

/// Parses `1234.5` into minor units without going through a decimal type;
/// `None` for anything unusual (the careful parser then explains).
fn fast_minor_units(s: impl AsRef<[u8]>, minor_unit: u32) -> Option<i64> {
    let b = s.as_ref();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.len() > 18 {
        return checked_minor_units(neg, digits, minor_unit);
    }
    // At most 18 digits: the value cannot overflow, so no check per digit.
    let mut value: i64 = 0;
    let mut dot: Option<usize> = None;
    for (i, &c) in digits.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            value = value * 10 + i64::from(d);
        } else if c == b'.' && dot.is_none() {
            dot = Some(i);
        } else {
            return None;
        }
    }
    let frac = dot.map_or(0, |i| digits.len() - i - 1);
    if digits.len() == usize::from(dot.is_some()) || frac > minor_unit as usize {
        return None;
    }
    let v = value.checked_mul(10i64.checked_pow(minor_unit - frac as u32)?)?;
    Some(if neg { -v } else { v })
}

/// Reads the usual amount in cents, `1234.56`, with no loop: `v` is the
/// field at `from` in `bytes`, and its integer digits (one to eight) are
/// taken from the eight bytes before the point in one load and converted
/// together, pairs of digits, then fours, then eights. `None` for any other
/// shape (a sign, one decimal, no point, more digits), which
/// [`fast_minor_units`] then reads.
#[inline(always)]
fn fast_cents(bytes: &[u8], from: usize, v: &[u8]) -> Option<i64> {
    let n = v.len();
    if !(4..=11).contains(&n) || v.get(n - 3) != Some(&b'.') {
        return None;
    }
    let point = from + n - 3;
    let window: [u8; 8] = bytes.get(point.checked_sub(8)?..point)?.try_into().ok()?;
    // The integer digits are the highest `n - 3` bytes of the window.
    let units = eight_digits(digits_word(u64::from_le_bytes(window), n - 3))?;
    let tens = v.get(n - 2)?.wrapping_sub(b'0');
    let ones = v.get(n - 1)?.wrapping_sub(b'0');
    if tens > 9 || ones > 9 {
        return None;
    }
    Some(i64::from(units) * 100 + i64::from(tens) * 10 + i64::from(ones))
}

/// [`fast_minor_units`] for long numbers, every step checked.
fn checked_minor_units(neg: bool, digits: &[u8], minor_unit: u32) -> Option<i64> {
    let mut value: i64 = 0;
    let mut frac_digits: Option<u32> = None;
    let mut any = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
                any = true;
                if let Some(f) = frac_digits.as_mut() {
                    *f += 1;
                    if *f > minor_unit {
                        return None;
                    }
                }
            }
            b'.' if frac_digits.is_none() => frac_digits = Some(0),
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    let scale = minor_unit - frac_digits.unwrap_or(0);
    let v = value.checked_mul(10i64.checked_pow(scale)?)?;
    Some(if neg { -v } else { v })
}

/// Reads one piece of the file into `part`, through `sift` when given;
/// `ascii`: the piece is known to be ASCII.
fn read_part<S: Sift>(
    ctx: &Ctx,
    bytes: &[u8],
    first_line: u64,
    mut part: Part,
    sift: Option<&S>,
    ascii: bool,
) -> Parsed<S::Out> {
    part.clear(ctx);
    // Rows go one by one to a sift that takes them so only when each is
    // read in one pass; the others are stored and sifted as a block.
    let rows = sift
        .filter(|_| ctx.ops.is_some())
        .and_then(|s| s.rows(&part.rows));
    match rows {
        Some(mut rows) => {
            parse_block(ctx, bytes, first_line, &mut part, Some(&mut rows), ascii);
            let out = rows.finish();
            let clean = part.errors.errors.is_empty() && part.errors.more == 0;
            (part, clean.then_some((Keep::All, out)))
        }
        None => {
            parse_block(
                ctx,
                bytes,
                first_line,
                &mut part,
                None::<&mut S::Rows<'_>>,
                false,
            );
            sifted(part, sift)
        }
    }
}

/// Reads `bytes` into `part`; with a row sift, a row is stored only when
/// the sift keeps it. `ascii`: the bytes are known to be ASCII.
fn parse_block<R: RowSift>(
    ctx: &Ctx,
    bytes: &[u8],
    first_line: u64,
    part: &mut Part,
    mut sift: Option<&mut R>,
    ascii: bool,
) {
    // A guess, not a count: parts are reused, so this matters only the
    // first time, and a short guess just grows.
    if sift.is_none() {
        part.reserve(bytes.len() / 64);
    }
    // The piece as text, checked with vector instructions (`simdutf8`,
    // several times faster than the standard library's check on this
    // mostly-ASCII text); the standard check only to say where a piece
    // that fails it goes wrong. Not when it is ASCII and rows go one by
    // one to a sift: the few rows it keeps, or that go the general way,
    // are made text one by one (`field_text`, `line_text`), which costs
    // less than a pass over every byte.
    let checked = if ascii && sift.is_some() {
        Ok("")
    } else {
        simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
    };
    let text = match checked {
        Ok(t) => t,
        Err(e) => {
            let line =
                first_line + memchr::memchr_iter(b'\n', &bytes[..e.valid_up_to()]).count() as u64;
            part.errors.push(
                line,
                0,
                "this row is not valid UTF-8 text".into(),
                Some("save the file as UTF-8".into()),
            );
            part.lines = memchr::memchr_iter(b'\n', bytes).count() as u64;
            return;
        }
    };
    // Lines and fields are cut at ASCII bytes, found 64 at a time
    // ([`Separators`]); cutting valid UTF-8 at an ASCII byte always leaves
    // valid UTF-8.
    let mut seps = Separators::new(bytes);
    let mut fields: Vec<&str> = Vec::with_capacity(ctx.layout.width);
    let mut scratch = Scratch::new(ctx);
    let mut batch = Batch::new(ctx, ctx.layout.width);
    // The id of the last row read.
    let mut prev: &[u8] = b"";
    let mut start = 0;
    let mut line = first_line;
    // Cuts are 32-bit positions (a piece is a block, 8 MB, unless a line
    // is longer than that).
    let ops = ctx
        .ops
        .as_deref()
        .filter(|_| u32::try_from(bytes.len()).is_ok());
    while start < bytes.len() {
        let next = match ops {
            Some(ops) => {
                let next = batch.cut(bytes, start, &mut seps);
                batch.read(ctx, ops, bytes);
                next
            }
            None => {
                batch.rows = 0;
                start
            }
        };
        // Rows in file order: those of the batch, then (without one-pass
        // ops) one row the general way.
        let general_only = usize::from(ops.is_none());
        for r in 0..batch.rows + general_only {
            let ordinary = r < batch.rows && batch.ok.get(r).copied().unwrap_or(false);
            if ordinary {
                let id = batch.id(ctx, bytes, r);
                part.read_id(id, prev);
                prev = id;
                if sift.as_mut().is_none_or(|s| s.row(&batch.values.row(r))) {
                    part.store(text, id, &batch.values, r, line);
                }
            } else {
                let (from, end) = if r < batch.rows {
                    batch.span(r)
                } else {
                    (start, seps.line_end(None))
                };
                let raw = line_text(text, bytes, from..end);
                let row = raw.strip_suffix('\r').unwrap_or(raw);
                if !row.is_empty() {
                    fields.clear();
                    fields.extend(row.split(','));
                    let problems = part.errors.errors.len() + part.errors.more;
                    if let Some(id) = part.push_row(ctx, &fields, line, prev) {
                        prev = id.as_bytes();
                    }
                    let clean = part.errors.errors.len() + part.errors.more == problems;
                    if let Some(s) = sift.as_mut().filter(|_| clean) {
                        scratch.last_of(&part.rows);
                        let raw = raw_of_last(&part.rows);
                        if !s.row(&scratch.row(&raw)) {
                            part.truncate(part.rows.len().saturating_sub(1));
                        }
                    }
                }
                if r == batch.rows {
                    start = end + 1;
                }
            }
            line += 1;
        }
        if ops.is_some() {
            start = next;
        }
    }
    part.last_id = String::from_utf8_lossy(prev).into_owned();
    part.lines = line - first_line;
}

/// Reads until `buf[..*filled]` holds `want` bytes or the input ends (then
/// true). The buffer is initialized once and reused: reading into a
/// vector's spare room would zero it again on every call.
fn fill<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    filled: &mut usize,
    want: usize,
) -> std::io::Result<bool> {
    grow(buf, want);
    while *filled < want {
        match reader.read(&mut buf[*filled..want]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Makes `buf` at least `want` bytes long. A new zeroed vector comes from
/// the allocator already zero (pages are zeroed as first touched), where
/// `resize` would write every zero itself. It is made an eighth longer
/// than asked: a buffer is asked for a block and the partial line before
/// it, which differs from block to block, and each new longest would
/// otherwise cost a whole new buffer, its pages touched afresh.
fn grow(buf: &mut Vec<u8>, want: usize) {
    if buf.len() < want {
        let mut bigger = vec![0u8; want + want / 8];
        bigger[..buf.len()].copy_from_slice(buf);
        *buf = bigger;
    }
}

/// Splits `bytes` at line ends into pieces that shrink as they go, for
/// `threads` cores taking them in order (`parse_pieces`): each is a
/// `2 × threads`-th of what is left, and at least a 64th of the whole. The
/// cores start on large pieces and end on small ones, so at a block's end
/// neither waits long for the other: with pieces of one size, that wait
/// was half a piece a block on average (doubling the blocks cost ≈ 0.15 ms
/// each at L).
fn split_at_lines(bytes: &[u8], threads: usize) -> Vec<std::ops::Range<usize>> {
    let smallest = (bytes.len() / 64).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let size = ((bytes.len() - start) / (2 * threads.max(1))).max(smallest);
        let end = bytes
            .get(start + size..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(bytes.len(), |i| start + size + i + 1);
        out.push(start..end);
        start = end;
    }
    out
}

/// How a buffer is parsed: scanned for `"`, cut after its last line end,
/// split into pieces, each piece's lines counted. Made for the next buffer
/// on the side that reads it, so that these scans of every byte do not
/// hold up the cores between blocks.
struct BlockPlan {
    /// The buffer holds a `"`: the rest of the file goes record by record.
    quoted: bool,
    /// The buffer is ASCII, so valid UTF-8 with no check.
    ascii: bool,
    /// Bytes parsed now; the rest waits for the next read.
    cut: usize,
    pieces: Vec<std::ops::Range<usize>>,
    /// Line ends in each piece, when counted (see `load_in_blocks`).
    lines: Vec<u64>,
}

impl BlockPlan {
    fn new(data: &[u8], eof: bool, pieces: usize, count_lines: bool) -> BlockPlan {
        let (quoted, ascii) = super::separators::quotes_and_ascii(data);
        if quoted {
            return BlockPlan {
                quoted: true,
                ascii,
                cut: 0,
                pieces: Vec::new(),
                lines: Vec::new(),
            };
        }
        let cut = if eof {
            data.len()
        } else {
            memchr::memrchr(b'\n', data).map_or(0, |i| i + 1)
        };
        let block = &data[..cut];
        let pieces = split_at_lines(block, pieces);
        let lines = if count_lines {
            pieces
                .iter()
                .map(|r| memchr::memchr_iter(b'\n', &block[r.clone()]).count() as u64)
                .collect()
        } else {
            Vec::new()
        };
        BlockPlan {
            quoted: false,
            ascii,
            cut,
            pieces,
            lines,
        }
    }
}

/// Reads the transactions file; `people` resolves participant fields.
pub fn load_transactions<R: Read + Send>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    reader: R,
) -> Result<Transactions, Vec<Diagnostic>> {
    match load_in_blocks::<R, KeepAll>(ws, people, file, reader, BLOCK, None, None)? {
        Sifted::Read { kept, .. } => Ok(*kept),
        // Only a sift stops at ids out of order; a plain read never does.
        Sifted::OutOfOrder => Err(vec![Diagnostic::error(
            Location::file(file),
            "the read stopped before the end of the file",
        )]),
    }
}

/// Which rows of a block the reader keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    All,
    /// These rows (ascending), and no other.
    Rows(Vec<u32>),
}

/// What a reader does with each block of rows as soon as it is parsed, on
/// the core that parsed it, while the block is still in cache: a run that
/// needs only totals adds them up there and keeps just the rows it must
/// read again, so the whole file is never held in memory.
pub trait Sift: Sync {
    /// What the sift makes of one block, handed back in file order.
    type Out: Send;

    /// The sift of one block taking its rows one at a time.
    type Rows<'s>: RowSift<Out = Self::Out>
    where
        Self: 's;

    /// A sift for one block that sees each row as soon as it is read,
    /// before it is stored: rows it does not keep are never stored at all.
    /// `empty` is the block before its first row (its interned text is
    /// what [`Row`] text ids refer to). `None`: blocks go to
    /// [`Sift::sift`] whole. Rows not read in one pass (quoted files,
    /// fields read carefully) always go to `sift`.
    fn rows<'s>(&'s self, empty: &Transactions) -> Option<Self::Rows<'s>>;

    /// `rows` is one block, read without error (blocks with errors are
    /// not sifted: the read fails anyway).
    fn sift(&self, rows: &Transactions) -> (Keep, Self::Out);
}

/// A [`Sift`] for one block that takes its rows one at a time.
pub trait RowSift {
    type Out;

    /// Whether `row` is kept. Rows of a block with errors are given too,
    /// up to the first error: the read fails, so what the sift makes of
    /// them does not matter.
    fn row(&mut self, row: &Row) -> bool;

    /// What the sift made of the block.
    fn finish(self) -> Self::Out;
}

/// The sift of a plain read: every row kept.
pub struct KeepAll;

impl Sift for KeepAll {
    type Out = ();
    type Rows<'s> = KeepAll;

    fn rows(&self, _empty: &Transactions) -> Option<KeepAll> {
        None
    }

    fn sift(&self, _rows: &Transactions) -> (Keep, ()) {
        (Keep::All, ())
    }
}

impl RowSift for KeepAll {
    type Out = ();

    fn row(&mut self, _row: &Row) -> bool {
        true
    }

    fn finish(self) {}
}

/// A sifted read.
pub enum Sifted<T> {
    /// The rows kept, and the sift's outcome for each block, in file order.
    Read {
        kept: Box<Transactions>,
        outs: Vec<T>,
    },
    /// The ids do not ascend, so their uniqueness needs every id: the
    /// read stopped, and the file must be read whole by
    /// [`load_transactions`].
    OutOfOrder,
}

/// Reads the transactions file through `sift`. Rows the sift does not keep
/// are still read and checked (every error is reported as by
/// [`load_transactions`]); their ids are unique when they ascend, which is
/// checked as they pass, and otherwise the read stops with
/// [`Sifted::OutOfOrder`].
pub fn sift_transactions<R: Read + Send, S: Sift>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    reader: R,
    sift: &S,
) -> Result<Sifted<S::Out>, Vec<Diagnostic>> {
    load_in_blocks(ws, people, file, reader, BLOCK, Some(sift), None)
}

/// [`sift_transactions`] in blocks of `block_size` bytes, so that tests
/// can cross block boundaries with small files.
#[doc(hidden)]
pub fn sift_transactions_in_blocks<R: Read + Send, S: Sift>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    reader: R,
    sift: &S,
    block_size: usize,
) -> Result<Sifted<S::Out>, Vec<Diagnostic>> {
    load_in_blocks(
        ws,
        people,
        file,
        reader,
        block_size.max(1),
        Some(sift),
        None,
    )
}

/// [`sift_transactions`] of a file, read by position: rows that go one by
/// one to the sift are read in chunks by the cores that parse them (see
/// `read_chunks`); `progress` is told the bytes parsed as they are.
pub fn sift_file<S: Sift>(
    ws: &Workspace,
    people: &Participants,
    name: &str,
    file: &std::fs::File,
    sift: &S,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sifted<S::Out>, Vec<Diagnostic>> {
    sift_file_in_blocks(ws, people, name, file, sift, progress, BLOCK)
}

/// [`sift_file`] in blocks of `block_size` bytes (chunks of a sixteenth of
/// that), so that tests can cross chunk boundaries with small files.
#[doc(hidden)]
pub fn sift_file_in_blocks<S: Sift>(
    ws: &Workspace,
    people: &Participants,
    name: &str,
    file: &std::fs::File,
    sift: &S,
    progress: &(dyn Fn(u64) + Sync),
    block_size: usize,
) -> Result<Sifted<S::Out>, Vec<Diagnostic>> {
    let reader = ReadAt {
        file,
        from: 0,
        progress,
    };
    let at = Positional { file, progress };
    load_in_blocks(
        ws,
        people,
        name,
        reader,
        block_size.max(1),
        Some(sift),
        Some(at),
    )
}

/// A parsed part, with what the sift made of it (`None` when it has
/// errors, or no sift is given).
type Parsed<T> = (Part, Option<(Keep, T)>);

/// A read part with what `sift` makes of it, when it has no errors.
fn sifted<S: Sift>(part: Part, sift: Option<&S>) -> Parsed<S::Out> {
    let clean = part.errors.errors.is_empty() && part.errors.more == 0;
    let sifted = sift.filter(|_| clean).map(|s| s.sift(&part.rows));
    (part, sifted)
}

/// [`load_transactions`] with the block size as a parameter, so tests can
/// cross block boundaries with small files, and an optional sift.
fn load_in_blocks<R: Read + Send, S: Sift>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    mut reader: R,
    block_size: usize,
    sift: Option<&S>,
    positional: Option<Positional>,
) -> Result<Sifted<S::Out>, Vec<Diagnostic>> {
    let schema = &ws.transactions;
    let read_error = |e: std::io::Error| {
        vec![Diagnostic::error(
            Location::file(file),
            format!("cannot read the file: {e}"),
        )]
    };

    // The header, through the csv crate so a quoted header is fine.
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let header_end = loop {
        if let Some(i) = memchr::memchr(b'\n', &buf) {
            break i + 1;
        }
        let n = reader.read(&mut chunk).map_err(read_error)?;
        if n == 0 {
            break buf.len();
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&buf[..header_end]);
    let header = header_reader
        .records()
        .next()
        .transpose()
        .map_err(|e| vec![csv_error(file, &e)])?
        .unwrap_or_default();
    // The csv crate ends a record at a carriage return alone too; the rows
    // below are cut at line feeds only. A header line ended that way would
    // take the rows after it along, unread, so it is refused.
    let header_read = usize::try_from(header_reader.position().byte()).unwrap_or(header_end);
    let after_header = buf.get(header_read..header_end).unwrap_or_default();
    if !matches!(after_header, b"" | b"\n" | b"\r\n") {
        return Err(vec![Diagnostic::error(
            Location::line_column(file, 1, 0),
            "the header line ends with a carriage return alone (an old Mac line end), \
             which attain does not read as the end of a line"
                .to_string(),
        )
        .with_hint(
            "save the file with line feed (LF) or CR LF line ends, as \"CSV UTF-8\" does",
        )]);
    }
    let mut wanted: Vec<(&str, bool)> = vec![
        (schema.id_column.as_str(), true),
        (schema.date_column.as_str(), true),
        (schema.amount.column.as_str(), true),
    ];
    for f in &schema.fields {
        wanted.push((f.column.as_str(), !f.optional));
    }
    let cols = bind_columns(file, &header, &wanted)?;
    // An optional column absent from the file reads as empty: its index
    // points past the row's end.
    let width = header.len();
    let at = |c: Option<usize>| c.unwrap_or(width);
    let layout = Layout {
        id: at(cols[0]),
        date: at(cols[1]),
        amount: at(cols[2]),
        fields: cols[3..].iter().map(|&c| at(c)).collect(),
        width,
    };
    let ctx = Ctx::new(ws, people, file, layout);
    buf.drain(..header_end);
    let mut filled = buf.len();

    let threads = rayon::current_num_threads().max(1);
    let mut merger = Merger::new(&ctx);
    let mut outs: Vec<S::Out> = Vec::new();
    // Adds a parsed part to what is kept.
    let mut take = |merger: &mut Merger, (mut part, sifted): Parsed<S::Out>| {
        let keep = match sifted {
            Some((keep, out)) => {
                outs.push(out);
                keep
            }
            None => Keep::All,
        };
        merger.add(&mut part, &keep);
        part
    };
    let mut next_line: u64 = 2;
    // Pieces number their lines from 1 and the merge, which takes them in
    // file order, moves the numbers to the file's; this saves counting
    // every piece's line ends before it is parsed. Not where rows are
    // sifted as a block: the sift's messages name lines as it writes them.
    // Whether they are is asked once, here, as `read_part` asks it of each
    // part (for a fold: its filters compiled, one lock taken).
    let relative = match sift {
        None => true,
        Some(s) => {
            let empty = Part::new(&ctx);
            ctx.ops.is_some() && s.rows(&empty.rows).is_some()
        }
    };
    merger.relative = relative;
    let mut quoted = false;
    // Rows going one by one to a sift, from a file: read in chunks by the
    // cores that parse them (`read_chunks`), with no blocks.
    let mut quoted_at: Option<u64> = None;
    let chunked = match positional.filter(|_| relative && sift.is_some()) {
        Some(at) => {
            // 512 KB: 1 MB and 256 KB chunks were each ≈ 10 ms slower at L.
            let chunk = (block_size / 16).max(1) as u64;
            let read = read_chunks(&ctx, at, header_end as u64, chunk, threads, sift)
                .map_err(read_error)?;
            for parsed in read.parsed {
                take(&mut merger, parsed);
                if !merger.ascending {
                    return Ok(Sifted::OutOfOrder);
                }
            }
            quoted_at = read.quoted_at;
            quoted = quoted_at.is_some();
            true
        }
        None => false,
    };
    let mut eof =
        chunked || fill(&mut reader, &mut buf, &mut filled, block_size).map_err(read_error)?;
    // Two buffers take turns: one is parsed while the other is filled.
    let mut spare: Vec<u8> = Vec::new();
    // Parts parsed but not merged yet: they are merged, and the next block
    // read, while the following block is parsed. Merged parts are kept for
    // reuse.
    let mut pending: Vec<Parsed<S::Out>> = Vec::new();
    let mut pool: Vec<Part> = Vec::new();
    // Pieces for the cores to take in order (see `split_at_lines`): every
    // block waits for its last piece (and for the read of the next).
    let n_pieces = threads;
    let mut next_plan: Option<BlockPlan> = None;
    // Otherwise, blocks.
    if !chunked {
        loop {
            if sift.is_some() && !merger.ascending {
                return Ok(Sifted::OutOfOrder);
            }
            let data = &buf[..filled];
            let plan = next_plan
                .take()
                .unwrap_or_else(|| BlockPlan::new(data, eof, n_pieces, !relative));
            if plan.quoted {
                quoted = true;
                break;
            }
            let cut = plan.cut;
            if cut == 0 {
                if eof {
                    break;
                }
                // A line longer than a block: read on.
                let want = filled + block_size;
                eof = fill(&mut reader, &mut buf, &mut filled, want).map_err(read_error)?;
                continue;
            }
            let (block, rest) = data.split_at(cut);
            let pieces: Vec<&[u8]> = plan.pieces.iter().map(|r| &block[r.clone()]).collect();
            let mut firsts = Vec::with_capacity(pieces.len());
            if relative {
                firsts.resize(pieces.len(), 1);
            } else {
                let mut line = next_line;
                for &n in &plan.lines {
                    firsts.push(line);
                    line += n;
                }
                next_line = line;
            }
            grow(&mut spare, rest.len() + block_size);
            spare[..rest.len()].copy_from_slice(rest);
            let mut spare_filled = rest.len();
            let work: Vec<_> = pieces
                .into_iter()
                .zip(firsts)
                .map(|(p, l)| (p, l, pool.pop().unwrap_or_else(|| Part::new(&ctx))))
                .collect();
            let done = std::mem::take(&mut pending);
            let (parsed, filled_next) = rayon::join(
                || {
                    parse_pieces(work, threads, |(p, l, part)| {
                        read_part(&ctx, p, l, part, sift, plan.ascii)
                    })
                },
                || {
                    let merged: Vec<Part> =
                        done.into_iter().map(|p| take(&mut merger, p)).collect();
                    let eof_next = if eof {
                        Ok(true)
                    } else {
                        fill(&mut reader, &mut spare, &mut spare_filled, block_size)
                    };
                    let plan = eof_next
                        .as_ref()
                        .ok()
                        .map(|&e| BlockPlan::new(&spare[..spare_filled], e, n_pieces, !relative));
                    (merged, eof_next, plan)
                },
            );
            let (merged, filled_next, plan) = filled_next;
            pool.extend(merged);
            pending = parsed;
            next_plan = plan;
            eof = filled_next.map_err(read_error)?;
            std::mem::swap(&mut buf, &mut spare);
            filled = spare_filled;
            if eof && filled == 0 {
                break;
            }
        }
    }
    drop(pool);
    drop(spare);
    for parsed in pending {
        take(&mut merger, parsed);
    }
    if quoted {
        // The rest of the file, record by record.
        buf.truncate(filled);
        let rest: Box<dyn Read + '_> = match (quoted_at, positional) {
            (Some(from), Some(at)) => Box::new(ReadAt {
                file: at.file,
                from,
                progress: at.progress,
            }),
            _ => Box::new(std::io::Cursor::new(std::mem::take(&mut buf)).chain(reader)),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(rest);
        let mut part = Part::new(&ctx);
        let mut prev = String::new();
        let read_error = each_record(file, &mut rdr, merger.next_line - 1, |line, record| {
            let row: Vec<&str> = record.iter().collect();
            if let Some(id) = part.push_row(&ctx, &row, line, prev.as_bytes()) {
                prev.clear();
                prev.push_str(id);
            }
        });
        part.last_id.clone_from(&prev);
        part.errors.errors.extend(read_error);
        // Numbered from the file's lines already.
        merger.relative = false;
        take(&mut merger, sifted(part, sift));
    }
    if sift.is_some() && !merger.ascending {
        return Ok(Sifted::OutOfOrder);
    }
    let kept = merger.finish(file)?;
    Ok(Sifted::Read {
        kept: Box::new(kept),
        outs,
    })
}

/// A file read by position ([`sift_file`]), with what to tell as its
/// bytes are parsed.
#[derive(Clone, Copy)]
pub struct Positional<'f> {
    pub file: &'f std::fs::File,
    pub progress: &'f (dyn Fn(u64) + Sync),
}

/// A file read from `from` on, by position, `progress` told the bytes.
struct ReadAt<'f> {
    file: &'f std::fs::File,
    from: u64,
    progress: &'f (dyn Fn(u64) + Sync),
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.from)?;
        self.from += n as u64;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// The parts [`read_chunks`] parsed, in file order, and where a chunk
/// holding a `"` stopped them.
struct Chunked<T> {
    parsed: Vec<Parsed<T>>,
    quoted_at: Option<u64>,
}

/// A chunk's state in [`read_chunks`]: not known yet; it and every chunk
/// before it hold no `"` (so it is parsed); it is not parsed.
const CHUNK_UNKNOWN: u8 = 0;
const CHUNK_CLEAN: u8 = 1;
const CHUNK_STOP: u8 = 2;

/// Reads a file from `start` in chunks of `chunk` bytes, each read by
/// position and parsed by the core that read it (`threads` of them take
/// chunks in order): the bytes the kernel copies are still in that core's
/// cache when it parses them, where 8 MB blocks read on one side landed in
/// memory that the parse read again (and every block waited for its last
/// piece). A chunk parses the lines that start in it, reading past its end
/// for its last. No chunk is parsed before every chunk ahead of it is
/// known to hold no `"` (each says so as soon as it is scanned); the
/// first that holds one stops the chunks, and the record reader takes the
/// rest of the file from there.
fn read_chunks<S: Sift>(
    ctx: &Ctx,
    at: Positional,
    start: u64,
    chunk: u64,
    threads: usize,
    sift: Option<&S>,
) -> std::io::Result<Chunked<S::Out>> {
    use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
    let len = at.file.metadata()?.len();
    let n = usize::try_from(len.saturating_sub(start).div_ceil(chunk)).unwrap_or(usize::MAX);
    let states: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(CHUNK_UNKNOWN)).collect();
    let next = AtomicUsize::new(0);
    let stopped: std::sync::Mutex<(Option<u64>, Option<std::io::Error>)> =
        std::sync::Mutex::new((None, None));
    let mut parsed: Vec<(usize, Parsed<S::Out>)> = (0..threads.max(1))
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            let mut buf: Vec<u8> = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(state) = states.get(k) else {
                    break;
                };
                let from = start + k as u64 * chunk;
                let to = (from + chunk).min(len);
                let read = read_chunk(at.file, &mut buf, (start, from, to, len));
                let scanned = read.map(|(begin, end)| {
                    let bytes = buf.get(begin..end).unwrap_or_default();
                    let (quoted, ascii) = super::separators::quotes_and_ascii(bytes);
                    (begin, end, quoted, ascii)
                });
                // Every chunk ahead known clean: the one before says so.
                let ahead_clean = match k.checked_sub(1).and_then(|j| states.get(j)) {
                    None => true,
                    Some(before) => loop {
                        match before.load(Ordering::Acquire) {
                            CHUNK_UNKNOWN => std::thread::yield_now(),
                            s => break s == CHUNK_CLEAN,
                        }
                    },
                };
                match scanned {
                    Ok((begin, end, false, ascii)) if ahead_clean => {
                        state.store(CHUNK_CLEAN, Ordering::Release);
                        let bytes = buf.get(begin..end).unwrap_or_default();
                        (at.progress)(bytes.len() as u64);
                        mine.push((k, read_part(ctx, bytes, 1, Part::new(ctx), sift, ascii)));
                    }
                    outcome => {
                        if ahead_clean {
                            if let Ok(mut stop) = stopped.lock() {
                                match outcome {
                                    Ok((begin, ..)) => {
                                        let skip = if k == 0 { 0 } else { 1 };
                                        stop.0 = Some(from - skip + begin as u64);
                                    }
                                    Err(e) => stop.1 = Some(e),
                                }
                            }
                        }
                        state.store(CHUNK_STOP, Ordering::Release);
                        break;
                    }
                }
            }
            mine
        })
        .collect();
    let (quoted_at, error) = stopped.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = error {
        return Err(e);
    }
    parsed.sort_unstable_by_key(|(k, _)| *k);
    Ok(Chunked {
        parsed: parsed.into_iter().map(|(_, p)| p).collect(),
        quoted_at,
    })
}

/// Reads the chunk of bytes `from..to` of a file `len` long whose data
/// starts at `start` into `buf`, with the byte before it and as much after
/// it as its last line needs: where, in `buf`, the lines that start in the
/// chunk begin and end (equal when none starts in it).
fn read_chunk(
    file: &std::fs::File,
    buf: &mut Vec<u8>,
    (start, from, to, len): (u64, u64, u64, u64),
) -> std::io::Result<(usize, usize)> {
    use std::os::unix::fs::FileExt;
    // The byte before the chunk says whether a line starts at its first.
    let at = if from > start { from - 1 } else { from };
    let lead = (from - at) as usize;
    let own = (to - from) as usize;
    let mut want = (lead + own + 4096).min((len - at) as usize);
    let mut got = 0;
    loop {
        grow(buf, want);
        while got < want {
            match file.read_at(&mut buf[got..want], at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let data = &buf[..got];
        let begin = if lead == 0 {
            0
        } else {
            match memchr::memchr(b'\n', data.get(..lead + own).unwrap_or(data)) {
                Some(i) if i + 1 < lead + own => i + 1,
                _ => return Ok((0, 0)),
            }
        };
        // The line holding the chunk's last byte ends the chunk.
        let last = lead + own - 1;
        match memchr::memchr(b'\n', data.get(last..).unwrap_or_default()) {
            Some(i) => return Ok((begin, last + i + 1)),
            None if at + got as u64 >= len || got < want => return Ok((begin, got)),
            None => want = (want * 2).min((len - at) as usize),
        }
    }
}

/// `parse` of every piece of `work`, in order, on `threads` cores taking
/// the pieces one after another as they finish (not split in halves
/// ahead of time, as a parallel iterator would), so that pieces that
/// shrink as they go leave the cores little to wait for at the end.
fn parse_pieces<W: Send, P: Send>(
    work: Vec<W>,
    threads: usize,
    parse: impl Fn(W) -> P + Sync,
) -> Vec<P> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<W>>> = work
        .into_iter()
        .map(|w| std::sync::Mutex::new(Some(w)))
        .collect();
    let mut done: Vec<(usize, P)> = (0..threads)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(slot) = slots.get(i) else {
                    break;
                };
                let taken = slot.lock().ok().and_then(|mut w| w.take());
                if let Some(w) = taken {
                    mine.push((i, parse(w)));
                }
            }
            mine
        })
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, p)| p).collect()
}

/// Joins parts in file order as they are parsed (so a block's memory is
/// released before the next is read), re-interning text; checks at the end
/// that ids are unique across the whole file.
struct Merger {
    t: Transactions,
    /// Every id so far is greater than the one before it (files exported
    /// in id order): they are unique, and no hash need be sorted.
    ascending: bool,
    errors: Vec<Diagnostic>,
    more: usize,
    too_large: bool,
    /// 1-based column of the id, for duplicate reports.
    id_column: usize,
    /// The last id read, kept or not.
    last_id: Option<String>,
    /// The line the next part starts on.
    next_line: u64,
    /// Parts number their lines from 1 (see `load_in_blocks`).
    relative: bool,
}

impl Merger {
    fn new(ctx: &Ctx) -> Merger {
        let t = Transactions {
            fields: ctx.empty_columns(),
            text: ctx.seed.clone(),
            ..Transactions::default()
        };
        Merger {
            t,
            ascending: true,
            errors: Vec::new(),
            more: 0,
            too_large: false,
            id_column: ctx.layout.id.saturating_add(1),
            last_id: None,
            next_line: 2,
            relative: false,
        }
    }

    fn add(&mut self, p: &mut Part, keep: &Keep) {
        if self.relative {
            let by = self.next_line - 1;
            for e in &mut p.errors.errors {
                if e.location.line > 0 {
                    e.location.line += by as usize;
                }
            }
            p.rows.lines.shift(u32::try_from(by).unwrap_or(u32::MAX));
        }
        self.next_line += p.lines;
        self.errors.append(&mut p.errors.errors);
        self.more += p.errors.more;
        // Ids ascend across parts when each part's first id follows the
        // last id read before it, kept or not.
        if let (Some(last), Some(first)) = (&self.last_id, &p.first_id) {
            self.ascending &= last < first;
        }
        self.ascending &= p.ascending;
        if p.first_id.is_some() {
            let mut id = self.last_id.take().unwrap_or_default();
            id.clone_from(&p.last_id);
            self.last_id = Some(id);
        }
        let fits = match keep {
            Keep::All => self.t.append(&p.rows),
            Keep::Rows(rows) => self.t.append_rows(&p.rows, rows),
        };
        self.too_large |= !fits;
    }

    /// Checks that ids are unique across the whole file and returns the data
    /// or every problem.
    fn finish(self, file: &str) -> Result<Transactions, Vec<Diagnostic>> {
        let Merger {
            t,
            ascending,
            mut errors,
            mut more,
            too_large,
            id_column,
            ..
        } = self;
        if too_large {
            return Err(vec![Diagnostic::error(
                Location::file(file),
                "the transaction ids add up to more than 4 GB of text",
            )]);
        }
        // Unique ids: ids in ascending order are; otherwise sort their
        // hashes alone to find any that repeat (in place, 8 bytes each);
        // only rows with such a hash, usually none, are compared by text,
        // in row order so the report is stable.
        let mut sorted: Vec<u64> = if ascending {
            Vec::new()
        } else {
            (0..t.len())
                .into_par_iter()
                .map(|i| id_hash(t.id(i)))
                .collect()
        };
        sorted.par_sort_unstable();
        let mut repeated: Vec<u64> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        drop(sorted);
        repeated.dedup();
        let mut pairs: Vec<(u64, u32)> = if repeated.is_empty() {
            Vec::new()
        } else {
            (0..t.len())
                .map(|i| (id_hash(t.id(i)), i as u32))
                .filter(|(h, _)| repeated.binary_search(h).is_ok())
                .collect()
        };
        pairs.sort_unstable();
        let mut dups: Vec<(u32, u32)> = Vec::new();
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            if run.len() < 2 {
                continue;
            }
            for (k, &(_, row)) in run.iter().enumerate().skip(1) {
                let id = t.id(row as usize);
                if id.is_empty() {
                    continue;
                }
                if let Some(&(_, first)) = run[..k].iter().find(|(_, r)| t.id(*r as usize) == id) {
                    dups.push((row, first));
                }
            }
        }
        drop(pairs);
        dups.sort_unstable();
        for (row, first) in dups {
            if errors.len() < MAX_ROW_ERRORS {
                errors.push(
                    Diagnostic::error(
                        Location::line_column(file, t.line(row as usize) as usize, id_column),
                        format!(
                            "transaction `{}` appears twice (first on line {})",
                            t.id(row as usize),
                            t.line(first as usize)
                        ),
                    )
                    .with_hint(
                        "each transaction id must be unique; a changed row should replace the old one",
                    ),
                );
            } else {
                more += 1;
            }
        }
        if errors.is_empty() {
            return Ok(t);
        }
        errors.sort_by_key(|d| d.location.line);
        if errors.len() > MAX_ROW_ERRORS {
            more += errors.len() - MAX_ROW_ERRORS;
            errors.truncate(MAX_ROW_ERRORS);
        }
        if more > 0 {
            errors.push(Diagnostic::note(
                Location::file(file),
                format!("and {more} more problems in this file"),
            ));
        }
        Err(errors)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    /// A plain read in blocks of `block` bytes.
    fn load_in_blocks(
        ws: &Workspace,
        people: &Participants,
        file: &str,
        bytes: &[u8],
        block: usize,
    ) -> Result<Transactions, Vec<Diagnostic>> {
        match super::load_in_blocks::<_, KeepAll>(ws, people, file, bytes, block, None, None)? {
            Sifted::Read { kept, .. } => Ok(*kept),
            Sifted::OutOfOrder => panic!("a plain read stopped"),
        }
    }

    #[test]
    fn fast_amounts() {
        assert_eq!(fast_minor_units("1234.5", 2), Some(123450));
        assert_eq!(fast_minor_units("1234.50", 2), Some(123450));
        assert_eq!(fast_minor_units("0.07", 2), Some(7));
        assert_eq!(fast_minor_units("12.3", 2), Some(1230));
        assert_eq!(fast_minor_units("1..23", 2), None);
        assert_eq!(fast_minor_units("1.2a", 2), None);
        assert_eq!(fast_minor_units("5.", 0), Some(5));
        assert_eq!(fast_minor_units("5", 0), Some(5));
        assert_eq!(fast_minor_units("5.0", 0), None);
        assert_eq!(
            fast_minor_units("999999999999999.99", 2),
            Some(99_999_999_999_999_999)
        );
        assert_eq!(fast_minor_units("-0.07", 2), Some(-7));
        assert_eq!(fast_minor_units("12", 2), Some(1200));
        assert_eq!(fast_minor_units("1.234", 2), None);
        assert_eq!(fast_minor_units("1,2", 2), None);
        assert_eq!(fast_minor_units("", 2), None);
        assert_eq!(fast_minor_units(".", 2), None);
        assert_eq!(fast_minor_units("99999999999999999999", 2), None);
        assert_eq!(fast_minor_units(".5", 2), Some(50));
        assert_eq!(fast_minor_units("5.", 2), Some(500));
        assert_eq!(fast_minor_units("-", 2), None);
        assert_eq!(fast_minor_units("1.2.3", 2), None);
        assert_eq!(fast_minor_units("123456789012345678", 2), None);
        assert_eq!(
            fast_minor_units("1234567890123456.7", 2),
            Some(123456789012345670)
        );
        assert_eq!(
            fast_minor_units("-92233720368547758.07", 2),
            Some(-9223372036854775807)
        );
    }

    #[test]
    fn cents_read_in_one_load_as_read_digit_by_digit() {
        let amounts = [
            "0.00",
            "7.05",
            "723.70",
            "12345678.99",
            "99999999.99",
            "100.00",
            "1.2.3",
            "12.3",
            "-12.30",
            "1x.00",
            "12.3x",
            ".50",
            "123456789.00",
            "1:.00",
            "1/.00",
            "12.a0",
            "00000001.01",
            "+1.00",
            " 1.00",
        ];
        for amount in amounts {
            for before in [
                "",
                "x",
                "DL1,",
                "2026-01-02,",
                "ffffffffffff,",
                "9999999999,",
            ] {
                let line = format!("{before}{amount},R1");
                let from = before.len();
                let v = &line.as_bytes()[from..from + amount.len()];
                let one_load = fast_cents(line.as_bytes(), from, v);
                if let Some(x) = one_load {
                    assert_eq!(Some(x), fast_minor_units(v, 2), "{line}");
                }
                // Eight bytes before the point are needed for the load.
                let usual = from + amount.len() >= 11
                    && amount.len() >= 4
                    && amount.len() <= 11
                    && amount.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && amount.as_bytes()[amount.len() - 3] == b'.'
                    && amount.matches('.').count() == 1;
                assert_eq!(one_load.is_some(), usual, "{line}");
            }
        }
        assert_eq!(fast_cents(b"DL1,2026,723.70", 9, b"723.70"), Some(72370));
        assert_eq!(
            fast_cents(b"x,723.70", 2, b"723.70"),
            None,
            "no room before"
        );
        assert_eq!(
            fast_cents(b"99999999.99", 0, b"99999999.99"),
            Some(9_999_999_999)
        );
        assert_eq!(
            fast_cents(b",99999999.99", 1, b"99999999.99"),
            Some(9_999_999_999)
        );
        assert_eq!(
            fast_cents(b"12345678,99999999.99", 9, b"99999999.99"),
            Some(9_999_999_999)
        );
    }

    #[test]
    fn id_keys_are_the_padded_bytes() {
        let text = "abcdefghijklmnopq";
        for n in 0..=15 {
            let id = &text.as_bytes()[..n];
            let mut b = [0u8; 16];
            b[..n].copy_from_slice(id);
            b[15] = n as u8;
            let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            let hi = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
            assert_eq!(IdTable::key(id), Some((lo, hi)), "{n}");
        }
        assert_eq!(IdTable::key(text.as_bytes()), None);
    }

    /// Blocks of a few bytes give the same data, errors and line numbers
    /// as one block: across block ends, a line longer than a block, and a
    /// quoted field appearing in a later block.
    #[test]
    fn block_boundaries_change_nothing() {
        // `kind` with a list of values lets ordinary rows take the one-pass
        // reader; without, every row goes the general way. Both must read
        // the same data.
        // A quoted field sends the rest of the file to the csv crate, so
        // the one-pass reader is compared on a file without one.
        let general = blocks_read_alike("", false);
        let one_pass = blocks_read_alike(", values = [\"a\", \"b\"]", false);
        blocks_read_alike(", values = [\"a\", \"b\"]", true);
        // Each field as text, whatever column holds it.
        let value = |t: &Transactions, f: usize, i: usize| match &t.fields[f] {
            Column::Participant(v) => v[i].to_string(),
            Column::Raw(v) => v.get(i).to_string(),
            Column::Text(v) => t.text.text(v[i]).to_string(),
            _ => String::new(),
        };
        for i in 0..300 {
            assert_eq!(general.id(i), one_pass.id(i));
            assert_eq!(general.amount[i], one_pass.amount[i]);
            assert_eq!(general.date[i], one_pass.date[i]);
            assert_eq!(general.line(i), one_pass.line(i));
            for f in 0..3 {
                assert_eq!(value(&general, f, i), value(&one_pass, f, i), "row {i}");
            }
        }
        let of_kind =
            |want: fn(&Column) -> bool| one_pass.fields.iter().position(want).unwrap_or(0);
        let kind = of_kind(|c| matches!(c, Column::Text(_)));
        let note = of_kind(|c| matches!(c, Column::Raw(_)));
        let owner = of_kind(|c| matches!(c, Column::Participant(_)));
        assert_eq!(value(&one_pass, kind, 9), "a");
        assert_eq!(value(&one_pass, note, 10), "n10");
        assert_eq!(value(&one_pass, owner, 8), "0");
    }

    fn blocks_read_alike(kind_values: &str, quoted: bool) -> Transactions {
        use crate::diag::SourceFile;
        let ws_text = r#"
[participants]
id = "id"
[transactions]
id = "id"
date = "date"
amount = "amount"
[transactions.fields]
owner = { type = "participant" }
note = "text"
kind = { type = "text"KIND }
[credit]
to = "owner"
[measures]
n = { count = "credits", where = "kind == 'a'" }
"#;
        let ws_text = ws_text.replace("KIND", kind_values);
        let checked = crate::plan::check_workspace(&SourceFile::new("attain.toml", ws_text), &[]);
        let Some(ws) = checked.workspace else {
            panic!("{}", crate::diag::render(&checked.diagnostics));
        };
        let people = crate::data::load_participants(&ws, "p.csv", "id\np1\np2\n".as_bytes())
            .unwrap_or_default();
        let mut csv = String::from("id,date,amount,owner,note,kind\n");
        for i in 0..300 {
            let note = if i == 120 {
                "x".repeat(500)
            } else {
                format!("n{i}")
            };
            let note = if i == 250 && quoted {
                "\"with, comma\"".to_string()
            } else {
                note
            };
            let kind = if i % 3 == 0 { "a" } else { "b" };
            let owner = if i % 2 == 0 { "p1" } else { "p2" };
            // Valid but out of the ordinary: blanks around values.
            let (pad, owner) = match i % 50 {
                7 => (" ", owner.to_string()),
                8 => ("", format!(" {owner}")),
                _ => ("", owner.to_string()),
            };
            let kind = if i % 50 == 9 {
                format!(" {kind}")
            } else {
                kind.to_string()
            };
            let note = if i % 50 == 10 {
                format!("{note} ")
            } else {
                note
            };
            let date_pad = if i % 50 == 11 { " " } else { "" };
            csv.push_str(&format!(
                "{pad}t{i},{date_pad}2026-01-{:02},{pad}{}.{:02},{owner},{note},{kind}\n",
                i % 28 + 1,
                i,
                i % 100
            ));
        }
        let whole = load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), 1 << 20);
        let Ok(whole) = whole else {
            panic!("whole file failed")
        };
        for block in [64, 97, 256, 1000] {
            let Ok(t) = load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), block) else {
                panic!("block {block} failed");
            };
            assert_eq!(t.len(), 300, "block {block}");
            for i in 0..300 {
                assert_eq!(t.id(i), whole.id(i), "block {block} row {i}");
                assert_eq!(t.amount[i], whole.amount[i]);
                assert_eq!(t.line(i), whole.line(i));
                assert_eq!(t.date[i], whole.date[i]);
            }
            let note = |t: &Transactions, i: usize| match &t.fields[1] {
                Column::Raw(r) => r.get(i).to_string(),
                _ => String::new(),
            };
            if quoted {
                assert_eq!(note(&t, 250), "with, comma");
            }
            assert_eq!(note(&t, 120).len(), 500);
            assert_eq!(t.line(299), 301);
        }
        // A bad row is reported on its own line whatever the block size.
        let bad = csv.replace("t204,2026-01-09,", "t204,2026-13-09,");
        for block in [64, 1 << 20] {
            let Err(errors) = load_in_blocks(&ws, &people, "d.csv", bad.as_bytes(), block) else {
                panic!(
                    "bad date accepted with blocks of {block}: {}",
                    bad.lines().nth(205).unwrap_or("")
                );
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].location.line, 206);
        }
        whole
    }

    #[test]
    fn line_ends_blank_lines_and_short_rows_read_alike() {
        use crate::diag::SourceFile;
        // `kind` with a list of values sends ordinary rows through the
        // one-pass reader; without, every row goes the general way.
        let read = |kind_values: &str, csv: &str| {
            let ws_text = r#"
[participants]
id = "id"
[transactions]
id = "id"
date = "date"
amount = "amount"
[transactions.fields]
owner = { type = "participant" }
kind = { type = "text"KIND }
[credit]
to = "owner"
[measures]
n = { count = "credits", where = "kind == 'a'" }
"#
            .replace("KIND", kind_values);
            let checked =
                crate::plan::check_workspace(&SourceFile::new("attain.toml", ws_text), &[]);
            let Some(ws) = checked.workspace else {
                panic!("{}", crate::diag::render(&checked.diagnostics));
            };
            let people = crate::data::load_participants(&ws, "p.csv", "id\np1\n".as_bytes())
                .unwrap_or_default();
            load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), 1 << 20)
        };
        let one_pass = ", values = [\"a\", \"b\"]";
        // Windows line ends, blank lines (with and without `\r`) between
        // and after rows, a last row without a line end, and more rows than
        // a batch holds.
        let mut csv = String::from("id,date,amount,owner,kind\r\n");
        for i in 0..300 {
            csv.push_str(&format!("t{i:03},2026-02-{:02},{i}.5,p1,a\r\n", i % 28 + 1));
            if i % 97 == 5 {
                csv.push_str("\r\n\n");
            }
        }
        csv.push_str("t300,2026-03-01,7,p1,b");
        let (Ok(general), Ok(fast)) = (read("", &csv), read(one_pass, &csv)) else {
            panic!("a file with blank lines and Windows line ends was refused");
        };
        assert_eq!(fast.len(), 301);
        for i in 0..301 {
            assert_eq!(fast.id(i), general.id(i));
            assert_eq!(fast.line(i), general.line(i));
            assert_eq!(fast.amount[i], general.amount[i]);
            assert_eq!(fast.date[i], general.date[i]);
        }
        assert_eq!(fast.line(300), 310, "blank lines count as lines");
        assert_eq!(fast.amount[300], 700);
        // A row with a field too many or too few, among ordinary rows, is
        // named on its own line by either reader.
        for bad in ["t150,2026-02-01,1,p1,a,extra", "t150,2026-02-01,1,p1"] {
            let csv = csv.replacen("t150,2026-02-11,150.5,p1,a", bad, 1);
            for kind_values in ["", one_pass] {
                let Err(errors) = read(kind_values, &csv) else {
                    panic!("{bad:?} accepted");
                };
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert_eq!(errors[0].location.line, 156, "{bad:?}");
            }
        }
        // A row a field short followed by a line of one field: the batch
        // holds as many separators as whole rows would, each group of
        // five ending on a line end, but one line end too many. (Enough
        // rows that the first piece holds whole batches.)
        let mut csv = String::from("id,date,amount,owner,kind\n");
        for i in 0..3000 {
            match i {
                150 => csv.push_str("t150,2026-02-01,1,p1\na\n"),
                _ => csv.push_str(&format!("t{i:03},2026-02-01,{i},p1,a\n")),
            }
        }
        for kind_values in ["", one_pass] {
            let Err(errors) = read(kind_values, &csv) else {
                panic!("a short row and a line of one field accepted");
            };
            let lines: Vec<usize> = errors.iter().map(|e| e.location.line).collect();
            assert_eq!(lines, [152, 153], "{errors:?}");
        }
    }

    /// A carriage return alone ends a record for the csv crate, which
    /// reads the header, but not a row for the readers, which cut at line
    /// feeds: a header line ended that way is refused, where it used to
    /// take the rows after it along unread.
    #[test]
    fn old_mac_line_ends_are_refused_not_skipped() {
        let (ws, people) = one_owner();
        let all_cr = "id,date,amount,owner\rt1,2026-01-02,1.00,p1\rt2,2026-01-03,2.00,p1\r";
        let header_cr = "id,date,amount,owner\rt1,2026-01-02,1.00,p1\nt2,2026-01-03,2.00,p1\n";
        for csv in [all_cr, header_cr] {
            let Err(errors) = load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), 1 << 20) else {
                panic!("{csv:?} was read");
            };
            assert_eq!(
                crate::diag::render(&errors),
                "error: d.csv:1: the header line ends with a carriage return alone (an old \
                 Mac line end), which attain does not read as the end of a line\n  = help: \
                 save the file with line feed (LF) or CR LF line ends, as \"CSV UTF-8\" \
                 does\n\n"
            );
        }
        // Rows ended that way under a header that is not: each such line
        // is one row of too many fields, said so.
        let rows_cr = "id,date,amount,owner\nt1,2026-01-02,1.00,p1\rt2,2026-01-03,2.00,p1\r";
        let Err(errors) = load_in_blocks(&ws, &people, "d.csv", rows_cr.as_bytes(), 1 << 20) else {
            panic!("{rows_cr:?} was read");
        };
        assert_eq!(
            crate::diag::render(&errors),
            "error: d.csv:2: this row has 7 fields, but the header has 4\n  = help: the line \
             holds a carriage return alone (an old Mac line end), which attain does not read \
             as the end of a line: save the file with line feed (LF) or CR LF line ends\n\n"
        );
        // Windows line ends, and a header alone however it ends, still read.
        for (csv, rows) in [
            (
                "id,date,amount,owner\r\nt1,2026-01-02,1.00,p1\r\nt2,2026-01-03,2.00,p1",
                2,
            ),
            ("id,date,amount,owner\r\n", 0),
            ("id,date,amount,owner\r", 0),
            ("id,date,amount,owner", 0),
        ] {
            let Ok(read) = load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), 1 << 20) else {
                panic!("{csv:?} was refused");
            };
            assert_eq!(read.len(), rows, "{csv:?}");
        }
    }

    /// A workspace of transactions `id,date,amount,owner` and its one
    /// participant, `p1`.
    fn one_owner() -> (Workspace, Participants) {
        use crate::diag::SourceFile;
        let ws_text = r#"
[participants]
id = "id"
[transactions]
id = "id"
date = "date"
amount = "amount"
[transactions.fields]
owner = { type = "participant" }
[credit]
to = "owner"
[measures]
n = { count = "credits" }
"#;
        let checked = crate::plan::check_workspace(&SourceFile::new("attain.toml", ws_text), &[]);
        let Some(ws) = checked.workspace else {
            panic!("{}", crate::diag::render(&checked.diagnostics));
        };
        let people =
            crate::data::load_participants(&ws, "p.csv", "id\np1\n".as_bytes()).unwrap_or_default();
        (ws, people)
    }

    /// A sift that keeps some rows gets every block once, in file order;
    /// the rows kept are those a plain read holds at the same places, with
    /// their lines; a row with an error is reported as by a plain read.
    /// Keeps rows whose amount has an odd number of cents; says how many
    /// rows each block had. Takes blocks whole, or (`.0`) rows one at a
    /// time.
    struct Odd(bool);
    struct OddRows(usize);
    impl Sift for Odd {
        type Out = usize;
        type Rows<'s> = OddRows;
        fn rows(&self, _empty: &Transactions) -> Option<OddRows> {
            self.0.then_some(OddRows(0))
        }
        fn sift(&self, rows: &Transactions) -> (Keep, usize) {
            let keep = (0..rows.len() as u32)
                .filter(|&i| rows.amount[i as usize] % 2 == 1)
                .collect();
            (Keep::Rows(keep), rows.len())
        }
    }
    impl RowSift for OddRows {
        type Out = usize;
        fn row(&mut self, row: &Row) -> bool {
            self.0 += 1;
            row.amount % 2 == 1
        }
        fn finish(self) -> usize {
            self.0
        }
    }

    /// What a sifted read gave, to compare two reads.
    fn summary(read: Result<Sifted<usize>, Vec<Diagnostic>>) -> String {
        match read {
            Ok(Sifted::Read { kept, outs }) => {
                let rows: Vec<String> = (0..kept.len())
                    .map(|k| format!("{} {} {}", kept.id(k), kept.line(k), kept.amount[k]))
                    .collect();
                format!("read {} rows: {rows:?}", outs.iter().sum::<usize>())
            }
            Ok(Sifted::OutOfOrder) => "out of order".into(),
            Err(errors) => format!("{errors:?}"),
        }
    }

    /// A file read by position, in chunks parsed where they are read, reads
    /// as the same bytes read as a stream: at chunk boundaries anywhere,
    /// through quotes (the record reader takes over at the first chunk
    /// holding one), long lines, text past ASCII, bytes that are not
    /// UTF-8, blank lines and Windows line ends.
    #[test]
    fn files_read_by_position_read_as_streams() {
        let (ws, people) = one_owner();
        let header = "id,date,amount,owner\n";
        let rows: String = (0..300)
            .map(|i| format!("t{i:04},2026-01-02,0.{:02},p1\n", i % 100))
            .collect();
        let whole = format!("{header}{rows}");
        let mut files: Vec<Vec<u8>> = vec![
            whole.clone().into_bytes(),
            whole.trim_end().as_bytes().to_vec(),
            whole
                .replace("t0007,", "\nt0007,")
                .replace("p1\nt001", "p1\r\nt001")
                .into_bytes(),
            whole
                .replace("t0000,2026-01-02,0.00,p1", "t0000,2026-01-02,0.00,\"p1\"")
                .into_bytes(),
            whole
                .replace("t0150,2026-01-02,0.50,p1", "t0150,2026-01-02,\"0.50\",p1")
                .into_bytes(),
            whole
                .replace("t0299,2026-01-02,0.99,p1", "t0299,2026-01-02,0.99,\"p\n1\"")
                .into_bytes(),
            whole.replace('t', "tø").into_bytes(),
            whole
                .replace(
                    "t0120,2026-01-02,0.20,p1",
                    &format!("t0120,2026-01-02,0.20,p1{}", " ".repeat(3000)),
                )
                .into_bytes(),
            whole.replace("t0005,", "t9999,").into_bytes(),
            whole
                .replace("t0150,2026-01-02", "t0150,2026-13-02")
                .into_bytes(),
            header.as_bytes().to_vec(),
            header.trim_end().as_bytes().to_vec(),
            Vec::new(),
        ];
        let mut broken = whole.clone().into_bytes();
        broken[whole.find("t0201,").unwrap_or(0)] = 0xff;
        files.push(broken);
        let path = std::env::temp_dir().join(format!("attain-chunks-{}.csv", std::process::id()));
        for (n, content) in files.iter().enumerate() {
            let written = std::fs::write(&path, content);
            let Ok(file) = written.and_then(|()| std::fs::File::open(&path)) else {
                panic!("cannot write {}", path.display());
            };
            for block in [8, 50, 97, 256, 4096, 1 << 20] {
                for rows in [true, false] {
                    let odd = Odd(rows);
                    let streamed = sift_transactions_in_blocks(
                        &ws,
                        &people,
                        "d.csv",
                        &content[..],
                        &odd,
                        block,
                    );
                    let told = std::sync::atomic::AtomicU64::new(0);
                    let progress = |b: u64| {
                        told.fetch_add(b, std::sync::atomic::Ordering::Relaxed);
                    };
                    let by_position =
                        sift_file_in_blocks(&ws, &people, "d.csv", &file, &odd, &progress, block);
                    assert_eq!(
                        summary(streamed),
                        summary(by_position),
                        "file {n}, block {block}, rows {rows}"
                    );
                    assert!(
                        told.into_inner() > 0 || content.is_empty(),
                        "file {n}: no progress told"
                    );
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn sifted_reads_keep_what_the_sift_asks_for() {
        let (ws, people) = one_owner();
        // Plain ASCII, which rows sifted one at a time read without a
        // UTF-8 check of the whole piece, and text that is not ASCII.
        for prefix in ["t", "tø"] {
            let mut csv = String::from("id,date,amount,owner\n");
            for i in 0..300 {
                // A blank line now and then moves the lines off the rows.
                if i % 97 == 0 {
                    csv.push('\n');
                }
                csv.push_str(&format!("{prefix}{i:04},2026-01-02,0.{:02},p1\n", i % 100));
            }
            let Ok(whole) = load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), 1 << 20) else {
                panic!("plain read failed");
            };
            for (block, rows) in [50, 97, 256, 4096, 1 << 20]
                .into_iter()
                .flat_map(|b| [(b, false), (b, true)])
            {
                let odd = Odd(rows);
                let read =
                    sift_transactions_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), &odd, block);
                let Ok(Sifted::Read { kept, outs }) = read else {
                    panic!("sifted read failed (block {block})");
                };
                assert_eq!(outs.iter().sum::<usize>(), 300, "block {block}");
                let odd: Vec<usize> = (0..300).filter(|&i| whole.amount[i] % 2 == 1).collect();
                assert_eq!(kept.len(), odd.len(), "block {block}");
                for (k, &i) in odd.iter().enumerate() {
                    assert_eq!(kept.id(k), whole.id(i), "block {block}");
                    assert_eq!(kept.line(k), whole.line(i), "block {block}");
                    assert_eq!(kept.amount[k], whole.amount[i], "block {block}");
                }
            }
            // Out of order: the sift stops; a bad row: the same errors.
            let swapped = csv.replace(&format!("{prefix}0005,"), &format!("{prefix}9999,"));
            let bad = csv.replace(
                &format!("{prefix}0150,2026-01-02"),
                &format!("{prefix}0150,2026-13-02"),
            );
            // Not UTF-8: the same one error, read whole or sifted.
            let mut broken = csv.clone().into_bytes();
            let at = csv.find(&format!("{prefix}0201,")).unwrap_or(0);
            broken[at] = 0xff;
            for bad in [bad.into_bytes(), broken] {
                let plain = load_in_blocks(&ws, &people, "d.csv", &bad[..], 97).err();
                assert!(plain.is_some());
                for odd in [Odd(false), Odd(true)] {
                    let read = sift_transactions_in_blocks(
                        &ws,
                        &people,
                        "d.csv",
                        swapped.as_bytes(),
                        &odd,
                        97,
                    );
                    assert!(matches!(read, Ok(Sifted::OutOfOrder)));
                    let sifted =
                        sift_transactions_in_blocks(&ws, &people, "d.csv", &bad[..], &odd, 97)
                            .err();
                    assert_eq!(plain, sifted);
                }
            }
        }
    }

    /// Ids in ascending order skip the hash sort; a repeat is still found
    /// whether it follows its twin, comes blocks later, or breaks the order.
    #[test]
    fn repeated_ids_are_found_in_ordered_files() {
        let (ws, people) = one_owner();
        let file = |ids: &[String]| {
            let mut csv = String::from("id,date,amount,owner\n");
            for id in ids {
                csv.push_str(&format!("{id},2026-01-02,1.00,p1\n"));
            }
            csv
        };
        let ordered: Vec<String> = (0..200).map(|i| format!("t{i:04}")).collect();
        for block in [64, 1 << 20] {
            let read = |csv: &str| load_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), block);
            let Ok(t) = read(&file(&ordered)) else {
                panic!("ordered ids refused (block {block})");
            };
            assert_eq!(t.len(), 200);
            // (row that repeats, row it repeats) → lines 2 + row.
            for (at, twin) in [(1, 0), (150, 3), (199, 198)] {
                let mut ids = ordered.clone();
                ids[at] = ids[twin].clone();
                let Err(errors) = read(&file(&ids)) else {
                    panic!("repeat of row {twin} at row {at} missed (block {block})");
                };
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert_eq!(errors[0].location.line, at + 2);
                assert!(
                    errors[0]
                        .message
                        .ends_with(&format!("appears twice (first on line {})", twin + 2)),
                    "{}",
                    errors[0].message
                );
            }
        }
    }

    /// A row the one-pass reader rolls back after taking its id (here the
    /// blank before the amount) is read again and still follows the id before it.
    #[test]
    fn rows_read_twice_keep_ids_ascending() {
        let (ws, people) = one_owner();
        let layout = Layout {
            id: 0,
            date: 1,
            amount: 2,
            fields: vec![3],
            width: 4,
        };
        let ctx = Ctx::new(&ws, &people, "d.csv", layout);
        let rows = "t1,2026-01-02,1.00,p1\nt2,2026-01-02, 1.00,p1\nt3,2026-01-02,1.00,p1\n";
        let (part, _) =
            read_part::<KeepAll>(&ctx, rows.as_bytes(), 2, Part::new(&ctx), None, false);
        assert_eq!(part.rows.ids.len(), 3);
        assert!(part.errors.errors.is_empty());
        assert!(part.ascending);
        let rows = "t1,2026-01-02,1.00,p1\nt3,2026-01-02, 1.00,p1\nt2,2026-01-02,1.00,p1\n";
        let (part, _) =
            read_part::<KeepAll>(&ctx, rows.as_bytes(), 2, Part::new(&ctx), None, false);
        assert!(!part.ascending);
        // Ids too long for an order key are compared as text, with the id
        // of the row before, whichever way each row was read.
        for (order, ascending) in [([1, 2, 3], true), ([1, 3, 2], false), ([2, 1, 3], false)] {
            let rows: String = order
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let amount = if k == 1 { " 1.00" } else { "1.00" };
                    format!("transaction-number-{n},2026-01-02,{amount},p1\n")
                })
                .collect();
            let (part, _) =
                read_part::<KeepAll>(&ctx, rows.as_bytes(), 2, Part::new(&ctx), None, false);
            assert_eq!(part.ascending, ascending, "{order:?}");
            assert_eq!(
                part.first_id.as_deref(),
                Some(format!("transaction-number-{}", order[0]).as_str())
            );
            assert_eq!(part.last_id, format!("transaction-number-{}", order[2]));
        }
    }

    #[test]
    fn fields_are_text_as_cut() {
        let text = "id,nom\nt1,Zoë Ångström\nt2,\u{1F600}x\n";
        let bytes = text.as_bytes();
        for field in ["t1", "Zoë Ångström", "\u{1F600}x", "nom", ""] {
            let cut = text
                .find(field)
                .and_then(|at| bytes.get(at..at + field.len()))
                .unwrap_or_default();
            assert_eq!(field_text(text, cut), field);
        }
        // Bytes from elsewhere are checked as text the usual way.
        let elsewhere = String::from("Zoë");
        assert_eq!(field_text(text, elsewhere.as_bytes()), "Zoë");
    }

    #[test]
    fn fast_integers_and_bounds() {
        assert_eq!(fast_integer("42"), Some(42));
        assert_eq!(fast_integer("-7"), Some(-7));
        assert_eq!(fast_integer("+7"), None);
        assert_eq!(fast_integer("-"), None);
        assert_eq!(fast_integer("1e3"), None);
        assert_eq!(fast_integer("9999999999999999999"), None);
        let half = rust_decimal::Decimal::new(5, 1);
        assert!(Bound::new(Some(half), 0).allows(1));
        assert!(!Bound::new(Some(half), 0).allows(0));
        assert!(Bound::new(Some(half), 2).allows(50));
        assert!(!Bound::new(Some(half), 2).allows(49));
        assert!(Bound::new(None, 2).allows(i64::MIN));
    }

    #[test]
    fn id_table_finds_what_the_map_finds() {
        let mut people = Participants::default();
        let ids = [
            "a",
            "a\0",
            "R0000790",
            "",
            "123456789012345",
            "a-much-longer-participant-id",
        ];
        for (i, id) in ids.iter().enumerate() {
            people.ids.push(id.to_string());
            people.index.insert(id.to_string(), i as u32);
        }
        let t = IdTable::new(&people);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.get(&people, id), Some(i as u32), "{id}");
        }
        for id in ["b", "a\0\0", "R0000791", "a-much-longer-participant-ie"] {
            assert_eq!(t.get(&people, id), None, "{id}");
        }
    }

    #[test]
    fn order_keys_order_as_bytes() {
        let ids = [
            "",
            "\0",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "abcdefg",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefgi",
            "b",
            "b0000000000000",
            "zzzzzzzzzzzzzzz",
        ];
        for a in ids {
            for b in ids {
                if let (Some(x), Some(y)) = (order_key(a.as_bytes()), order_key(b.as_bytes())) {
                    if x < y {
                        assert!(a < b, "{a:?} {b:?}");
                    }
                    if a < b && !b.starts_with(a) {
                        assert!(x < y, "{a:?} {b:?}");
                    }
                }
            }
        }
        assert_eq!(order_key(b"0123456789abcdef"), None);
    }

    #[test]
    fn splits_land_on_line_ends() {
        let rows: String = (0..5000).map(|i| format!("r{i},{}\n", i % 977)).collect();
        for text in [
            &b"a,1\nb,2\nc,3\nd,4\n"[..],
            b"a,1\nb,2",
            b"",
            rows.as_bytes(),
        ] {
            for threads in [1, 2, 3, 8] {
                let parts: Vec<&[u8]> = split_at_lines(text, threads)
                    .into_iter()
                    .map(|r| &text[r])
                    .collect();
                assert_eq!(parts.concat(), text.to_vec());
                if let Some((last, rest)) = parts.split_last() {
                    assert!(rest.iter().all(|p| p.ends_with(b"\n")));
                    assert_eq!(text.ends_with(b"\n"), last.ends_with(b"\n"));
                }
                assert!(parts.iter().all(|p| !p.is_empty()));
            }
        }
        // Large pieces first, small ones last.
        let sizes: Vec<usize> = split_at_lines(rows.as_bytes(), 2)
            .into_iter()
            .map(|r| r.len())
            .collect();
        assert!(sizes.len() > 10, "{sizes:?}");
        assert!(sizes[0] > 4 * sizes[sizes.len() - 2], "{sizes:?}");
        let but_last = &sizes[..sizes.len() - 1];
        assert!(but_last.iter().all(|&n| n >= rows.len() / 64), "{sizes:?}");
    }

    #[test]
    fn pieces_are_parsed_once_each_and_given_back_in_order() {
        for threads in [1, 2, 5] {
            for n in [0, 1, 2, 7, 100] {
                let work: Vec<usize> = (0..n).collect();
                let parsed = parse_pieces(work, threads, |i| i * 10);
                assert_eq!(parsed, (0..n).map(|i| i * 10).collect::<Vec<_>>());
            }
        }
    }
}
