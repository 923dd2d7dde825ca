//! CSV import and export of the address book, shared by the HTTP API and the CLI. The
//! format is specified in `docs/csv.md`.
//!
//! Import is in two steps on purpose. [`parse`] reads the whole file and puts every line
//! through [`contacts::check`], the same checks as `POST /v1/contacts`; any bad line
//! (duplicate addresses within the file included) rejects the file, with every bad line's
//! number and reason — never its value, so an error list holds no personal data. Only a
//! file with no bad line reaches [`import`], which stores the lines through
//! [`contacts::store`] and reports the addresses the book already had as `existing`.
//! For the API and the command line, storing is one insert per contact, not one
//! transaction: should storage fail part way, importing the same file again stores the
//! rest, the stored lines then being `existing`. The web application's import, which
//! shows a preview first, stores with [`import_atomic`]: one transaction, all or nothing.
//!
//! Export ([`Export`]) is pseudonymous: pseudonym, category, creation time, attributes
//! and the consent status per purpose; identity never leaves the vault this way. It pages
//! through the book in pseudonym order, so a large book is never held at once; the
//! columns are fixed by a first pass over the book when the export starts. A cell a
//! spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, CR first) is written
//! with a leading single quote and quoted (OWASP's rule), and the import takes that quote
//! off attribute cells again, so a round trip keeps the value (docs/csv.md).

use crate::contacts::{self, Checked, ContactError, ContactInput, Created};
use crate::i18n::{Lang, Text, t};
use consentry_core::event::ConsentState;
use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::proof::RecipientCategory;
use consentry_core::time::Timestamp;
use consentry_store::{ExportContact, StatusRow, Store, StoreError};
use consentry_vault::TenantKeys;
use futures_util::StreamExt as _;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Most data rows an import accepts.
pub const MAX_ROWS: usize = 100_000;
/// Largest file an import accepts, in bytes (20 MiB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Contacts stored at once during an import.
const STORE_CONCURRENCY: usize = 4;
/// Contacts per page of an export.
const EXPORT_PAGE: u32 = 500;
/// Contacts per page of the first pass of an export (only the attribute names are kept).
const SCAN_PAGE: u32 = 2000;

/// A line the import does not accept. The reason names the column and the rule, never
/// the value. Serialised (the API's answer) with the reason in English; pages show
/// [`LineError::text`] in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line number in the file, from 1 (the header is line 1 in a file that starts
    /// with it); 0 stands for the file as a whole.
    pub line: u64,
    /// Why.
    pub reason: Reason,
}

impl LineError {
    fn new(line: u64, reason: Reason) -> LineError {
        LineError { line, reason }
    }

    /// The reason in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        self.reason.text(lang)
    }
}

impl serde::Serialize for LineError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("LineError", 2)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("reason", &self.reason.text(Lang::En))?;
        st.end()
    }
}

/// The field separator of an import file, found from its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,` (RFC 4180, and English-language spreadsheets).
    Comma,
    /// `;` (spreadsheets in French and other languages whose decimal mark is a comma).
    Semicolon,
    /// A tab (Excel's "Unicode text").
    Tab,
}

impl Delimiter {
    fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        t(
            lang,
            match self {
                Delimiter::Comma => Text::DelimiterComma,
                Delimiter::Semicolon => Text::DelimiterSemicolon,
                Delimiter::Tab => Text::DelimiterTab,
            },
        )
    }

    /// The separator of a file whose first line is `text`'s: of `,` `;` and tab, the one
    /// found most often outside double quotes on the first line (a comma if none is, or
    /// on a tie, as RFC 4180 says).
    fn detect(text: &[u8]) -> Delimiter {
        let (mut comma, mut semicolon, mut tab) = (0usize, 0usize, 0usize);
        let mut quoted = false;
        for &b in text {
            match b {
                b'"' => quoted = !quoted,
                b'\n' | b'\r' if !quoted => break,
                b',' if !quoted => comma += 1,
                b';' if !quoted => semicolon += 1,
                b'\t' if !quoted => tab += 1,
                _ => {}
            }
        }
        if semicolon > comma && semicolon >= tab {
            Delimiter::Semicolon
        } else if tab > comma && tab > semicolon {
            Delimiter::Tab
        } else {
            Delimiter::Comma
        }
    }
}

/// Why a line (or the file) is refused: typed, so that each page says it in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Over [`MAX_BYTES`].
    FileTooLarge,
    /// No header row.
    Empty,
    /// The header row is not readable CSV.
    HeaderUnreadable,
    /// A header cell is empty (its column number, from 1).
    ColumnWithoutName(usize),
    /// An `attr.` column whose name breaks the attribute rule (the header cell, shown).
    AttributeColumn(String),
    /// A column the import does not know (the header cell, shown).
    UnknownColumn(String),
    /// The first row holds an e-mail address: it is data, the header row is missing.
    HeaderIsData,
    /// A column named twice (its label).
    ColumnTwice(String),
    /// No e-mail column: the columns read (shown) and the separator used.
    NoEmailColumn(Vec<String>, Delimiter),
    /// Another number of fields than the header (this line's, the header's).
    FieldCount(usize, usize, Delimiter),
    /// A category value not known.
    Category,
    /// A value breaks a contact rule.
    Contact(ContactRule),
    /// Over [`MAX_ROWS`].
    TooManyRows,
    /// The address of an earlier line of the file (its number).
    SameAddress(u64),
    /// Not readable CSV.
    NotReadable,
}

