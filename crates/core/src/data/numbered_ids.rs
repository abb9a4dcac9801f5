//! Participant ids made of a prefix and a fixed number of digits
//! (`R0000790`, `E-104233`), the way HR and CRM systems number people:
//! those of the most common such shape are found by their number in a
//! dense table, with no hashing. A deal names one or two participants, so
//! this lookup runs tens of millions of times in a large run; the dense
//! table is a tenth of the size of a hash table of the same people and
//! stays in a core's nearest cache.

use super::digits::{digits_word, eight_digits};
use super::NONE;

pub(super) struct NumberedIds {
    /// Bytes in an id of this shape (at most 8).
    len: usize,
    /// Digits that end it (1 to `len`), after the prefix.
    digits: usize,
    /// The prefix's bytes, little-endian, where [`NumberedIds::word`]
    /// puts them, and the mask of those bytes.
    prefix: u64,
    prefix_mask: u64,
    /// The participant of each number (`NONE`: no one).
    index: Vec<u32>,
}

impl NumberedIds {
    /// The table of the ids of the most common shape in `ids` (a prefix
    /// and digits, 8 bytes at most), when they are dense enough that the
    /// table is not much larger than a hash table of the people.
    pub(super) fn new(ids: &[String]) -> Option<NumberedIds> {
        let trailing = |id: &[u8]| id.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        // Shapes by length and prefix.
        let mut shapes: std::collections::HashMap<(usize, &[u8]), usize> =
            std::collections::HashMap::new();
        for id in ids.iter().map(|id| id.as_bytes()) {
            let digits = trailing(id);
            if (1..=8).contains(&id.len()) && digits > 0 {
                let prefix = id.get(..id.len() - digits).unwrap_or_default();
                *shapes.entry((id.len(), prefix)).or_default() += 1;
            }
        }
        // The most common; of as common, the first in byte order.
        let (&(len, prefix), _) = shapes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
        let prefix_len = prefix.len();
        let prefix_mask = if prefix_len == 0 {
            0
        } else {
            u64::MAX >> (8 * (8 - prefix_len))
        };
        let mut table = NumberedIds {
            len,
            digits: len - prefix_len,
            prefix: Self::word(prefix)?,
            prefix_mask,
            index: Vec::new(),
        };
        let numbered: Vec<(usize, u32)> = ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| Some((i, table.number(id.as_bytes())?)))
            .collect();
        let top = numbered.iter().map(|&(_, n)| n).max()? as usize;
        // At most 256 KB, or 32 bytes a person.
        if top > numbered.len() * 8 + 65_536 {
            return None;
        }
        table.index = vec![NONE; top + 1];
        // The last row of an id wins, as in the map.
        for &(i, n) in &numbered {
            if let Some(slot) = table.index.get_mut(n as usize) {
                *slot = i as u32;
            }
        }
        Some(table)
    }

    /// The participant whose id is `id`, when `id` has this table's shape
    /// (`Some(None)`: no one's); `None` for an id of another shape.
    #[inline]
    pub(super) fn get(&self, id: &[u8]) -> Option<Option<u32>> {
        let n = self.number(id)?;
        let p = self.index.get(n as usize).copied().unwrap_or(NONE);
        Some((p != NONE).then_some(p))
    }

    /// The number of an id of this table's shape.
    #[inline(always)]
    fn number(&self, id: &[u8]) -> Option<u32> {
        if id.len() != self.len {
            return None;
        }
        let word = Self::word(id)?;
        if word & self.prefix_mask != self.prefix {
            return None;
        }
        // The id's last byte to the word's top, then the digits alone.
        eight_digits(digits_word(word << (8 * (8 - self.len)), self.digits))
    }

    /// An id of at most 8 bytes as a little-endian word, zero-padded.
    #[inline(always)]
    fn word(id: &[u8]) -> Option<u64> {
        if let Ok(eight) = <[u8; 8]>::try_from(id) {
            return Some(u64::from_le_bytes(eight));
        }
        if id.len() > 8 {
            return None;
        }
        Some(
            id.iter()
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i)),
        )
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbered_ids_are_found_by_their_number() {
        let people = ids(&["R0000790", "R0000001", "R0000790", "R0012000"]);
        let Some(t) = NumberedIds::new(&people) else {
            panic!("not numbered");
        };
        assert_eq!(
            t.get(b"R0000790"),
            Some(Some(2)),
            "the last row of an id wins"
        );
        assert_eq!(t.get(b"R0000001"), Some(Some(1)));
        assert_eq!(t.get(b"R0012000"), Some(Some(3)));
        assert_eq!(t.get(b"R0000002"), Some(None), "of the shape, no one's");
        for other in [
            "S0000001",
            "R000001",
            "R00000001",
            "R000000a",
            "r0000001",
            "",
        ] {
            assert_eq!(t.get(other.as_bytes()), None, "{other}: another shape");
        }
        let short = NumberedIds::new(&ids(&["7", "3", "0"]));
        assert_eq!(short.and_then(|t| t.get(b"3")), Some(Some(1)));
        // Of mixed shapes, the most common is numbered: the others are
        // the hash table's.
        let mixed = NumberedIds::new(&ids(&["D01", "M0001", "E-12", "E-07", "M0002", "E-99"]));
        let Some(t) = mixed else {
            panic!("not numbered");
        };
        assert_eq!(t.get(b"E-07"), Some(Some(3)));
        assert_eq!(t.get(b"E-08"), Some(None));
        assert_eq!(t.get(b"M0001"), None);
        assert_eq!(t.get(b"D01"), None);
    }

    #[test]
    fn other_shapes_are_left_to_the_hash_table() {
        for list in [
            &["R000000001"][..],
            &["R9999999"],
            &["R0000001", "R0100000"],
            &["ab", "cd"],
        ] {
            assert!(NumberedIds::new(&ids(list)).is_none(), "{list:?}");
        }
    }
}
