//! Where the commas and line ends of a piece of a CSV file are, found 64
//! bytes at a time with vector compares and handed out in order.
//!
//! Fields are short (8 bytes on average in a CRM export): a search started
//! afresh at every field, even eight bytes at a time, spends more on its
//! set-up and its last partial word than on finding. Here every byte is
//! compared once, sixteen at a time (`wide` does the compares and the
//! `movemask` in safe code, on whatever vector unit the target has), and
//! each separator then costs a count of trailing zeros.

use wide::u8x16;

/// Bytes looked at per window: one bit each in a `u64`.
const WINDOW: usize = 64;

/// The positions of `,` and `\n` in `bytes`, in order.
#[derive(Clone)]
pub(super) struct Separators<'b> {
    bytes: &'b [u8],
    /// Where the current window starts.
    base: usize,
    /// One bit per separator of the current window not handed out yet.
    mask: u64,
}

impl<'b> Separators<'b> {
    pub(super) fn new(bytes: &'b [u8]) -> Separators<'b> {
        Separators {
            bytes,
            base: 0,
            mask: window_mask(bytes, 0),
        }
    }

    /// The position of the next separator, or `None` past the last.
    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += WINDOW;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = window_mask(self.bytes, self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }

    /// Where the line goes on to end, after a separator at `last` (`None`:
    /// the line has only begun): the next `\n`, or the end of the bytes.
    pub(super) fn line_end(&mut self, last: Option<usize>) -> usize {
        if let Some(at) = last {
            if self.bytes.get(at) == Some(&b'\n') {
                return at;
            }
        }
        while let Some(at) = self.next() {
            if self.bytes.get(at) == Some(&b'\n') {
                return at;
            }
        }
        self.bytes.len()
    }
}

/// Whether `bytes` hold a `"`, and whether they hold a byte that is not
/// ASCII: one pass, sixteen bytes a step, for both. A block with neither is
/// read without its UTF-8 check (ASCII is valid UTF-8), and the search for
/// quotes, which every block needs, costs no more for it.
pub(super) fn quotes_and_ascii(bytes: &[u8]) -> (bool, bool) {
    let quote = u8x16::splat(b'"');
    let mut quotes = u8x16::splat(0);
    let mut any = u8x16::splat(0);
    let mut chunks = bytes.chunks_exact(WINDOW);
    for chunk in &mut chunks {
        for lanes in chunk.chunks_exact(16) {
            let lanes: [u8; 16] = lanes.try_into().unwrap_or_default();
            let v = u8x16::from(lanes);
            quotes |= v.simd_eq(quote);
            any |= v;
        }
    }
    let tail = chunks.remainder();
    let quoted = quotes.to_bitmask() != 0 || tail.contains(&b'"');
    let ascii = any.to_bitmask() == 0 && tail.is_ascii();
    (quoted, ascii)
}

/// How many `\n` `bytes` hold, counted sixteen bytes a step: each lane
/// counts its own in a byte, added up across lanes every 255 steps (before
/// a byte could overflow), as `popcnt` is not an instruction every x86-64
/// has.
pub(super) fn count_line_ends(bytes: &[u8]) -> usize {
    let end = u8x16::splat(b'\n');
    let mut count = 0;
    let mut stretches = bytes.chunks_exact(16 * 255);
    let mut add_up = |stretch: &[u8]| {
        let mut lanes = u8x16::splat(0);
        for chunk in stretch.chunks_exact(16) {
            let chunk: [u8; 16] = chunk.try_into().unwrap_or_default();
            // A match is all ones: minus one, so subtracting adds one.
            lanes -= u8x16::from(chunk).simd_eq(end);
        }
        count += lanes
            .to_array()
            .iter()
            .map(|&n| usize::from(n))
            .sum::<usize>();
    };
    for stretch in &mut stretches {
        add_up(stretch);
    }
    let rest = stretches.remainder();
    add_up(rest);
    let tail = rest.get(rest.len() / 16 * 16..).unwrap_or_default();
    count + tail.iter().filter(|&&b| b == b'\n').count()
}

/// One bit per `,` or `\n` among the 64 bytes from `base` (bytes past the
/// end count as neither).
#[inline(always)]
fn window_mask(bytes: &[u8], base: usize) -> u64 {
    let mut window = [0u8; WINDOW];
    let window = match bytes.get(base..base + WINDOW) {
        Some(full) => full,
        None => {
            let tail = bytes.get(base..).unwrap_or_default();
            if let Some(dst) = window.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            &window[..]
        }
    };
    let commas = u8x16::splat(b',');
    let ends = u8x16::splat(b'\n');
    let mut mask = 0;
    for (i, chunk) in window.chunks_exact(16).enumerate() {
        let lanes: [u8; 16] = chunk.try_into().unwrap_or_default();
        let v = u8x16::from(lanes);
        let found = v.simd_eq(commas) | v.simd_eq(ends);
        mask |= u64::from(found.to_bitmask()) << (16 * i);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<usize> {
        let mut s = Separators::new(bytes);
        std::iter::from_fn(|| s.next()).collect()
    }

    #[test]
    fn every_separator_is_found_in_order() {
        // Lengths around the window's edges, separators at every offset.
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 130, 200] {
            for every in [1, 2, 3, 7, 64] {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| match i % every {
                        0 if i % 2 == 0 => b',',
                        0 => b'\n',
                        _ => b'x',
                    })
                    .collect();
                let expected: Vec<usize> = (0..len).filter(|i| i % every == 0).collect();
                assert_eq!(all(&bytes), expected, "len {len}, every {every}");
            }
        }
    }