impl std::fmt::Display for Reason {
    /// In English (the API's language).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl Reason {
    /// The reason in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Reason::FileTooLarge => {
                Text::CsvFileTooLarge.fill(lang, &[("mib", &(MAX_BYTES / (1024 * 1024)))])
            }
            Reason::Empty => t(lang, Text::CsvEmpty).to_owned(),
            Reason::HeaderUnreadable => t(lang, Text::CsvHeaderUnreadable).to_owned(),
            Reason::ColumnWithoutName(n) => Text::CsvColumnNoName.fill(lang, &[("n", n)]),
            Reason::AttributeColumn(name) => Text::CsvAttributeColumn.fill(lang, &[("name", name)]),
            Reason::UnknownColumn(name) => Text::CsvUnknownColumn.fill(lang, &[("name", name)]),
            Reason::HeaderIsData => t(lang, Text::CsvHeaderIsData).to_owned(),
            Reason::ColumnTwice(name) => Text::CsvColumnTwice.fill(lang, &[("name", name)]),
            Reason::NoEmailColumn(columns, d) => Text::CsvNoEmailColumn.fill(
                lang,
                &[
                    ("columns", &columns.join(", ")),
                    ("delimiter", &d.text(lang)),
                ],
            ),
            Reason::FieldCount(has, header, d) => Text::CsvFieldCount.fill(
                lang,
                &[
                    ("has", has),
                    ("header", header),
                    ("delimiter", &d.text(lang)),
                ],
            ),
            Reason::Category => t(lang, Text::CsvCategory).to_owned(),
            Reason::Contact(ContactRule::Field(f)) => f.text(lang),
            Reason::Contact(ContactRule::Email(rule)) => {
                Text::EmailUnusable.fill(lang, &[("rule", &contacts::email_rule_text(lang, *rule))])
            }
            Reason::Contact(ContactRule::Other(m)) => m.clone(),
            Reason::TooManyRows => Text::CsvTooManyRows.fill(lang, &[("max", &MAX_ROWS)]),
            Reason::SameAddress(line) => Text::CsvSameAddress.fill(lang, &[("line", line)]),
            Reason::NotReadable => t(lang, Text::CsvNotReadable).to_owned(),
        }
    }
}

/// The contact rule a line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRule {
    /// A field's rule.
    Field(contacts::FieldError),
    /// The address grammar.
    Email(consentry_vault::EmailError),
    /// Any other (English only: none is expected from a file's values).
    Other(String),
}

/// A checked line, ready to store.
pub struct Row {
    /// Its line number in the file.
    pub line: u64,
    email: String,
    checked: Checked,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A column of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Email,
    /// The full name, or the family name when a first-name column is there too.
    Name,
    /// The first name: put before the name.
    FirstName,
    Address,
    Phone,
    Category,
    Attr(String),
}

impl Column {
    /// The column a header cell names, in French or English, whatever its case, accents,
    /// spaces, hyphens and apostrophes (docs/csv.md lists them).
    fn named(cell: &str) -> Option<Column> {
        Some(match fold(cell).as_str() {
            "email"
            | "mail"
            | "courriel"
            | "adressemail"
            | "adresseemail"
            | "adressecourriel"
            | "adresseelectronique"
            | "emailaddress"
            | "mailaddress" => Column::Email,
            "name" | "nom" | "nomcomplet" | "fullname" | "nomprenom" | "prenomnom"
            | "nometprenom" | "prenometnom" | "lastname" | "surname" | "familyname"
            | "nomdefamille" => Column::Name,
            "prenom" | "firstname" | "givenname" => Column::FirstName,
            "address" | "adresse" | "adressepostale" | "postaladdress" => Column::Address,
            "phone" | "telephone" | "tel" | "phonenumber" | "numerodetelephone" | "mobile"
            | "portable" | "telephoneportable" => Column::Phone,
            "category" | "categorie" | "type" | "typedecontact" => Column::Category,
            _ => return None,
        })
    }
}

/// A header cell or a value as the import compares it: lower case, accents off, and
/// spaces, hyphens, underscores, dots, apostrophes and `°` dropped.
fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' => Some('e'),
            'î' | 'ï' | 'í' => Some('i'),
            'ô' | 'ö' | 'ó' => Some('o'),
            'ù' | 'û' | 'ü' | 'ú' => Some('u'),
            'ç' => Some('c'),
            'ÿ' => Some('y'),
            ' ' | '-' | '_' | '.' | '\'' | '\u{2019}' | '°' | '\u{a0}' | '\u{202f}' => None,
            c => Some(c),
        })
        .collect()
}

/// A header cell as an error message shows it: trimmed to 60 characters, quoted.
fn shown(name: &str) -> String {
    let mut s: String = name.trim().chars().take(60).collect();
    if name.trim().chars().count() > 60 {
        s.push('…');
    }
    format!("\u{ab}\u{a0}{s}\u{a0}\u{bb}")
}

