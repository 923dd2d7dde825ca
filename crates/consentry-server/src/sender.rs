//! What a recipient is told about who asks and for what: the sender's contact (an e-mail
//! address or an https URL of the organisation), checked once here for the API and
//! `/app` alike, and the purpose's description in the recipient's language.
//!
//! The contact is the organisation's published contact (a privacy desk, a role address),
//! shown on every e-mail and answer page: it is stored in clear on the tenant, and the
//! docs and forms say it is not the place for a person's own address.

use crate::consents::check_purpose;
use consentry_store::PurposeRow;

/// Longest purpose description, per language, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Longest contact, in characters.
pub const MAX_CONTACT_CHARS: usize = 254;

/// A sender's contact for recipients, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderContact {
    /// An e-mail address (as written, trimmed).
    Email(String),
    /// An `https://` URL.
    Url(String),
}

/// Why a contact is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Neither an e-mail address nor an https URL of at most 254 characters.
    #[error(
        "contact must be an e-mail address or an https:// URL (a host name with a dot), of at most 254 characters"
    )]
    Invalid,
}

impl SenderContact {
    /// Checks a contact as typed: an address by the vault's grammar, or an `https://`
    /// URL whose host is a name with a dot (or an address), with no credentials, spaces or
    /// characters that would need quoting in a page.
    pub fn parse(raw: &str) -> Result<SenderContact, ContactError> {
        let s = raw.trim();
        if s.is_empty()
            || s.chars().count() > MAX_CONTACT_CHARS
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"<>\\`{}|^".contains(c))
        {
            return Err(ContactError::Invalid);
        }
        if let Some(rest) = s.strip_prefix("https://") {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let authority = &rest[..end];
            let host = match authority.rsplit_once(':') {
                Some((h, port))
                    if !port.is_empty()
                        && port.len() <= 5
                        && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    h
                }
                _ => authority,
            };
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            let host_ok = host.contains('.') && host.split('.').all(label_ok);
            return if host_ok {
                Ok(SenderContact::Url(s.to_owned()))
            } else {
                Err(ContactError::Invalid)
            };
        }
        if s.contains("://") || s.to_ascii_lowercase().starts_with("mailto:") {
            return Err(ContactError::Invalid);
        }
        match consentry_vault::normalize_email(s) {
            Ok(_) => Ok(SenderContact::Email(s.to_owned())),
            Err(_) => Err(ContactError::Invalid),
        }
    }

    /// The contact as stored and shown.
    pub fn as_str(&self) -> &str {
        match self {
            SenderContact::Email(s) | SenderContact::Url(s) => s,
        }
    }

    /// A link to it: `mailto:` for an address.
    pub fn href(&self) -> String {
        match self {
            SenderContact::Email(s) => format!("mailto:{s}"),
            SenderContact::Url(s) => s.clone(),
        }
    }

    /// A stored contact, read back: `None` if absent or no longer acceptable (a row
    /// written by hand).
    pub fn stored(raw: Option<&str>) -> Option<SenderContact> {
        raw.and_then(|r| SenderContact::parse(r).ok())
    }
}

/// What a recipient is told about a request's sender and purpose: the sender's name and
/// contact, the purpose as they read it. One reading for the e-mail, the answer page and
/// the staff's preview of both.
#[derive(Debug, Clone)]
pub struct Told {
    /// The sender's name (empty if the tenant is gone).
    pub sender: String,
    /// The sender's contact for recipients, if set and still acceptable.
    pub contact: Option<SenderContact>,
    /// The purpose's description in `language`, else the other, else its name.
    pub purpose: String,
}

impl Told {
    /// Reads it for `tenant`'s `purpose`, for a reader of `language` (`fr`, `en`).
    pub async fn load(
        store: &consentry_store::Store,
        tenant: &consentry_core::ids::TenantId,
        purpose: &str,
        language: &str,
    ) -> Result<Told, consentry_store::StoreError> {
        let row = store.tenant(tenant).await?;
        let described = store.purpose(tenant, purpose).await?;
        Ok(Told {
            sender: row.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            contact: row.and_then(|t| SenderContact::stored(t.contact.as_deref())),
            purpose: purpose_label(purpose, described.as_ref(), language),
        })
    }
}

