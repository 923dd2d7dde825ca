//! E-mail addresses: the one grammar every entry point accepts, and the normalisation
//! that is the input of the blind index.
//!
//! **One grammar.** An address enters the ledger through the API, CSV import, the staff
//! forms, the portal sign-in and the CLI, and every one of them calls [`normalize_email`].
//! It accepts a *bare* address only — RFC 5321's `Mailbox` without its quoted-string and
//! address-literal forms, widened to UTF-8 as RFC 6531 does:
//!
//! ```text
//! address = local "@" domain
//! local   = atom *("." atom)                   ; a dot-string: no leading, trailing
//! atom    = 1*(ALPHA / DIGIT / "!" / "#" / "$" ; or doubled dot
//!             / "%" / "&" / "'" / "*" / "+" / "-" / "/" / "=" / "?" / "^" / "_"
//!             / "`" / "{" / "|" / "}" / "~" / non-ASCII)
//! domain  = label *("." label)                 ; no trailing dot
//! label   = (ALPHA / DIGIT / non-ASCII) [*(ALPHA / DIGIT / "-" / non-ASCII)
//!                                        (ALPHA / DIGIT / non-ASCII)]
//! ```
//!
//! So no display name (`Bob <bob@example.org>`), no angle brackets (`<bob@example.org>`),
//! no comments (`bob(home)@example.org`), no quoted local part (`"bob"@example.org`) and
//! no address literal (`bob@[192.0.2.1]`). Why: a mail library reads
//! `<bob@example.org>` as the mailbox `bob@example.org` and delivers there, while the
//! blind index is of the text as given — the book would hold bob twice, and the copy his
//! portal sign-in cannot find would collect consents. With the grammar, the text indexed
//! is the mailbox delivered to.
//!
//! **Normalisation.** Two spellings of one mailbox must give one blind index, or the
//! address book holds the same person twice, a portal sign-in finds no consents, and an
//! erasure misses a copy. So the address is trimmed and lower-cased **as a whole**, local
//! part included. RFC 5321 lets a server treat `Alice@x` and `alice@x` as different
//! mailboxes, but no mainstream provider does, and for a consent ledger a missed duplicate
//! is the worse error. Nothing else is rewritten: no dot or `+tag` folding
//! (provider-specific, and it would merge mailboxes that really are different), no IDNA
//! conversion (an internationalised domain is kept as given, lower-cased with Unicode's
//! case rules, so `bücher.example` and `xn--bcher-kva.example` index differently). Blind
//! indexes and sealed address commitments were made on that form, so it must not change:
//! [`canonical_email`] is that normalisation alone, for addresses already stored.
//!
//! Whether the mailbox exists is learnt by sending to it. Rows written before the
//! grammar (it came after the normalisation) may break it; [`stored_email_violation`]
//! tells which rule a stored address breaks, for a whole-store check.

/// What is wrong with an e-mail address. Never includes the address.
///
/// [`EmailError::rule`] names the rule in a stable, machine-readable spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but whitespace.
    #[error("it is empty")]
    Empty,
    /// No `@`.
    #[error("it has no @")]
    MissingAt,
    /// More than one `@`.
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
    /// Angle brackets, with or without a display name (`Bob <bob@example.org>`,
    /// `<bob@example.org>`): a mail header's form, not an address.
    #[error(
        "it has angle brackets or a display name: give the bare address only, as name@example.org"
    )]
    AngleBrackets,
    /// A comment in parentheses (`bob(home)@example.org`).
    #[error("it has a comment in parentheses: give the bare address only, as name@example.org")]
    Comment,
    /// Double quotes: a quoted local part (`"bob"@example.org`) is not accepted.
    #[error("it has double quotes: quoted local parts are not accepted")]
    Quoted,
    /// An address literal in square brackets (`bob@[192.0.2.1]`) instead of a domain name.
    #[error("its domain is an address literal in brackets, not a domain name")]
    DomainLiteral,
    /// The part before `@` begins or ends with a dot, or has two dots in a row.
    #[error("the part before @ begins or ends with a dot or has two dots in a row")]
    LocalPartDots,
    /// The part before `@` has a character RFC 5322 allows only inside quotes
    /// (`,`, `;`, `:`, `\`, …).
    #[error("the part before @ has a character not allowed in an address")]
    LocalPartCharacter,
    /// The domain has an empty label (a leading, trailing or doubled dot), a label
    /// beginning or ending with a hyphen, or a character other than letters, digits and
    /// hyphens.
    #[error(
        "the domain is not a domain name (letters, digits and inner hyphens, in labels between single dots)"
    )]
    DomainName,
    /// A stored address is not in normalised form (not trimmed or not lower-case); only
    /// [`stored_email_violation`] reports it, [`normalize_email`] never does.
    #[error("it is not in normalised form (trimmed and lower-case)")]
    NotNormalised,
}

