//! One password rule for every way an account is made (API, portal, CLI).

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Length in characters (not bytes), so a Japanese passphrase counts what a person typed.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Err("password must be at least 12 characters")
    } else if chars > PASSWORD_MAX_CHARS {
        Err("password must be at most 128 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_password;

    #[test]
    fn bounds_are_inclusive_and_count_characters() {
        assert!(check_password(&"a".repeat(11)).is_err());
        assert!(check_password(&"a".repeat(12)).is_ok());
        assert!(check_password(&"a".repeat(128)).is_ok());
        assert!(check_password(&"a".repeat(129)).is_err());
        // 12 Japanese characters are 36 bytes but 12 characters.
        assert!(check_password("あいうえおかきくけこさし").is_ok());
        assert!(check_password("あいうえおかきくけこさ").is_err());
    }
}
