//! Creating contacts: validation, then identity into the vault. Shared by the HTTP API,
//! CSV import and the CLI, so that every path checks and encrypts the same way.

use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::proof::RecipientCategory;
use consentry_store::{ContactRow, KeyedForm, KeyedInsert, NewContact, Store, StoreError};
use consentry_vault::{EmailError, Identity, TenantKeys, VaultError, normalize_email};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A contact as a sender gives it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// E-mail address (required).
    pub email: String,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Non-identifying attributes.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// Private person or professional.
    #[serde(default)]
    pub category: Option<RecipientCategory>,
}

impl std::fmt::Debug for ContactInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactInput { .. }")
    }
}

/// Why a contact was not created.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// A value is not acceptable (the message names the field, never its value).
    #[error("{0}")]
    Invalid(String),
    /// The e-mail address breaks the address grammar (`consentry_vault::normalize_email`):
    /// its own problem type, with the rule named, since a client may act on it (strip a
    /// display name) where it cannot on other values.
    #[error("email: not a usable e-mail address: {0}")]
    Email(EmailError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of creating a contact.
#[derive(Debug)]
pub enum Created {
    /// A new contact.
    New(ContactRow),
    /// The book already has this address, under this pseudonym.
    Duplicate(SubjectId),
}

fn check_len(what: &str, v: &Option<String>, max: usize) -> Result<(), ContactError> {
    match v {
        Some(s) if s.chars().count() > max => Err(ContactError::Invalid(format!(
            "{what} is longer than {max} characters"
        ))),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => Err(ContactError::Invalid(
            format!("{what} contains control characters"),
        )),
        _ => Ok(()),
    }
}

/// Checks the non-identifying attributes: at most 32, keys `[a-z0-9_]{1,40}`, values
/// short strings, numbers or booleans.
pub fn check_attributes(attrs: &Map<String, Value>) -> Result<(), ContactError> {
    if attrs.len() > 32 {
        return Err(ContactError::Invalid("at most 32 attributes".into()));
    }
    for (k, v) in attrs {
        let key_ok = (1..=40).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(ContactError::Invalid(format!(
                "attribute name {k:?} must be 1 to 40 of a-z 0-9 _"
            )));
        }
        match v {
            Value::String(s) if s.chars().count() <= 200 => {}
            Value::Number(_) | Value::Bool(_) => {}
            _ => {
                return Err(ContactError::Invalid(format!(
                    "attribute {k:?} must be a string of at most 200 characters, a number or a boolean"
                )));
            }
        }
    }
    Ok(())
}

/// A checked contact, ready to encrypt and store.
pub struct Checked {
    email: String,
    input: ContactInput,
    attributes: Map<String, Value>,
    category: RecipientCategory,
}

impl Checked {
    /// The address, normalised: what the blind index and the mailer use.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The non-identifying attributes, checked.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }
}

/// Checks every field; nothing is stored.
pub fn check(input: ContactInput) -> Result<Checked, ContactError> {
    let email = normalize_email(&input.email).map_err(|e| match e {
        VaultError::BadEmail(rule) => ContactError::Email(rule),
        other => ContactError::Invalid(format!("email: {other}")),
    })?;
    check_len("name", &input.name, 200)?;
    check_len("address", &input.address, 500)?;
    check_len("phone", &input.phone, 40)?;
    let attributes = input.attributes.clone().unwrap_or_default();
    check_attributes(&attributes)?;
    let category = input.category.unwrap_or(RecipientCategory::Unspecified);
    Ok(Checked {
        email,
        input,
        attributes,
        category,
    })
}

/// Encrypts a checked contact into the row to insert and its keyed forms (its wrapped key
/// and blind index under every master key version held), as
/// [`Store::insert_contact_keyed`] takes them. Nothing is stored.
pub fn prepare(
    keys: &TenantKeys,
    tenant: &TenantId,
    c: Checked,
    now: i64,
) -> Result<(NewContact, Vec<KeyedForm>), ContactError> {
    let id = SubjectId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(|e| ContactError::Invalid(e.to_string()))?;
    let mut rng = consentry_ledger::random::rng();
    let (subject_key, wrapped) = keys.new_subject_key(&mut rng, &id);
    let identity = Identity {
        email: c.email.clone(),
        name: c.input.name,
        address: c.input.address,
        phone: c.input.phone,
        fields: BTreeMap::new(),
    };
    // The row under every master key version held: the database picks its current one,
    // and refuses an address already in the book under any (see consentry_store's
    // keyring module).
    let indexes = keys.blind_indexes(&c.email);
    let mut forms = vec![KeyedForm {
        version: keys.version(),
        email_index: indexes.first().map(|(_, ix)| *ix).unwrap_or_default(),
        wrapped_key: wrapped.into_bytes(),
    }];
    for (version, other) in keys.wrap_for_other_versions(&mut rng, &id, &subject_key) {
        if let Some((_, ix)) = indexes.iter().find(|(v, _)| *v == version) {
            forms.push(KeyedForm {
                version,
                email_index: *ix,
                wrapped_key: other.into_bytes(),
            });
        }
    }
    let row = NewContact {
        id: id.clone(),
        tenant: tenant.clone(),
        email_index: forms[0].email_index,
        wrapped_key: forms[0].wrapped_key.clone(),
        identity: subject_key.seal(&mut rng, tenant, &id, &identity),
        address_commitment: subject_key.commitment("address", c.email.as_bytes()),
        category: c.category,
        attributes: Value::Object(c.attributes).to_string(),
        created_at: now,
    };
    Ok((row, forms))
}

/// Encrypts and stores a checked contact.
pub async fn store(
    store: &Store,
    keys: &TenantKeys,
    tenant: &TenantId,
    c: Checked,
    now: i64,
) -> Result<Created, ContactError> {
    let (row, forms) = prepare(keys, tenant, c, now)?;
    let id = row.id.clone();
    match store.insert_contact_keyed(&row, &forms).await? {
        KeyedInsert::Inserted(_) => {
            let stored = store
                .contact(tenant, &id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("contact vanished after insert".into()))?;
            Ok(Created::New(stored))
        }
        KeyedInsert::Duplicate(existing) => Ok(Created::Duplicate(existing)),
    }
}