fn attr_name_ok(n: &str) -> bool {
    (1..=40).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn header(
    record: &csv::ByteRecord,
    line: u64,
    delimiter: Delimiter,
) -> Result<Vec<Column>, Vec<LineError>> {
    // The text was decoded to UTF-8 before reading: every cell is valid UTF-8.
    let cells: Vec<&str> = record
        .iter()
        .map(|raw| std::str::from_utf8(raw).unwrap_or(""))
        .collect();
    // A first row holding an address is data: the header row is missing. Said so, and
    // no cell of it is shown (they are a person's data).
    if cells.iter().any(|c| c.contains('@')) {
        return Err(vec![LineError::new(line, Reason::HeaderIsData)]);
    }
    let mut columns = Vec::with_capacity(cells.len());
    let mut errors = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let name = cell.trim();
        let column = if name.is_empty() {
            errors.push(LineError::new(line, Reason::ColumnWithoutName(i + 1)));
            continue;
        } else if let Some(attr) = name
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("attr."))
            .map(|_| &name[5..])
        {
            if !attr_name_ok(attr) {
                errors.push(LineError::new(line, Reason::AttributeColumn(shown(name))));
                continue;
            }
            Column::Attr(attr.to_owned())
        } else if let Some(c) = Column::named(name) {
            c
        } else {
            errors.push(LineError::new(line, Reason::UnknownColumn(shown(name))));
            continue;
        };
        if columns.contains(&column) {
            errors.push(LineError::new(line, Reason::ColumnTwice(shown(name))));
            continue;
        }
        columns.push(column);
    }
    if !columns.contains(&Column::Email) && !cells.is_empty() {
        // Said first: a missing address column is the mistake to fix, whatever else.
        errors.insert(
            0,
            LineError::new(
                line,
                Reason::NoEmailColumn(cells.iter().map(|c| shown(c)).collect(), delimiter),
            ),
        );
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

fn category(v: &str) -> Result<RecipientCategory, Reason> {
    match fold(v).as_str() {
        "private" | "particulier" | "particuliere" | "prive" | "privee" | "personnephysique"
        | "individual" | "consumer" => Ok(RecipientCategory::Private),
        "professional" | "professionnel" | "professionnelle" | "pro" | "entreprise" | "societe"
        | "business" | "company" => Ok(RecipientCategory::Professional),
        "unspecified" | "nonprecise" | "nonprecisee" | "inconnu" | "nonrenseigne" => {
            Ok(RecipientCategory::Unspecified)
        }
        _ => Err(Reason::Category),
    }
}

/// One data line: `None` if every cell is empty (such lines are skipped).
fn row(
    columns: &[Column],
    record: &csv::ByteRecord,
    delimiter: Delimiter,
) -> Result<Option<(String, Checked)>, Reason> {
    if record.len() != columns.len() {
        return Err(Reason::FieldCount(record.len(), columns.len(), delimiter));
    }
    let mut input = ContactInput::default();
    let mut attributes = Map::new();
    let mut first_name = None;
    let mut empty = true;
    for (column, raw) in columns.iter().zip(record.iter()) {
        let value = std::str::from_utf8(raw).unwrap_or("").trim();
        if value.is_empty() {
            continue;
        }
        empty = false;
        match column {
            Column::Email => input.email = value.to_owned(),
            Column::Name => input.name = Some(value.to_owned()),
            Column::FirstName => first_name = Some(value.to_owned()),
            Column::Address => input.address = Some(value.to_owned()),
            Column::Phone => input.phone = Some(value.to_owned()),
            Column::Category => input.category = Some(category(value)?),
            Column::Attr(n) => {
                // A cell the export neutralised (`'=…`) comes back as the value it was.
                attributes.insert(n.clone(), Value::String(unneutralise(value).to_owned()));
            }
        }
    }
    if empty {
        return Ok(None);
    }
    if let Some(first) = first_name {
        input.name = Some(match input.name.take() {
            Some(last) => format!("{first} {last}"),
            None => first,
        });
    }
    if !attributes.is_empty() {
        input.attributes = Some(attributes);
    }
    let checked = contacts::check(input).map_err(|e| {
        Reason::Contact(match e {
            ContactError::Field(f) => ContactRule::Field(f),
            ContactError::Email(rule) => ContactRule::Email(rule),
            other => ContactRule::Other(other.to_string()),
        })
    })?;
    Ok(Some((checked.email().to_owned(), checked)))
}

/// Line numbers of records. The `csv` crate's own `Position::line` counts a record from
/// where the reader left the previous one, so a record after a blank line or a CRLF would
/// get the number of the line before; this counts from the record's first byte instead.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The line a record starts on (records come in file order).
    fn record_line(&mut self, record: &csv::ByteRecord) -> u64 {
        let Some(pos) = record.position() else {
            return self.line;
        };
        let mut start = usize::try_from(pos.byte()).unwrap_or(usize::MAX);
        // Skip the line breaks and blank lines the reader passed over before the record.
        while let Some(b'\r' | b'\n') = self.bytes.get(start) {
            start += 1;
        }
        let end = start.min(self.bytes.len());
        while self.pos < end {
            match self.bytes[self.pos] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.pos += 1;
        }
        self.line
    }
}

/// The file's text. A byte order mark says the encoding (UTF-8, or UTF-16 as Excel's
/// "Unicode text" writes it) and is taken off; without one, UTF-8 if the bytes are valid
/// UTF-8, else Windows-1252 (what Excel's "CSV" writes on a French or English Windows).
/// The two cannot be confused in practice: accented Windows-1252 text is never valid
/// UTF-8, and plain ASCII is the same in both.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