impl EmailError {
    /// The rule broken, as a stable slug (`angle-brackets`, `quoted`, …) that clients and
    /// reports may match on; the message may change, this does not.
    pub fn rule(self) -> &'static str {
        match self {
            EmailError::Empty => "empty",
            EmailError::MissingAt => "missing-at",
            EmailError::SeveralAt => "several-at",
            EmailError::EmptyLocalPart => "empty-local-part",
            EmailError::EmptyDomain => "empty-domain",
            EmailError::Whitespace => "whitespace",
            EmailError::TooLong => "too-long",
            EmailError::LocalPartTooLong => "local-part-too-long",
            EmailError::AngleBrackets => "angle-brackets",
            EmailError::Comment => "comment",
            EmailError::Quoted => "quoted",
            EmailError::DomainLiteral => "domain-literal",
            EmailError::LocalPartDots => "local-part-dots",
            EmailError::LocalPartCharacter => "local-part-character",
            EmailError::DomainName => "domain-name",
            EmailError::NotNormalised => "not-normalised",
        }
    }
}

/// Longest address, in bytes, once normalised.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part, in bytes, once normalised.
pub const MAX_LOCAL_LEN: usize = 64;

/// Checks an address against the grammar and normalises it for storage and for the blind
/// index: trims surrounding whitespace, checks it is a bare address (see the module
/// documentation) and lower-cases all of it. Every entry point for an address calls this.
///
/// # Errors
///
/// [`VaultError::BadEmail`](crate::VaultError::BadEmail) with the reason.
pub fn normalize_email(raw: &str) -> Result<String, crate::VaultError> {
    let normalized = canonical(raw, true)?;
    grammar(&normalized)?;
    Ok(normalized)
}

/// The normalisation alone (trim, structural checks, lower-case), without the grammar:
/// the form blind indexes and commitments are computed on. For addresses already stored
/// (re-indexing them under a new master key must give what they were indexed as, even if
/// written before the grammar); never for an address entering the ledger.
///
/// # Errors
///
/// [`VaultError::BadEmail`](crate::VaultError::BadEmail) with the reason.
pub fn canonical_email(raw: &str) -> Result<String, crate::VaultError> {
    Ok(canonical(raw, false)?)
}

/// Which rule a **stored** address (one written by an earlier release, already
/// normalised) breaks, or `None` if [`normalize_email`] would accept it and give it back
/// unchanged. For a whole-store check: rows written before the grammar existed may hold
/// `<bob@example.org>` beside `bob@example.org`. The result never includes the address.
pub fn stored_email_violation(stored: &str) -> Option<EmailError> {
    match canonical(stored, true).and_then(|n| grammar(&n).map(|()| n)) {
        Err(e) => Some(e),
        Ok(n) if n != stored => Some(EmailError::NotNormalised),
        Ok(_) => None,
    }
}

