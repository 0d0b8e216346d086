//! Japan's corporate number (法人番号): 13 digits, the first a check digit over the other twelve,
//! per the National Tax Agency's rule: with P(n) the n-th digit of the 12-digit base counted
//! from its right end and Q(n) = 1 for odd n and 2 for even n, the check digit is
//! `9 - (Σ P(n) x Q(n) mod 9)`.

/// Whether `number` is 13 ASCII digits whose first digit is the check digit of the rest.
pub fn is_valid(number: &str) -> bool {
    let bytes = number.as_bytes();
    if bytes.len() != 13 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    u32::from(bytes[0] - b'0') == check_digit(&bytes[1..])
}

/// The check digit of a 12-digit base (ASCII digits).
fn check_digit(base: &[u8]) -> u32 {
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    9 - sum % 9
}

/// The valid corporate number whose base is `base` (its last 12 digits, zero-padded): for the
/// demo bank and tests, which need numbers that pass without being anyone's.
pub fn with_check_digit(base: u64) -> String {
    let base = format!("{:012}", base % 1_000_000_000_000);
    format!("{}{base}", check_digit(base.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::{is_valid, with_check_digit};

    #[test]
    fn numbers_made_from_a_base_validate() {
        assert_eq!(with_check_digit(12_050_002), "7000012050002", "the NTA's own number");
        for base in [0, 1, 301_000_000_001, 999_999_999_999] {
            assert!(is_valid(&with_check_digit(base)), "{base}");
        }
    }

    #[test]
    fn published_numbers_validate() {
        // The National Tax Agency (国税庁) and Toyota Motor Corporation, as published on the
        // NTA's corporate number site.
        assert!(is_valid("7000012050002"));
        assert!(is_valid("1180301018771"));
    }

    #[test]
    fn a_wrong_check_digit_or_shape_is_refused() {
        assert!(!is_valid("8000012050002"));
        assert!(!is_valid("700001205000"));
        assert!(!is_valid("70000120500021"));
        assert!(!is_valid("70000120500a2"));
        assert!(!is_valid("７000012050002"));
        assert!(!is_valid(""));
        // Every other check digit for the same base is wrong.
        let wrong = (0..10).filter(|d| is_valid(&format!("{d}000012050002"))).count();
        assert_eq!(wrong, 1);
    }
}