    #[test]
    fn quotes_and_carriage_returns_are_not_separators() {
        assert_eq!(all(b"a,\"b\r\n,c"), vec![1, 5, 6]);
        assert_eq!(all(&[0xff, b',', 0x80, b'\n']), vec![1, 3]);
    }

    #[test]
    fn quotes_and_bytes_past_ascii_are_found_anywhere() {
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 200] {
            let plain = vec![b'a'; len];
            assert_eq!(quotes_and_ascii(&plain), (false, true), "len {len}");
            for at in 0..len {
                let mut quoted = plain.clone();
                quoted[at] = b'"';
                assert_eq!(
                    quotes_and_ascii(&quoted),
                    (true, true),
                    "len {len}, at {at}"
                );
                let mut high = plain.clone();
                high[at] = 0x80;
                assert_eq!(
                    quotes_and_ascii(&high),
                    (false, false),
                    "len {len}, at {at}"
                );
                high[at] = 0xff;
                assert_eq!(
                    quotes_and_ascii(&high),
                    (false, false),
                    "len {len}, at {at}"
                );
            }
        }
        assert_eq!(quotes_and_ascii("café \"x\"".as_bytes()), (true, false));
    }

    #[test]
    fn line_ends_are_counted_at_any_length() {
        // Past 255 steps of sixteen, where the lanes' counts are added up.
        for len in [0, 1, 15, 16, 17, 4079, 4080, 4081, 4096, 9000, 12_345] {
            for every in [1, 2, 7, 16, 67] {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| if i % every == 0 { b'\n' } else { b',' })
                    .collect();
                let expected = (0..len).filter(|i| i % every == 0).count();
                assert_eq!(
                    count_line_ends(&bytes),
                    expected,
                    "len {len}, every {every}"
                );
            }
        }
    }

    #[test]
    fn line_ends_are_found_after_any_field() {
        let bytes = b"a,b,c\nd,e\n\nf";
        let mut s = Separators::new(bytes);
        let first = s.next();
        assert_eq!(first, Some(1));
        assert_eq!(s.line_end(first), 5);
        let comma = s.next();
        assert_eq!(comma, Some(7));
        assert_eq!(s.line_end(comma), 9);
        assert_eq!(s.line_end(None), 10);
        assert_eq!(s.line_end(None), 12, "the last line has no line end");
        assert_eq!(s.next(), None);
    }
}