/// Reads and checks a whole import file. Either every line is good and all of them are
/// returned, or the answer lists every bad line.
pub fn parse(bytes: &[u8]) -> Result<Vec<Row>, Vec<LineError>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![LineError::new(0, Reason::FileTooLarge)]);
    }
    let text = decode(bytes);
    let bytes = text.as_bytes();
    let delimiter = Delimiter::detect(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter.byte())
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let mut lines = LineCounter::new(bytes);
    let mut line_of = |r: &csv::ByteRecord| lines.record_line(r);
    let first = match records.next() {
        None => return Err(vec![LineError::new(1, Reason::Empty)]),
        Some(Err(e)) => {
            let line = e.position().map_or(1, csv::Position::line);
            return Err(vec![LineError::new(line, Reason::HeaderUnreadable)]);
        }
        Some(Ok(r)) => r,
    };
    let columns = header(&first, line_of(&first), delimiter)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut count = 0usize;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errors.push(LineError::new(line, Reason::NotReadable));
                break;
            }
        };
        let line = line_of(&record);
        let outcome = row(&columns, &record, delimiter);
        if matches!(outcome, Ok(None)) {
            continue;
        }
        count += 1;
        if count > MAX_ROWS {
            errors.push(LineError::new(line, Reason::TooManyRows));
            break;
        }
        match outcome {
            Ok(None) => {}
            Ok(Some((email, checked))) => {
                if let Some(first) = seen.get(&email) {
                    errors.push(LineError::new(line, Reason::SameAddress(*first)));
                } else {
                    seen.insert(email.clone(), line);
                    rows.push(Row {
                        line,
                        email,
                        checked,
                    });
                }
            }
            Err(reason) => errors.push(LineError::new(line, reason)),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The body of the `contacts_csv` fuzz target (`fuzz/`), shared with the corpus replay
/// of the normal test suite (`crates/consentry/tests/fuzz_corpus.rs`) so both run the
/// same code: [`parse`] on untrusted upload bytes never panics, and asserts what the
/// import relies on. Accepted rows keep the file's order, with line numbers from 2 on
/// (line 1 at least is the header), unique addresses and at most [`MAX_ROWS`] of them;
/// a refused file lists at least one line, each with a reason and a line number no
/// larger than the file has lines.
pub fn fuzz_parse(bytes: &[u8]) -> Result<usize, usize> {
    let lines = 1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
    match parse(bytes) {
        Ok(rows) => {
            assert!(rows.len() <= MAX_ROWS);
            let mut last = 1;
            let mut emails = BTreeSet::new();
            for r in &rows {
                assert!(r.line > last, "row lines increase: {} after {last}", r.line);
                assert!(r.line <= lines);
                last = r.line;
                assert!(
                    emails.insert(r.email.as_str()),
                    "duplicate address accepted"
                );
            }
            Ok(rows.len())
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(!e.text(Lang::En).is_empty() && !e.text(Lang::Fr).is_empty());
                assert!(e.line <= lines, "line {} of a {lines}-line file", e.line);
            }
            Err(errors.len())
        }
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Contacts created (in a dry run: that would be created).
    pub created: u64,
    /// Lines whose address the book already had, with that contact's pseudonym.
    pub existing: Vec<(u64, SubjectId)>,
}

impl Outcome {
    /// The answer's JSON: `{created, existing: [{line, id}], errors: []}`.
    pub fn to_json(&self, dry_run: bool) -> Value {
        serde_json::json!({
            "created": self.created,
            "existing": self
                .existing
                .iter()
                .map(|(line, id)| serde_json::json!({"line": line, "id": id.to_string()}))
                .collect::<Vec<_>>(),
            "errors": [],
            "dry_run": dry_run,
        })
    }
}

/// Storing stopped part way; the lines before were stored.
#[derive(Debug, thiserror::Error)]
#[error("storing stopped after {stored} of {total} lines: {source}")]
pub struct ImportError {
    /// Lines stored (created or found existing) before the failure.
    pub stored: u64,
    /// Lines to store.
    pub total: u64,
    /// The failure.
    #[source]
    pub source: ContactError,
}

/// Stores checked lines (or, with `dry_run`, only looks up which are already in the
/// book). `progress` is called once per line stored.
pub async fn import(
    store: &Store,
    keys: &TenantKeys,
    tenant: &TenantId,
    rows: Vec<Row>,
    now: i64,
    dry_run: bool,
    mut progress: impl FnMut(),
) -> Result<Outcome, ImportError> {
    let total = rows.len() as u64;
    let mut outcome = Outcome::default();
    if dry_run {
        // Under every master key version held: during a rotation a contact may be
        // under either.
        let indexes: Vec<Vec<[u8; 32]>> = rows
            .iter()
            .map(|r| {
                keys.blind_indexes(&r.email)
                    .into_iter()
                    .map(|(_, ix)| ix)
                    .collect()
            })
            .collect();
        let all: Vec<[u8; 32]> = indexes.iter().flatten().copied().collect();
        let found: HashMap<[u8; 32], SubjectId> = store
            .contacts_by_email_index(tenant, &all)
            .await
            .map_err(|e| ImportError {
                stored: 0,
                total,
                source: e.into(),
            })?
            .into_iter()
            .collect();
        for (row, ixs) in rows.iter().zip(&indexes) {
            match ixs.iter().find_map(|ix| found.get(ix)) {
                Some(id) => outcome.existing.push((row.line, id.clone())),
                None => outcome.created += 1,
            }
        }
        return Ok(outcome);
    }
    let mut results = futures_util::stream::iter(rows.into_iter().map(|r| async move {
        (
            r.line,
            contacts::store(store, keys, tenant, r.checked, now).await,
        )
    }))
    .buffered(STORE_CONCURRENCY);
    let mut stored = 0u64;
    while let Some((line, result)) = results.next().await {
        match result {
            Ok(Created::New(_)) => outcome.created += 1,
            Ok(Created::Duplicate(id)) => outcome.existing.push((line, id)),
            Err(source) => {
                return Err(ImportError {
                    stored,
                    total,
                    source,
                });
            }
        }
        stored += 1;
        progress();
    }
    Ok(outcome)
}

/// Stores checked lines in **one transaction**: every line is created (or found
/// existing) or, should anything fail, nothing at all is written. Used by the web
/// application's import, whose preview promised exactly what the confirmation does. The
/// encryption runs on the blocking pool; on SQLite other writers wait while the batch is
/// written (about a second for 10,000 lines).
pub async fn import_atomic(
    store: &Store,
    keys: std::sync::Arc<TenantKeys>,
    tenant: &TenantId,
    rows: Vec<Row>,
    now: i64,
) -> Result<Outcome, ContactError> {
    let owner = tenant.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        rows.into_iter()
            .map(|r| {
                contacts::prepare(&keys, &owner, r.checked, now)
                    .map(|(row, forms)| (r.line, row, forms))
            })
            .collect::<Result<Vec<_>, ContactError>>()
    })
    .await
    .map_err(|e| ContactError::Invalid(format!("encrypting the import stopped: {e}")))??;
    let lines: Vec<u64> = prepared.iter().map(|(line, _, _)| *line).collect();
    let batch: Vec<(consentry_store::NewContact, Vec<consentry_store::KeyedForm>)> = prepared
        .into_iter()
        .map(|(_, row, forms)| (row, forms))
        .collect();
    let answers = store.insert_contacts_atomic(&batch).await?;
    let mut outcome = Outcome::default();
    for (line, answer) in lines.into_iter().zip(answers) {
        match answer {
            consentry_store::KeyedInsert::Inserted(_) => outcome.created += 1,
            consentry_store::KeyedInsert::Duplicate(id) => outcome.existing.push((line, id)),
        }
    }
    Ok(outcome)
}

