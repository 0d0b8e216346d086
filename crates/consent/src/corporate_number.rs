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
    let digit = |b: u8| u32::from(b - b'0');
    let sum: u32 = bytes[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| digit(*b) * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    digit(bytes[0]) == 9 - sum % 9
}

#[cfg(test)]
mod tests {
    use super::is_valid;

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
