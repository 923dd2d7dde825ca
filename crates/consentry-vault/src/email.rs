//! E-mail normalisation, the input of the blind index.
//!
//! Two spellings of one mailbox must give one blind index, or the address book holds the
//! same person twice, a portal sign-in finds no consents, and an erasure misses a copy.
//! So the address is trimmed and lower-cased **as a whole**, local part included.
//! RFC 5321 lets a server treat `Alice@x` and `alice@x` as different mailboxes, but no
//! mainstream provider does, and for a consent ledger a missed duplicate is the worse
//! error. Nothing else is rewritten: no dot or `+tag` folding (provider-specific, and it
//! would merge mailboxes that really are different), no IDNA conversion (an
//! internationalised domain is kept as given, lower-cased with Unicode's case rules, so
//! `bücher.example` and `xn--bcher-kva.example` index differently).
//!
//! The checks are deliberately few and structural (one `@`, non-empty parts, the RFC 5321
//! length limits, no whitespace or control characters); whether the mailbox exists is
//! learnt by sending to it.

/// What is wrong with an e-mail address. Never includes the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but whitespace.
    #[error("it is empty")]
    Empty,
    /// No `@`.
    #[error("it has no @")]
    MissingAt,
    /// More than one `@` (quoted local parts containing `@` are not accepted).
    #[error("it has more than one @")]
    SeveralAt,
    /// Nothing before the `@`.
    #[error("the part before @ is empty")]
    EmptyLocalPart,
    /// Nothing after the `@`.
    #[error("the domain after @ is empty")]
    EmptyDomain,
    /// Whitespace or a control character inside the address.
    #[error("it contains whitespace or control characters")]
    Whitespace,
    /// Longer than 254 bytes once normalised (RFC 5321 path limit less the brackets).
    #[error("it is longer than 254 bytes")]
    TooLong,
    /// Local part longer than 64 bytes once normalised (RFC 5321 §4.5.3.1.1).
    #[error("the part before @ is longer than 64 bytes")]
    LocalPartTooLong,
}

/// Longest address, in bytes, once normalised.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part, in bytes, once normalised.
pub const MAX_LOCAL_LEN: usize = 64;

/// Normalises an e-mail address for storage and for the blind index: trims surrounding
/// whitespace, checks its structure and lower-cases all of it (see the module
/// documentation for why the local part too).
///
/// # Errors
///
/// [`VaultError::BadEmail`](crate::VaultError::BadEmail) with the reason.
pub fn normalize_email(raw: &str) -> Result<String, crate::VaultError> {
    Ok(normalize(raw)?)
}

fn normalize(raw: &str) -> Result<String, EmailError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }
    // Lower-casing may change byte lengths either way, so the real limits apply to the
    // result; this bound only keeps absurd input from being worked on.
    if trimmed.len() > 4 * MAX_EMAIL_LEN {
        return Err(EmailError::TooLong);
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmailError::Whitespace);
    }
    let mut parts = trimmed.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(if trimmed.contains('@') {
            EmailError::SeveralAt
        } else {
            EmailError::MissingAt
        });
    };
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    let local = local.to_lowercase();
    let domain = domain.to_lowercase();
    if local.len() > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPartTooLong);
    }
    if local.len() + 1 + domain.len() > MAX_EMAIL_LEN {
        return Err(EmailError::TooLong);
    }
    Ok(format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VaultError;

    #[test]
    fn trims_and_lowercases_the_whole_address() {
        assert_eq!(
            normalize_email("  Alice.Smith+News@Example.COM \n").unwrap(),
            "alice.smith+news@example.com"
        );
        assert_eq!(
            normalize_email("\tBOB@EXAMPLE.org").unwrap(),
            normalize_email("bob@example.org ").unwrap()
        );
    }

    #[test]
    fn idn_domains_are_kept_as_given_lowercased() {
        assert_eq!(
            normalize_email("Jürgen@Bücher.Example").unwrap(),
            "jürgen@bücher.example"
        );
        assert_eq!(
            normalize_email("a@xn--bcher-kva.example").unwrap(),
            "a@xn--bcher-kva.example"
        );
    }

    #[test]
    fn bad_emails_are_rejected_with_a_reason() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("alice.example.com", EmailError::MissingAt),
            ("a@b@example.com", EmailError::SeveralAt),
            ("\"a@b\"@example.com", EmailError::SeveralAt),
            ("@example.com", EmailError::EmptyLocalPart),
            ("alice@", EmailError::EmptyDomain),
            ("alice smith@example.com", EmailError::Whitespace),
            ("alice@exa\u{0}mple.com", EmailError::Whitespace),
            ("alice\u{7f}@example.com", EmailError::Whitespace),
            ("alice@example.com\r\nBcc: x@y", EmailError::Whitespace),
            ("alice\u{a0}@example.com", EmailError::Whitespace),
        ];
        for (raw, reason) in cases {
            assert_eq!(
                normalize_email(raw),
                Err(VaultError::BadEmail(reason)),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn length_limits_apply_to_the_normalised_address() {
        let local64 = "a".repeat(64);
        assert!(normalize_email(&format!("{local64}@example.com")).is_ok());
        assert_eq!(
            normalize_email(&format!("{local64}a@example.com")),
            Err(VaultError::BadEmail(EmailError::LocalPartTooLong))
        );
        // 64 + 1 + 189 = 254 bytes: accepted; one more: refused.
        let domain = format!("{}.com", "d".repeat(185));
        assert!(normalize_email(&format!("{local64}@{domain}")).is_ok());
        assert_eq!(
            normalize_email(&format!("{local64}@d{domain}")),
            Err(VaultError::BadEmail(EmailError::TooLong))
        );
        assert_eq!(
            normalize_email(&"a".repeat(10_000)),
            Err(VaultError::BadEmail(EmailError::TooLong))
        );
        // The Kelvin sign (3 bytes) lower-cases to `k` (1 byte): 30 of them fit in a local
        // part once normalised though the raw text is 90 bytes.
        let kelvins = "\u{212a}".repeat(30);
        assert_eq!(
            normalize_email(&format!("{kelvins}@example.com")).unwrap(),
            format!("{}@example.com", "k".repeat(30))
        );
    }

    #[test]
    fn reasons_never_repeat_the_address() {
        let err = normalize_email("secret.person@@example.com").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("secret.person"), "{shown}");
        assert!(shown.contains("more than one @"), "{shown}");
    }
}