/// The export of a tenant's book as an HTTP answer: `text/csv`, an attachment named
/// `contacts.csv`, streamed page by page. Shared by the API and the web application.
pub async fn export_response(
    store: Store,
    tenant: TenantId,
    now: i64,
) -> Result<axum::response::Response, ExportError> {
    use axum::body::{Body, Bytes};
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse as _;
    use futures_util::TryStreamExt as _;
    let export = Export::begin(store, tenant, now).await?;
    let header_row = export.header()?;
    let first = futures_util::stream::once(async move { Ok(Bytes::from(header_row)) });
    let rest = futures_util::stream::try_unfold(export, |mut e| async move {
        Ok(e.next_page().await?.map(|page| (Bytes::from(page), e)))
    });
    let stream = first.chain(rest).inspect_err(|e: &ExportError| {
        tracing::error!(error = %e, "CSV export stopped part way");
    });
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"contacts.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Why an export could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing CSV failed.
    #[error("writing CSV: {0}")]
    Write(String),
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> ExportError {
        ExportError::Write(e.to_string())
    }
}

/// A pseudonymous export of a tenant's book, read page by page.
#[derive(Debug)]
pub struct Export {
    store: Store,
    tenant: TenantId,
    attributes: Vec<String>,
    purposes: Vec<String>,
    after: Option<SubjectId>,
    until: Option<SubjectId>,
    now: i64,
    done: bool,
    rows: u64,
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP's "CSV
/// Injection" rule): `=`, `+`, `-`, `@`, tab and carriage return.
const FORMULA_LEAD: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether the export neutralises a cell: it begins with a formula character, or with
/// single quotes and then one. The second case is not a formula, but neutralising it too
/// makes the rule reversible — [`unneutralise`] takes exactly one quote off exactly the
/// cells this prefixed — so a re-imported export gives back the stored value.
fn needs_neutralising(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_LEAD)
}

/// An import cell as the export wrote it back to its value: one leading single quote
/// taken off a cell that begins with quotes and then a formula character (see
/// [`needs_neutralising`]). Any other cell is left as it is.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_neutralising(rest) => rest,
        _ => cell,
    }
}