/// What a recipient reading `language` is shown for `purpose`: its description in their
/// language, else in the other one, else the purpose's name as proofs carry it.
pub fn purpose_label(purpose: &str, row: Option<&PurposeRow>, language: &str) -> String {
    row.and_then(|p| p.description_for(language))
        .unwrap_or(purpose)
        .to_owned()
}

/// A purpose as checked, from the app's form or the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPurpose {
    /// The name.
    pub name: String,
    /// The French description (trimmed; may be empty if the English one is not).
    pub description_fr: String,
    /// The English description, likewise.
    pub description_en: String,
    /// The default validity in days.
    pub valid_days: Option<u32>,
}

/// Why a purpose is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurposeError {
    /// The name breaks the API's rules.
    Name,
    /// Both descriptions empty, or one longer than [`MAX_DESCRIPTION_CHARS`].
    Description,
    /// The validity is not a whole number of days in range.
    Validity,
}

/// Checks a purpose: the name, the trimmed descriptions (at least one, each at most
/// [`MAX_DESCRIPTION_CHARS`] characters), the validity. Shared by `/app` and the API.
pub fn check_purpose_fields(
    name: &str,
    description_fr: &str,
    description_en: &str,
    valid_days: Option<u32>,
) -> Result<CheckedPurpose, PurposeError> {
    let name = name.trim();
    if check_purpose(name).is_err() {
        return Err(PurposeError::Name);
    }
    let (fr, en) = (description_fr.trim(), description_en.trim());
    if (fr.is_empty() && en.is_empty())
        || fr.chars().count() > MAX_DESCRIPTION_CHARS
        || en.chars().count() > MAX_DESCRIPTION_CHARS
    {
        return Err(PurposeError::Description);
    }
    if valid_days.is_some_and(|d| !consentry_core::consent::VALID_DAYS.contains(&d)) {
        return Err(PurposeError::Validity);
    }
    Ok(CheckedPurpose {
        name: name.to_owned(),
        description_fr: fr.to_owned(),
        description_en: en.to_owned(),
        valid_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_an_address_or_an_https_url() {
        assert_eq!(
            SenderContact::parse(" dpo@acme.example ").unwrap(),
            SenderContact::Email("dpo@acme.example".into())
        );
        assert_eq!(
            SenderContact::parse("https://acme.example/privacy?x=1#c").unwrap(),
            SenderContact::Url("https://acme.example/privacy?x=1#c".into())
        );
        assert_eq!(
            SenderContact::parse("https://acme.example:8443")
                .unwrap()
                .href(),
            "https://acme.example:8443"
        );
        assert_eq!(
            SenderContact::parse("dpo@acme.example").unwrap().href(),
            "mailto:dpo@acme.example"
        );
        for bad in [
            "",
            "   ",
            "acme",
            "http://acme.example/privacy",
            "https://localhost/",
            "https://user:pw@acme.example/",
            "https://acme.example/a b",
            "https://-acme.example/",
            "https://acme..example/",
            "javascript:alert(1)",
            "mailto:dpo@acme.example",
            "ftp://acme.example",
            "dpo@@acme.example",
            "https://acme.example/\"><script>",
        ] {
            assert_eq!(
                SenderContact::parse(bad),
                Err(ContactError::Invalid),
                "{bad}"
            );
        }
        let long = format!("https://acme.example/{}", "a".repeat(240));
        assert!(SenderContact::parse(&long).is_err());
        assert_eq!(SenderContact::stored(Some("nope")), None);
    }

    #[test]
    fn a_purpose_label_falls_back_to_the_other_language_then_the_name() {
        let row = PurposeRow {
            name: "newsletter".into(),
            description: String::new(),
            description_en: "Our monthly letter".into(),
            valid_days: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            purpose_label("newsletter", Some(&row), "en"),
            "Our monthly letter"
        );
        assert_eq!(
            purpose_label("newsletter", Some(&row), "fr"),
            "Our monthly letter"
        );
        assert_eq!(purpose_label("newsletter", None, "fr"), "newsletter");
    }
}
