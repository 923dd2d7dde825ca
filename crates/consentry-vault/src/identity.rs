//! A data subject's identity data: the only personal data Consentry holds, and only ever
//! sealed under the subject's own key.
//!
//! The type is shaped so that it cannot leak by accident: its `Debug` shows which fields
//! are present and the names of the free fields, never a value, so a stray `{:?}` in a log
//! line or a test failure prints no personal data; and its strings are overwritten with
//! zeros when it is dropped (best effort: copies made elsewhere, by a JSON parser's scratch
//! buffer or a `String` that grew, are out of its reach).
//!
//! Sealed as JSON: `{"email": …, "name": …, "address": …, "phone": …, "fields": {…}}`,
//! absent optional fields and an empty `fields` left out. Unknown keys are ignored when
//! opening, so an older instance sharing a database with a newer one can still read what
//! the newer one wrote.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroize as _;

/// A data subject's identity data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The e-mail address, normalised by [`normalize_email`](crate::normalize_email).
    pub email: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Postal address, as one free-form text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Phone number, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Any other identity fields the sender keeps, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Identity {
    /// An identity with only an e-mail address.
    pub fn new(email: impl Into<String>) -> Identity {
        Identity {
            email: email.into(),
            name: None,
            address: None,
            phone: None,
            fields: BTreeMap::new(),
        }
    }

    /// The length of [`Identity::write_json`]'s output, so the buffer it goes into can be
    /// allocated once and never grows (a grown `Vec` leaves an unzeroised copy behind).
    pub(crate) fn json_len(&self) -> usize {
        let mut counter = Counter(0);
        crate::primitives::infallible(
            serde_json::to_writer(&mut counter, self),
            "an Identity is strings only and the counter never fails",
        );
        counter.0
    }

    /// Overwrites every string with zeros and empties the identity.
    pub(crate) fn wipe(&mut self) {
        self.email.zeroize();
        self.name.zeroize();
        self.address.zeroize();
        self.phone.zeroize();
        for (mut name, mut value) in std::mem::take(&mut self.fields) {
            name.zeroize();
            value.zeroize();
        }
    }

    /// Appends the JSON that gets sealed.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        crate::primitives::infallible(
            serde_json::to_writer(out, self),
            "an Identity is strings only and a Vec never fails",
        );
    }
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stands for a value in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The free fields' names, each with its value redacted.
struct FieldNames<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for FieldNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|name| (name, Redacted)))
            .finish()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |v: &Option<String>| v.as_ref().map(|_| Redacted);
        f.debug_struct("Identity")
            .field("email", &Redacted)
            .field("name", &present(&self.name))
            .field("address", &present(&self.address))
            .field("phone", &present(&self.phone))
            .field("fields", &FieldNames(&self.fields))
            .finish()
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Identity {
        let mut id = Identity::new("alice@example.com");
        id.name = Some("Alice Liddell".into());
        id.phone = Some("+33 6 12 34 56 78".into());
        id.fields
            .insert("date_of_birth".into(), "1852-05-04".into());
        id
    }

    #[test]
    fn debug_shows_field_names_only() {
        let shown = format!("{:?} {:#?}", sample(), sample());
        for value in ["alice", "Alice", "Liddell", "+33", "1852"] {
            assert!(!shown.contains(value), "{value} in {shown}");
        }
        assert!(shown.contains("date_of_birth"), "{shown}");
        assert!(shown.contains("address: None"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn json_leaves_out_absent_fields_and_ignores_unknown_ones() {
        let json = serde_json::to_string(&Identity::new("a@b")).unwrap();
        assert_eq!(json, r#"{"email":"a@b"}"#);
        let back: Identity = serde_json::from_str(r#"{"email":"a@b","added_later":1}"#).unwrap();
        assert_eq!(back, Identity::new("a@b"));
        let full = sample();
        let back: Identity = serde_json::from_slice(&serde_json::to_vec(&full).unwrap()).unwrap();
        assert_eq!(back, full);
    }
}
