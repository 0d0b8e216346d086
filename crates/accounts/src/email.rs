//! Email normalisation: the same mailbox must always give the same blind index.

/// Trims and lower-cases an address and checks its basic shape (one `@`, a dotted domain, no
/// spaces, RFC 5321 length limits). Returns `None` for anything that is not an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let well_formed = !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    well_formed.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(
            normalize_email("  Hanako@Example.JP ").as_deref(),
            Some("hanako@example.jp")
        );
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "@example.jp",
            "a@",
            "a@b",
            "a@@b.jp",
            "a b@c.jp",
            "a@.jp",
            "a@b..jp",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        assert_eq!(normalize_email(&format!("{}@example.jp", "a".repeat(65))), None);
    }
}