/// Appends one CSV record (RFC 4180, CRLF). A cell holding a quote, comma or line break
/// is quoted; a cell a spreadsheet would take for a formula is prefixed with a single
/// quote **and** quoted, as OWASP's rule asks (a spreadsheet then shows the text and
/// evaluates nothing). Written by hand because the `csv` crate cannot quote one cell of a
/// record and not the others.
fn write_record(out: &mut Vec<u8>, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let neutralise = needs_neutralising(cell);
        if neutralise
            || cell.contains(['"', ',', '\r', '\n'])
            || (cells.len() == 1 && cell.is_empty())
        {
            out.push(b'"');
            if neutralise {
                out.push(b'\'');
            }
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Export {
    /// Starts an export: fixes its columns (every attribute name and every purpose the
    /// book has now) and its last contact. Contacts added later are not in it.
    pub async fn begin(store: Store, tenant: TenantId, now: i64) -> Result<Export, ExportError> {
        let mut names = BTreeSet::new();
        let mut after: Option<SubjectId> = None;
        loop {
            let page = store
                .export_contacts(&tenant, after.as_ref(), None, SCAN_PAGE)
                .await?;
            for c in &page {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&c.attributes) {
                    names.extend(m.keys().cloned());
                }
            }
            if let Some(last) = page.last() {
                after = Some(last.id.clone());
            }
            if page.len() < SCAN_PAGE as usize {
                break;
            }
        }
        let purposes = store.consent_purposes(&tenant).await?;
        Ok(Export {
            store,
            tenant,
            attributes: names.into_iter().collect(),
            purposes,
            after: None,
            until: after,
            now,
            done: false,
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The header row.
    pub fn header(&self) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::new();
        let mut cols: Vec<String> = ["id", "category", "created_at", "erased"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        cols.extend(self.attributes.iter().map(|a| format!("attr.{a}")));
        cols.extend(self.purposes.iter().map(|p| format!("consent.{p}")));
        write_record(&mut out, &cols);
        Ok(out)
    }

    fn record(&self, c: &ExportContact, statuses: &[StatusRow]) -> Vec<String> {
        let mut out = Vec::with_capacity(4 + self.attributes.len() + self.purposes.len());
        out.push(c.id.to_string());
        out.push(c.category.as_str().to_owned());
        out.push(
            Timestamp::from_unix_millis(c.created_at)
                .map(|t| t.to_string())
                .unwrap_or_default(),
        );
        out.push(c.erased.to_string());
        let attrs = match serde_json::from_str::<Value>(&c.attributes) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for a in &self.attributes {
            out.push(attrs.get(a).map(cell).unwrap_or_default());
        }
        for p in &self.purposes {
            let status = statuses
                .iter()
                .find(|s| s.subject == c.id && &s.purpose == p)
                .map(|s| {
                    ConsentState::of_book(s.status, s.valid_until, self.now)
                        .as_str()
                        .to_owned()
                })
                .unwrap_or_default();
            out.push(status);
        }
        out
    }

    /// The next page of rows, or `None` once every contact is written.
    pub async fn next_page(&mut self) -> Result<Option<Vec<u8>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let Some(until) = self.until.as_ref() else {
            self.done = true;
            return Ok(None);
        };
        let page = self
            .store
            .export_contacts(&self.tenant, self.after.as_ref(), Some(until), EXPORT_PAGE)
            .await?;
        if page.len() < EXPORT_PAGE as usize {
            self.done = true;
        }
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(last.id.clone());
        let ids: Vec<SubjectId> = page.iter().map(|c| c.id.clone()).collect();
        let statuses = if self.purposes.is_empty() {
            Vec::new()
        } else {
            self.store.statuses(&self.tenant, &ids).await?
        };
        let mut out = Vec::new();
        for c in &page {
            write_record(&mut out, &self.record(c, &statuses));
        }
        self.rows += page.len() as u64;
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<LineError> {
        parse(text.as_bytes()).expect_err("the file should be refused")
    }

    fn ok(text: &str) -> Vec<Row> {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("refused: {e:?}"))
    }

    #[test]
    fn a_good_file_gives_every_row_with_its_line() {
        let rows = ok("email,name\r\na@example.org,Ann\r\nb@example.org,Bob\r\n");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(rows[0].email, "a@example.org");
    }

    #[test]
    fn a_missing_header_row_is_reported_without_the_data_in_it() {
        let e = errors("ann@example.org,Ann Martin\nbob@example.org,Bob\n");
        let all: String = e.iter().map(|x| x.reason.to_string()).collect();
        assert!(
            !all.contains("ann@") && !all.contains("Ann Martin"),
            "{all}"
        );
        assert!(all.contains("Add a header row"), "{all}");
        // A misspelt column name is still named.
        let e = errors("emial,name\na@example.org,A\n");
        assert!(e[0].reason.to_string().contains("emial"), "{e:?}");
    }

    #[test]
    fn a_utf8_bom_is_accepted() {
        let rows = ok("\u{feff}email,name\na@example.org,Zoë\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let rows = ok(
            "email,name,address\n\"a@example.org\",\"Doe, \"\"Jo\"\"\",\"1 rue X\n75001 Paris\"\nb@example.org,B,\n",
        );
        assert_eq!(rows.len(), 2);
        // The quoted newline makes the first record span lines 2-3.
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn line_numbers_count_quoted_newlines_and_blank_lines() {
        let e = errors("email,address\n\"a@example.org\",\"x\ny\nz\"\n\nnot-an-address,\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 6);
        assert!(
            e[0].reason
                .to_string()
                .starts_with("unusable e-mail address"),
            "{}",
            e[0].reason
        );
    }

    #[test]
    fn line_numbers_hold_with_crlf_blank_lines_and_a_bom() {
        let e = errors(
            "\u{feff}\r\nemail,attr.note\r\n\r\n\"x@example.org\",\"a\r\nb\"\r\n\r\nbad,\r\nworse,\r\n",
        );
        let lines: Vec<u64> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [7, 8], "{e:?}");
        let e = errors("email\rgood@example.org\rbad\r");
        assert_eq!(e[0].line, 3, "{e:?}");
        let e = errors("\u{feff}email,nick\r\n");
        assert_eq!(e[0].line, 1, "{e:?}");
    }

    #[test]
    fn attr_columns_become_attributes() {
        let rows = ok("email,attr.region,attr.tier\na@example.org,north,\n");
        assert_eq!(rows.len(), 1);
        let e = errors("email,attr.Region\na@example.org,north\n");
        assert_eq!(e[0].line, 1);
        assert!(
            e[0].reason.to_string().contains("attr.Region"),
            "{}",
            e[0].reason
        );
        let long = "v".repeat(201);
        let e = errors(&format!("email,attr.x\na@example.org,{long}\n"));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 2);
        assert!(
            e[0].reason.to_string().contains("\u{201c}x\u{201d}"),
            "{}",
            e[0].reason
        );
    }

    #[test]
    fn an_unknown_column_is_named() {
        let e = errors("email,nickname,shoe_size\na@example.org,x,y\n");
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|e| e.line == 1));
        assert!(
            e[0].reason.to_string().contains("nickname"),
            "{}",
            e[0].reason
        );
        assert!(
            e[1].reason.to_string().contains("shoe_size"),
            "{}",
            e[1].reason
        );
    }

    #[test]
    fn a_missing_email_column_is_refused() {
        let e = errors("name,phone\nAnn,123\n");
        assert_eq!(
            e,
            [LineError::new(
                1,
                Reason::NoEmailColumn(
                    vec![
                        "\u{ab}\u{a0}name\u{a0}\u{bb}".into(),
                        "\u{ab}\u{a0}phone\u{a0}\u{bb}".into()
                    ],
                    Delimiter::Comma
                )
            )]
        );
        let e = errors("");
        assert_eq!(e[0].line, 1);
        let e = errors("email,Email\n");
        assert!(
            e[0].reason.to_string().contains("more than once"),
            "{}",
            e[0].reason
        );
    }

    #[test]
    fn every_bad_line_is_listed_without_its_value() {
        let text = "email,name,category\n\
                    good@example.org,Ann,private\n\
                    secret-value-no-at,Bob,\n\
                    c@example.org,Cy,martian\n\
                    GOOD@example.org,Dup,\n\
                    d@example.org\n\
                    e@example.org,\"Ed\u{7}\",\n";
        let e = errors(text);
        let lines: Vec<u64> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{e:?}");
        assert!(e[1].reason.to_string().contains("Category"));
        assert!(
            e[2].reason.to_string().contains("line 2"),
            "{}",
            e[2].reason
        );
        assert!(
            e[3].reason.to_string().contains("field(s)"),
            "{}",
            e[3].reason
        );
        assert!(e[4].reason.to_string().contains("name"), "{}", e[4].reason);
        for err in &e {
            for value in [
                "secret-value",
                "martian",
                "GOOD@",
                "good@",
                "Ed",
                "d@example",
            ] {
                assert!(
                    !err.reason.to_string().contains(value),
                    "{value} in {}",
                    err.reason
                );
            }
        }
    }

    #[test]
    fn empty_rows_are_skipped_and_cells_trimmed() {
        let rows = ok("email , category\n , \n  a@example.org , Professional \n,\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 3);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_windows_1252() {
        // "Hélène" as Excel writes it on a French Windows: é is 0xE9, è 0xE8.
        let mut bytes = b"email,name\na@example.org,H".to_vec();
        bytes.extend([0xe9, b'l', 0xe8, b'n', b'e', b'\n']);
        let rows = parse(&bytes).expect("read as Windows-1252");
        assert_eq!(rows[0].checked.input().name.as_deref(), Some("Hélène"));
    }

    #[test]
    fn utf8_with_or_without_bom_and_utf16_with_bom_are_read() {
        let text = "courriel;nom\nhelene@example.org;Hélène Durand\n";
        for bytes in [
            text.as_bytes().to_vec(),
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            std::iter::once(0xfeffu16)
                .chain(text.encode_utf16())
                .flat_map(u16::to_le_bytes)
                .collect(),
        ] {
            let rows = parse(&bytes).expect("read");
            assert_eq!(rows[0].email, "helene@example.org");
            assert_eq!(
                rows[0].checked.input().name.as_deref(),
                Some("Hélène Durand")
            );
        }
    }

    #[test]
    fn the_separator_is_found_from_the_header_row() {
        assert_eq!(Delimiter::detect(b"email,name\n"), Delimiter::Comma);
        assert_eq!(
            Delimiter::detect(b"email;name;phone\n"),
            Delimiter::Semicolon
        );
        assert_eq!(Delimiter::detect(b"email\tname\n"), Delimiter::Tab);
        assert_eq!(Delimiter::detect(b"email\n"), Delimiter::Comma);
        // Separators inside quotes do not count; the first line only.
        assert_eq!(
            Delimiter::detect(b"\"a;b;c\",email\nx;y;z;w\n"),
            Delimiter::Comma
        );
        // A semicolon file whose addresses hold commas in quoted cells.
        let rows = ok("email;name;address\nann@example.org;Ann;\"1, rue de la Paix\"\n");
        assert_eq!(
            rows[0].checked.input().address.as_deref(),
            Some("1, rue de la Paix")
        );
        let rows = ok("email\tname\nann@example.org\tAnn\n");
        assert_eq!(rows[0].checked.input().name.as_deref(), Some("Ann"));
    }

    #[test]
    fn french_and_english_headers_and_values_are_understood() {
        let rows = ok("Nom;Prénom;Courriel;Téléphone;Catégorie;Adresse postale\n\
             Durand;Hélène;helene@example.org;01 23 45 67 89;particulier;1 rue X\n\
             Martin;;paul@example.net;;Professionnel;\n\
             ;;zoe@example.com;;non précisé;\n");
        assert_eq!(rows.len(), 3);
        let c = &rows[0].checked;
        assert_eq!(c.input().name.as_deref(), Some("Hélène Durand"));
        assert_eq!(c.input().phone.as_deref(), Some("01 23 45 67 89"));
        assert_eq!(c.input().address.as_deref(), Some("1 rue X"));
        assert_eq!(c.input().category, Some(RecipientCategory::Private));
        assert_eq!(rows[1].checked.input().name.as_deref(), Some("Martin"));
        assert_eq!(
            rows[1].checked.input().category,
            Some(RecipientCategory::Professional)
        );
        assert_eq!(
            rows[2].checked.input().category,
            Some(RecipientCategory::Unspecified)
        );
        for header in [
            "E-mail",
            "adresse e-mail",
            "Adresse électronique",
            "MAIL",
            "email",
        ] {
            let rows = ok(&format!("{header}\nann@example.org\n"));
            assert_eq!(rows[0].email, "ann@example.org", "{header}");
        }
    }

    #[test]
    fn reasons_are_said_in_the_page_language_without_values() {
        let e = errors("nom;courriel;catégorie\nDurand;helene@example.org;client fidèle\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 2);
        let fr = e[0].text(Lang::Fr);
        assert!(
            fr.starts_with("Catégorie : particulier, professionnel"),
            "{fr}"
        );
        assert!(!fr.contains("fidèle"));
        let e = errors("nom;prenom;tel\nDurand;Hélène;0123\n");
        let fr = e[0].text(Lang::Fr);
        assert!(fr.contains("Aucune colonne d'adresses e-mail"), "{fr}");
        assert!(
            fr.contains("point-virgule") && fr.contains("\u{ab}\u{a0}nom\u{a0}\u{bb}"),
            "{fr}"
        );
        let en = e[0].text(Lang::En);
        assert!(en.contains("semicolon"), "{en}");
        // A first row of data is said to be data, and none of it is shown.
        let e = errors("helene@example.org;Hélène Durand\n");
        assert_eq!(e[0].reason, Reason::HeaderIsData);
        assert!(!e[0].text(Lang::Fr).contains("Hélène"));
        // An address rule, in French.
        let e = errors("courriel\n<bob@example.org>\n");
        let fr = e[0].text(Lang::Fr);
        assert!(
            fr.starts_with("adresse e-mail inutilisable : elle a des chevrons"),
            "{fr}"
        );
        assert!(!fr.contains("bob"));
        // The API's answer keeps English.
        let json = serde_json::to_value(&e[0]).unwrap();
        assert!(
            json["reason"]
                .as_str()
                .unwrap()
                .starts_with("unusable e-mail address")
        );
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut text = String::from("email\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("p{i}@example.org\n"));
        }
        let e = errors(&text);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, MAX_ROWS as u64 + 2);
        assert!(e[0].reason.to_string().contains("More than"));
    }

    #[test]
    fn too_large_a_file_is_refused() {
        let bytes = vec![b'a'; MAX_BYTES + 1];
        let e = parse(&bytes).expect_err("refused");
        assert_eq!(e[0].line, 0);
    }

    fn written(cells: &[&str]) -> String {
        let mut out = Vec::new();
        write_record(
            &mut out,
            &cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>(),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn export_cells_that_lead_with_a_formula_character_are_neutralised_and_quoted() {
        assert_eq!(
            written(&["sub_1", "=HYPERLINK(\"http://x.example\",\"y\")", "north"]),
            "sub_1,\"'=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\",north\r\n"
        );
        for lead in ["=", "+", "-", "@", "\t", "\r"] {
            let cell = format!("{lead}1+1");
            let expected = format!("\"'{}\"\r\n", cell);
            assert_eq!(
                written(&[&cell, ""]),
                format!("{}{}", expected.trim_end_matches("\r\n"), ",\r\n"),
                "{lead:?}"
            );
        }
        // Already quoted-and-formula-like: one more quote, so the import can undo it.
        assert_eq!(written(&["'=1", "x"]), "\"''=1\",x\r\n");
        // Nothing else changes.
        assert_eq!(
            written(&["a", "'quoted", "1=1", "a,b", ""]),
            "a,'quoted,1=1,\"a,b\",\r\n"
        );
    }

    #[test]
    fn an_exported_cell_read_back_by_the_import_is_the_stored_value() {
        let values = [
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "+33 1 23 45 67 89",
            "-5",
            "@SUM(A1:A2)",
            "\tcmd",
            "\r=1",
            "'=1",
            "''+x",
            "'",
            "'plain",
            "plain",
            "a \"quoted\" word, with a comma",
            "",
        ];
        for v in values {
            let line = written(&[v, "end"]);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            let cell = &record[0];
            assert!(!cell.starts_with(FORMULA_LEAD), "{v:?} left as {cell:?}");
            assert_eq!(unneutralise(cell), v, "{v:?} via {line:?}");
        }
    }

    #[test]
    fn the_import_undoes_the_exports_neutralising_quote_in_attributes_only() {
        let rows = ok(
            "email,name,attr.link,attr.note\r\na@example.org,'=x,\"'=HYPERLINK(\"\"http://e.example\"\")\",'plain\r\n",
        );
        let attrs = rows[0].checked.attributes();
        assert_eq!(attrs["link"], "=HYPERLINK(\"http://e.example\")");
        assert_eq!(attrs["note"], "'plain");
    }
}