/// Trims, checks the structure (and, with `forms`, the header forms first, so that
/// `Bob <bob@example.org>` is named for its brackets rather than its space) and
/// lower-cases.
fn canonical(raw: &str, forms: bool) -> Result<String, EmailError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }
    // Lower-casing may change byte lengths either way, so the real limits apply to the
    // result; this bound only keeps absurd input from being worked on.
    if trimmed.len() > 4 * MAX_EMAIL_LEN {
        return Err(EmailError::TooLong);
    }
    if forms {
        if trimmed.contains(['<', '>']) {
            return Err(EmailError::AngleBrackets);
        }
        if trimmed.contains(['(', ')']) {
            return Err(EmailError::Comment);
        }
        if trimmed.contains('"') {
            return Err(EmailError::Quoted);
        }
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

/// RFC 5322 `atext`, widened to every non-ASCII character as RFC 6531/6532 do (control
/// and whitespace characters were refused before).
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// A domain label's letter or digit: ASCII, or any non-ASCII character (a U-label is
/// kept as given: no IDNA conversion, see the module documentation).
fn let_dig(c: char) -> bool {
    c.is_ascii_alphanumeric() || !c.is_ascii()
}

/// The grammar on an address [`canonical`] accepted with the header forms refused (one
/// `@`, no whitespace, brackets, parentheses or quotes).
fn grammar(normalized: &str) -> Result<(), EmailError> {
    let Some((local, domain)) = normalized.split_once('@') else {
        return Err(EmailError::MissingAt);
    };
    if local.split('.').any(str::is_empty) {
        return Err(EmailError::LocalPartDots);
    }
    if !local.chars().all(|c| c == '.' || atext(c)) {
        return Err(EmailError::LocalPartCharacter);
    }
    if domain.starts_with('[') || domain.ends_with(']') {
        return Err(EmailError::DomainLiteral);
    }
    let label_ok = |label: &str| {
        let (Some(first), Some(last)) = (label.chars().next(), label.chars().last()) else {
            return false;
        };
        let_dig(first) && let_dig(last) && label.chars().all(|c| c == '-' || let_dig(c))
    };
    if !domain.split('.').all(label_ok) {
        return Err(EmailError::DomainName);
    }
    Ok(())
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
            ("\"a@b\"@example.com", EmailError::Quoted),
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
    fn header_forms_and_quoted_parts_are_refused_by_name() {
        let cases = [
            ("<bob@example.org>", EmailError::AngleBrackets),
            ("Bob <bob@example.org>", EmailError::AngleBrackets),
            ("\"Bob\" <bob@example.org>", EmailError::AngleBrackets),
            ("bob@example.org>", EmailError::AngleBrackets),
            ("<bob>@example.org", EmailError::AngleBrackets),
            ("bob(home)@example.org", EmailError::Comment),
            ("bob@example.org (Bob)", EmailError::Comment),
            ("(c)bob@example.org", EmailError::Comment),
            ("\"bob\"@example.org", EmailError::Quoted),
            ("\"bob smith\"@example.org", EmailError::Quoted),
            ("bob@[192.0.2.1]", EmailError::DomainLiteral),
            ("bob@[ipv6:2001:db8::1]", EmailError::DomainLiteral),
            (".bob@example.org", EmailError::LocalPartDots),
            ("bob.@example.org", EmailError::LocalPartDots),
            ("bob..smith@example.org", EmailError::LocalPartDots),
            ("bob,smith@example.org", EmailError::LocalPartCharacter),
            ("bob;@example.org", EmailError::LocalPartCharacter),
            ("bob:x@example.org", EmailError::LocalPartCharacter),
            ("bob\\x@example.org", EmailError::LocalPartCharacter),
            ("bob[1]@example.org", EmailError::LocalPartCharacter),
            ("bob@example..org", EmailError::DomainName),
            ("bob@.example.org", EmailError::DomainName),
            ("bob@example.org.", EmailError::DomainName),
            ("bob@-example.org", EmailError::DomainName),
            ("bob@example-.org", EmailError::DomainName),
            ("bob@exa_mple.org", EmailError::DomainName),
            ("bob@example.org,eve@example.net", EmailError::SeveralAt),
            ("bob@example.org;", EmailError::DomainName),
            ("bob@exa[mple.org", EmailError::DomainName),
            ("mailto:bob@example.org", EmailError::LocalPartCharacter),
        ];
        for (raw, reason) in cases {
            assert_eq!(
                normalize_email(raw),
                Err(VaultError::BadEmail(reason)),
                "{raw:?}"
            );
            let shown = format!("{reason}");
            assert!(!shown.contains("bob"), "{shown}");
        }
    }

    #[test]
    fn bare_addresses_of_every_kind_are_accepted() {
        let cases = [
            ("bob@example.org", "bob@example.org"),
            ("Bob.Smith@Example.ORG", "bob.smith@example.org"),
            ("bob+news@example.org", "bob+news@example.org"),
            ("o'neil@example.ie", "o'neil@example.ie"),
            (
                "a!#$%&'*+-/=?^_`{|}~z@example.org",
                "a!#$%&'*+-/=?^_`{|}~z@example.org",
            ),
            ("x@localhost", "x@localhost"),
            ("x@a-b.c-d.example", "x@a-b.c-d.example"),
            ("x@123.example", "x@123.example"),
            ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
            // Internationalised: kept as given, lower-cased, no IDNA conversion.
            ("Jürgen@Bücher.Example", "jürgen@bücher.example"),
            ("用户@例子.广告", "用户@例子.广告"),
            ("Δοκιμή@Παράδειγμα.Δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"),
        ];
        for (raw, normalized) in cases {
            assert_eq!(normalize_email(raw).as_deref(), Ok(normalized), "{raw:?}");
            assert_eq!(stored_email_violation(normalized), None, "{raw:?}");
        }
    }

    #[test]
    fn the_canonical_form_of_old_rows_is_unchanged() {
        // Rows written before the grammar keep the form their blind index was made on.
        assert_eq!(
            canonical_email(" <Bob@Example.org> ").as_deref(),
            Ok("<bob@example.org>")
        );
        assert_eq!(
            canonical_email("\"Bob\"@example.org").as_deref(),
            Ok("\"bob\"@example.org")
        );
        for raw in [
            "bob@example.org",
            "Jürgen@Bücher.Example",
            "a.b+c@x.example",
        ] {
            assert_eq!(canonical_email(raw), normalize_email(raw), "{raw:?}");
        }
    }

    #[test]
    fn stored_rows_that_break_the_grammar_are_named() {
        let cases = [
            ("<bob@example.org>", Some(EmailError::AngleBrackets)),
            ("\"bob\"@example.org", Some(EmailError::Quoted)),
            ("bob(x)@example.org", Some(EmailError::Comment)),
            ("bob..x@example.org", Some(EmailError::LocalPartDots)),
            ("bob@[192.0.2.1]", Some(EmailError::DomainLiteral)),
            ("Bob@example.org", Some(EmailError::NotNormalised)),
            (" bob@example.org", Some(EmailError::NotNormalised)),
            ("bob@example.org", None),
            ("jürgen@bücher.example", None),
        ];
        for (stored, rule) in cases {
            assert_eq!(stored_email_violation(stored), rule, "{stored:?}");
        }
        assert_eq!(EmailError::AngleBrackets.rule(), "angle-brackets");
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
