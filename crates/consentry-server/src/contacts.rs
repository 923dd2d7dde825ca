//! Creating contacts: validation, then identity into the vault. Shared by the HTTP API,
//! CSV import and the CLI, so that every path checks and encrypts the same way.

use crate::i18n::{Lang, Text, t};
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
    /// A field breaks its rule: typed, so that a page can say it in its language.
    #[error("{0}")]
    Field(FieldError),
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

impl ContactError {
    /// What is wrong, in `lang`, for a page or an import report (the API keeps the
    /// English `Display`). Storage failures are not the person's to fix: they are
    /// reported as errors, never with this.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            ContactError::Field(f) => f.text(lang),
            ContactError::Email(rule) => {
                Text::EmailUnusable.fill(lang, &[("rule", &email_rule_text(lang, *rule))])
            }
            ContactError::Invalid(m) => m.clone(),
            ContactError::Store(e) => e.to_string(),
        }
    }
}

/// An address rule, in `lang`.
pub fn email_rule_text(lang: Lang, rule: EmailError) -> &'static str {
    let text = match rule {
        EmailError::Empty => Text::EmailRuleEmpty,
        EmailError::MissingAt => Text::EmailRuleMissingAt,
        EmailError::SeveralAt => Text::EmailRuleSeveralAt,
        EmailError::EmptyLocalPart => Text::EmailRuleEmptyLocalPart,
        EmailError::EmptyDomain => Text::EmailRuleEmptyDomain,
        EmailError::Whitespace => Text::EmailRuleWhitespace,
        EmailError::TooLong => Text::EmailRuleTooLong,
        EmailError::LocalPartTooLong => Text::EmailRuleLocalPartTooLong,
        EmailError::AngleBrackets => Text::EmailRuleAngleBrackets,
        EmailError::Comment => Text::EmailRuleComment,
        EmailError::Quoted => Text::EmailRuleQuoted,
        EmailError::DomainLiteral => Text::EmailRuleDomainLiteral,
        EmailError::LocalPartDots => Text::EmailRuleLocalPartDots,
        EmailError::LocalPartCharacter => Text::EmailRuleLocalPartCharacter,
        EmailError::DomainName => Text::EmailRuleDomainName,
        EmailError::NotNormalised => Text::EmailRuleNotNormalised,
    };
    t(lang, text)
}

impl FieldError {
    /// The rule, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let field = |f: &IdentityField| {
            t(
                lang,
                match f {
                    IdentityField::Name => Text::FieldName,
                    IdentityField::Address => Text::FieldPostalAddress,
                    IdentityField::Phone => Text::FieldPhone,
                },
            )
        };
        match self {
            FieldError::TooLong { field: f, max } => {
                Text::FieldTooLong.fill(lang, &[("field", &field(f)), ("max", max)])
            }
            FieldError::ControlCharacters { field: f } => {
                Text::FieldControlCharacters.fill(lang, &[("field", &field(f))])
            }
            FieldError::TooManyAttributes => t(lang, Text::AtMost32Attributes).to_owned(),
            FieldError::AttributeName { name } => {
                Text::AttributeNameRule.fill(lang, &[("name", name)])
            }
            FieldError::AttributeValue { name } => {
                Text::AttributeValueRule.fill(lang, &[("name", name)])
            }
        }
    }
}

/// An identity field of a contact, as a rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityField {
    /// The name.
    Name,
    /// The postal address.
    Address,
    /// The phone number.
    Phone,
}

impl IdentityField {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityField::Name => "name",
            IdentityField::Address => "address",
            IdentityField::Phone => "phone",
        }
    }
}

/// A rule a contact's field breaks. The English text (`Display`) is the API's; pages
/// render the variant in their language. None holds a value of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Longer than allowed.
    #[error("{} is longer than {max} characters", .field.as_str())]
    TooLong {
        /// Which field.
        field: IdentityField,
        /// Its most characters.
        max: usize,
    },
    /// Holds control characters.
    #[error("{} contains control characters", .field.as_str())]
    ControlCharacters {
        /// Which field.
        field: IdentityField,
    },
    /// More than 32 attributes.
    #[error("at most 32 attributes")]
    TooManyAttributes,
    /// An attribute name breaks `[a-z0-9_]{1,40}`.
    #[error("attribute name {name:?} must be 1 to 40 of a-z 0-9 _")]
    AttributeName {
        /// The name (a column name, not personal data).
        name: String,
    },
    /// An attribute value is neither a short string, a number nor a boolean.
    #[error("attribute {name:?} must be a string of at most 200 characters, a number or a boolean")]
    AttributeValue {
        /// The attribute's name.
        name: String,
    },
}

fn check_len(what: IdentityField, v: &Option<String>, max: usize) -> Result<(), ContactError> {
    match v {
        Some(s) if s.chars().count() > max => Err(ContactError::Field(FieldError::TooLong {
            field: what,
            max,
        })),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
            Err(ContactError::Field(FieldError::ControlCharacters {
                field: what,
            }))
        }
        _ => Ok(()),
    }
}

/// Checks the non-identifying attributes: at most 32, keys `[a-z0-9_]{1,40}`, values
/// short strings, numbers or booleans.
pub fn check_attributes(attrs: &Map<String, Value>) -> Result<(), ContactError> {
    if attrs.len() > 32 {
        return Err(ContactError::Field(FieldError::TooManyAttributes));
    }
    for (k, v) in attrs {
        let key_ok = (1..=40).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(ContactError::Field(FieldError::AttributeName {
                name: k.clone(),
            }));
        }
        match v {
            Value::String(s) if s.chars().count() <= 200 => {}
            Value::Number(_) | Value::Bool(_) => {}
            _ => {
                return Err(ContactError::Field(FieldError::AttributeValue {
                    name: k.clone(),
                }));
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

    /// The fields as given, checked (identity included: never logged).
    pub fn input(&self) -> &ContactInput {
        &self.input
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
    check_len(IdentityField::Name, &input.name, 200)?;
    check_len(IdentityField::Address, &input.address, 500)?;
    check_len(IdentityField::Phone, &input.phone, 40)?;
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
