//! Eight digits read at once: a word's bytes checked and converted
//! together (pairs of digits, then fours, then eights) rather than one by
//! one in a loop whose length varies from field to field, whose branch a
//! core then mispredicts at every field.

const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;

/// The number written by the eight ASCII digits of `word`, read
/// little-endian (the first digit in the lowest byte); `None` when a byte
/// is not a digit. The `k` digits of a shorter number go in the highest
/// `k` bytes with the others `0`: [`digits_word`] makes such a word.
#[inline(always)]
pub(super) fn eight_digits(word: u64) -> Option<u32> {
    // Every byte `0x30..=0x39`: its high nibble is 3, and still is with 6
    // added (no byte carries into the next: each is below 0x40).
    if word & HIGH_NIBBLES != ZEROS
        || word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS
    {
        return None;
    }
    let d = word - ZEROS;
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some(((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF) as u32)
}

/// `word` with its highest `k` bytes kept (`1..=8`) and the others made
/// `0`s, for [`eight_digits`].
#[inline(always)]
pub(super) fn digits_word(word: u64, k: usize) -> u64 {
    let kept = u64::MAX << (8 * (8 - k.clamp(1, 8)));
    (word & kept) | (ZEROS & !kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_digits_as_the_standard_parser_reads_them() {
        for text in [
            "00000000", "00000007", "12345678", "99999999", "10000000", "00012345",
        ] {
            let word = u64::from_le_bytes(text.as_bytes().try_into().unwrap_or_default());
            assert_eq!(eight_digits(word), text.parse().ok(), "{text}");
        }
        for text in [
            "0000000a",
            "/0000000",
            ":0000000",
            "1234 678",
            "-1234567",
            "\0\0\0\0\0\0\0\0",
        ] {
            let word = u64::from_le_bytes(text.as_bytes().try_into().unwrap_or_default());
            assert_eq!(eight_digits(word), None, "{text}");
        }
        // "xx123": the three digits at the top, the rest made zeros.
        let word = u64::from_le_bytes(*b"#####123");
        assert_eq!(eight_digits(digits_word(word, 3)), Some(123));
        assert_eq!(eight_digits(digits_word(word, 4)), None);
    }
}
