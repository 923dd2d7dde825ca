//! The address book as the web application shows it: pages of a tenant's contacts under
//! filters (a consent status for a purpose, pseudonyms, a pseudonym prefix), newest or
//! oldest first, with the number of matches; editing a contact's non-identifying columns;
//! and storing a whole import in one transaction.
//!
//! **Paging is keyset paging on the pseudonym.** Pseudonyms begin with the creation time
//! in hex, so pseudonym order is creation order, and a page is "the next `limit` IDs
//! after (or before) this one": an index range, never an `OFFSET` that would read every
//! earlier row. Two plans serve a consent filter, chosen from the number of matches
//! (counted first, from the `consent_status_by_purpose` index):
//!
//! - **sparse** (at most [`SPARSE_MAX`] matches): read the matches' pseudonyms from
//!   `consent_status_by_purpose`, sort them and join only the page's rows: bounded by
//!   the number of matches;
//! - **dense** (more): walk `contacts_by_tenant` in ID order and probe each contact's
//!   status by primary key, stopping after `limit` matches. With more than `SPARSE_MAX`
//!   matches this stops early unless the matches are bunched at the far end of the
//!   book; at worst it reads the book's index once (tens of milliseconds at 100,000).
//!
//! The `none` filter (no record for the purpose) has no index of its own and is always
//! walked as dense.
//!
//! The counts read only indexes (plus the rows' expiry for `granted` and `expired`).

use crate::keyring::{bind_keyed_insert, keyed_insert_sql};
use crate::{ExportContact, KeyedForm, KeyedInsert, NewContact, Store, StoreError, to_u64};
use consentry_core::event::ConsentState;
use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::proof::RecipientCategory;

/// A consent filter with at most this many matches is read from the purpose index and
/// sorted; with more, the book is walked in order (see the module docs).
pub const SPARSE_MAX: u64 = 5_000;

/// The stored status a book filter on `status` reads (`None`, no record, has none): an
/// `Expired` filter reads stored grants whose `valid_until` has passed.
fn stored(status: ConsentState) -> Option<&'static str> {
    match status {
        ConsentState::Granted | ConsentState::Expired => Some("granted"),
        ConsentState::Refused => Some("refused"),
        ConsentState::Revoked => Some("revoked"),
        ConsentState::Pending => Some("pending"),
        ConsentState::None => None,
    }
}

/// Which contacts a page of the book lists.
#[derive(Debug, Clone, Default)]
pub struct BookFilter {
    /// Only these pseudonyms (a search by e-mail address found them). `Some(empty)`
    /// matches nothing.
    pub ids: Option<Vec<SubjectId>>,
    /// Only pseudonyms starting with this text (`sub_…`; only `[a-z0-9_]` is accepted,
    /// anything else matches nothing).
    pub prefix: Option<String>,
    /// Only contacts whose consent for this purpose has this status.
    pub consent: Option<(String, ConsentState)>,
    /// The time expiry is judged at, Unix milliseconds.
    pub now: i64,
}

/// The order of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BookOrder {
    /// Newest first (descending pseudonym).
    #[default]
    NewestFirst,
    /// Oldest first (ascending pseudonym).
    OldestFirst,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookCursor {
    /// The page after this contact, in the page order ("next page").
    After(SubjectId),
    /// The page before this contact, in the page order ("previous page").
    Before(SubjectId),
}

/// A page of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookPage {
    /// The contacts, in the page order.
    pub rows: Vec<ExportContact>,
    /// Whether more contacts follow the last row (in the page order).
    pub has_next: bool,
    /// Whether more contacts precede the first row.
    pub has_previous: bool,
    /// How many contacts match the filter in all.
    pub total: u64,
}

/// A bound value.
enum Arg {
    Text(String),
    Int(i64),
}

/// A query's WHERE clause under construction, with its numbered placeholders.
struct Sql {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Sql {
    fn new() -> Sql {
        Sql {
            clauses: Vec::new(),
            args: Vec::new(),
        }
    }

    /// The placeholder of a new argument.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.arg(Arg::Text(s.to_owned()))
    }

    fn int(&mut self, v: i64) -> String {
        self.arg(Arg::Int(v))
    }

    fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(v) => q.bind(*v),
        };
    }
    q
}

/// A prefix's range `[lo, hi)` in byte order, or `None` if it cannot be a pseudonym's
/// prefix.
fn prefix_range(prefix: &str) -> Option<(String, String)> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 80
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    // `~` sorts after every character a pseudonym may hold.
    ok.then(|| (prefix.to_owned(), format!("{prefix}~")))
}

/// The condition on `s` (a `consent_status` row) that its stored row has `status`.
fn status_clause(sql: &mut Sql, alias: &str, status: ConsentState, now: i64) -> String {
    let stored = stored(status).unwrap_or("none");
    let st = sql.text(stored);
    match status {
        ConsentState::Granted => {
            let n = sql.int(now);
            format!(
                "{alias}.status = {st} AND ({alias}.valid_until IS NULL OR {alias}.valid_until > {n})"
            )
        }
        ConsentState::Expired => {
            let n = sql.int(now);
            format!("{alias}.status = {st} AND {alias}.valid_until <= {n}")
        }
        _ => format!("{alias}.status = {st}"),
    }
}

const PAGE_COLUMNS: &str = "c.id, c.category, c.attributes, c.created_at, \
    CAST(CASE WHEN c.wrapped_key IS NULL THEN 1 ELSE 0 END AS BIGINT)";

type PageTuple = (String, String, String, i64, i64);

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// How many of the tenant's contacts match `filter`.
    pub async fn book_count(
        &self,
        tenant: &TenantId,
        filter: &BookFilter,
    ) -> Result<u64, StoreError> {
        let searching = filter.ids.is_some() || filter.prefix.is_some();
        if !searching {
            // Index-only counts.
            return match &filter.consent {
                None => self.count_book(tenant).await,
                Some((purpose, ConsentState::None)) => {
                    let all = self.count_book(tenant).await?;
                    let with = self.count_purpose(tenant, purpose, None, 0).await?;
                    Ok(all.saturating_sub(with))
                }
                Some((purpose, status)) => {
                    self.count_purpose(tenant, purpose, Some(*status), filter.now)
                        .await
                }
            };
        }
        let mut sql = Sql::new();
        if !self.search_clauses(&mut sql, tenant, filter) {
            return Ok(0);
        }
        let text = format!("SELECT COUNT(*) FROM contacts c {}", sql.where_clause());
        let (n,): (i64,) = bind_all(sqlx::query_as(&text), &sql.args)
            .fetch_one(&self.pool)
            .await?;
        to_u64(n)
    }

    async fn count_book(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.pool)
            .await?;
        to_u64(n)
    }

    /// Status records of a purpose: all of them (`status` `None`), or those that read as
    /// `status`.
    async fn count_purpose(
        &self,
        tenant: &TenantId,
        purpose: &str,
        status: Option<ConsentState>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut sql = Sql::new();
        let t = sql.text(tenant.as_str());
        let p = sql.text(purpose);
        sql.and(format!("s.tenant_id = {t} AND s.purpose = {p}"));
        if let Some(status) = status {
            let c = status_clause(&mut sql, "s", status, now);
            sql.and(c);
        }
        let text = format!(
            "SELECT COUNT(*) FROM consent_status s {}",
            sql.where_clause()
        );
        let (n,): (i64,) = bind_all(sqlx::query_as(&text), &sql.args)
            .fetch_one(&self.pool)
            .await?;
        to_u64(n)
    }

    /// The tenant, pseudonym and prefix conditions on `c`; `false` if nothing can match.
    fn search_clauses(&self, sql: &mut Sql, tenant: &TenantId, filter: &BookFilter) -> bool {
        let t = sql.text(tenant.as_str());
        sql.and(format!("c.tenant_id = {t}"));
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                return false;
            }
            let ps: Vec<String> = ids.iter().take(100).map(|i| sql.text(i.as_str())).collect();
            sql.and(format!("c.id IN ({})", ps.join(", ")));
        }
        if let Some(prefix) = &filter.prefix {
            let Some((lo, _)) = prefix_range(prefix) else {
                return false;
            };
            // A lower bound for the index, and a prefix test that is right under any
            // collation (under a PostgreSQL locale collation `~` may sort before
            // letters, so an upper bound `prefix~` would cut matches off).
            let n = lo.len();
            let lo = sql.text(&lo);
            sql.and(format!("c.id >= {lo} AND substr(c.id, 1, {n}) = {lo}"));
        }
        if let Some((purpose, status)) = &filter.consent {
            let p = sql.text(purpose);
            let clause = match status {
                ConsentState::None => format!(
                    "NOT EXISTS (SELECT 1 FROM consent_status s WHERE s.tenant_id = c.tenant_id \
                     AND s.subject_id = c.id AND s.purpose = {p})"
                ),
                other => {
                    let st = status_clause(sql, "s", *other, filter.now);
                    format!(
                        "EXISTS (SELECT 1 FROM consent_status s WHERE s.tenant_id = c.tenant_id \
                         AND s.subject_id = c.id AND s.purpose = {p} AND {st})"
                    )
                }
            };
            sql.and(clause);
        }
        true
    }

    /// A page of the tenant's contacts matching `filter`, in `order`, from `cursor`, at
    /// most `limit` (1 to 1000) rows, with the number of matches.
    pub async fn book_page(
        &self,
        tenant: &TenantId,
        filter: &BookFilter,
        order: BookOrder,
        cursor: Option<&BookCursor>,
        limit: u32,
    ) -> Result<BookPage, StoreError> {
        let limit = limit.clamp(1, 1000);
        let total = self.book_count(tenant, filter).await?;
        if total == 0 {
            return Ok(BookPage {
                rows: Vec::new(),
                has_next: false,
                has_previous: matches!(cursor, Some(BookCursor::After(_))),
                total,
            });
        }
        // Reading backwards (a "previous" page) walks the other way, then flips.
        let backwards = matches!(cursor, Some(BookCursor::Before(_)));
        let descending = (order == BookOrder::NewestFirst) != backwards;
        let (dir, cmp) = if descending {
            ("DESC", "<")
        } else {
            ("ASC", ">")
        };
        let searching = filter.ids.is_some() || filter.prefix.is_some();
        let sparse = match &filter.consent {
            Some((_, ConsentState::None)) | None => false,
            Some(_) => !searching && total <= SPARSE_MAX,
        };
        let mut sql = Sql::new();
        let text = if sparse {
            // Few matches: their pseudonyms from the purpose index, sorted, and only the
            // page's rows joined.
            let Some((purpose, status)) = &filter.consent else {
                return Err(StoreError::Misuse(
                    "a sparse plan needs a consent filter".into(),
                ));
            };
            let t = sql.text(tenant.as_str());
            let p = sql.text(purpose);
            sql.and(format!("s.tenant_id = {t} AND s.purpose = {p}"));
            let st = status_clause(&mut sql, "s", *status, filter.now);
            sql.and(st);
            if let Some(BookCursor::After(id) | BookCursor::Before(id)) = cursor {
                let c = sql.text(id.as_str());
                sql.and(format!("s.subject_id {cmp} {c}"));
            }
            let l = sql.int(i64::from(limit) + 1);
            // SQLite's planner would rather walk the primary key in order than sort; with
            // few matches the purpose index is far cheaper (PostgreSQL's statistics see
            // that by themselves).
            let hint = match self.backend {
                crate::Backend::Sqlite => "INDEXED BY consent_status_by_purpose",
                crate::Backend::Postgres => "",
            };
            format!(
                "SELECT {PAGE_COLUMNS} FROM contacts c WHERE c.tenant_id = {t} AND c.id IN \
                 (SELECT s.subject_id FROM consent_status s {hint} {} \
                 ORDER BY s.subject_id {dir} LIMIT {l}) ORDER BY c.id {dir}",
                sql.where_clause()
            )
        } else {
            if !self.search_clauses(&mut sql, tenant, filter) {
                return Ok(BookPage {
                    rows: Vec::new(),
                    has_next: false,
                    has_previous: false,
                    total,
                });
            }
            if let Some(BookCursor::After(id) | BookCursor::Before(id)) = cursor {
                let c = sql.text(id.as_str());
                sql.and(format!("c.id {cmp} {c}"));
            }
            let l = sql.int(i64::from(limit) + 1);
            format!(
                "SELECT {PAGE_COLUMNS} FROM contacts c {} ORDER BY c.id {dir} LIMIT {l}",
                sql.where_clause()
            )
        };
        #[cfg(test)]
        if self.backend == crate::Backend::Sqlite && tests::PRINT_PLANS.get() {
            let plan: Vec<(i64, i64, i64, String)> = bind_all(
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {text}")),
                &sql.args,
            )
            .fetch_all(&self.pool)
            .await?;
            println!(
                "  plan: {:?}",
                plan.iter().map(|p| p.3.as_str()).collect::<Vec<_>>()
            );
        }
        let fetched: Vec<PageTuple> = bind_all(sqlx::query_as(&text), &sql.args)
            .fetch_all(&self.pool)
            .await?;
        let more = fetched.len() > limit as usize;
        let mut rows = fetched
            .into_iter()
            .take(limit as usize)
            .map(|(id, category, attributes, created_at, erased)| {
                Ok(ExportContact {
                    id: SubjectId::parse(&id).map_err(corrupt)?,
                    category: RecipientCategory::from_book(&category),
                    attributes,
                    created_at,
                    erased: erased != 0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let (has_next, has_previous) = match cursor {
            None => (more, false),
            Some(BookCursor::After(_)) => (more, true),
            Some(BookCursor::Before(_)) => {
                rows.reverse();
                (true, more)
            }
        };
        Ok(BookPage {
            rows,
            has_next,
            has_previous,
            total,
        })
    }

    /// Replaces a contact's category and non-identifying attributes (JSON object text).
    /// Returns `false` (nothing changed) if the tenant has no such contact or it was
    /// erased.
    pub async fn update_contact_profile(
        &self,
        tenant: &TenantId,
        id: &SubjectId,
        category: RecipientCategory,
        attributes: &str,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE contacts SET category = $1, attributes = $2 \
             WHERE tenant_id = $3 AND id = $4 AND wrapped_key IS NOT NULL",
        )
        .bind(category.as_str())
        .bind(attributes)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts many contacts in **one transaction**, each as
    /// [`Store::insert_contact_keyed`] does (under the database's current master key
    /// version, refused if the book has its address under any version): either every
    /// row is stored or reported as a duplicate, or nothing is written. The answers come
    /// in the rows' order.
    ///
    /// On SQLite the transaction holds the database's write lock throughout (other
    /// writers wait): a large batch is seconds of waiting for them.
    ///
    /// # Errors
    ///
    /// [`StoreError::Keyring`] if the current version is not among a row's forms.
    pub async fn insert_contacts_atomic(
        &self,
        rows: &[(NewContact, Vec<KeyedForm>)],
    ) -> Result<Vec<KeyedInsert>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        if rows.is_empty() {
            return Ok(out);
        }
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for (c, forms) in rows {
            if forms.is_empty() {
                return Err(StoreError::Misuse(
                    "a contact needs at least one keyed form".into(),
                ));
            }
            let sql = keyed_insert_sql(self.backend, forms.len());
            let inserted: Option<(i64,)> = bind_keyed_insert(sqlx::query_as(&sql), c, forms)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some((v,)) = inserted {
                let v = u32::try_from(v).map_err(corrupt)?;
                out.push(KeyedInsert::Inserted(v));
                continue;
            }
            let placeholders: Vec<String> =
                (0..forms.len()).map(|i| format!("${}", i + 2)).collect();
            let find = format!(
                "SELECT id FROM contacts WHERE tenant_id = $1 AND email_index IN ({}) ORDER BY id LIMIT 1",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String,)>(&find).bind(c.tenant.as_str());
            for f in forms {
                q = q.bind(f.email_index.to_vec());
            }
            match q.fetch_optional(&mut *tx).await? {
                Some((id,)) => {
                    out.push(KeyedInsert::Duplicate(
                        SubjectId::parse(&id).map_err(corrupt)?,
                    ));
                }
                None => {
                    // No current version among the forms: this process must reload its
                    // keys. Nothing of the batch is kept.
                    tx.rollback().await?;
                    let held: Vec<u32> = forms.iter().map(|f| f.version).collect();
                    return Err(StoreError::Keyring(format!(
                        "the current master key is not among the versions this process holds ({held:?}): reload the keys"
                    )));
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[cfg(test)]
// The 100k test measures wall-clock time on purpose.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use std::time::Instant;

    thread_local! {
        /// Print SQLite's query plan of the page queries of this thread.
        pub(super) static PRINT_PLANS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    fn sid(n: u64) -> SubjectId {
        // Time-ordered like real pseudonyms: 12 hex digits of "time", then a tag.
        SubjectId::from_suffix(&format!("{:012x}{:020x}", 1_700_000_000_000 + n, n)).unwrap()
    }

    /// Inserts contacts 0..n (raw rows, no vault: this is about the queries), and a
    /// consent status for purpose `news` on some of them: every 10th granted (every
    /// 30th of those expired), every 7th refused, and `rare` on every 5000th.
    async fn bulk(store: &Store, tenant: &TenantId, n: u64) {
        let mut tx = store.pool.begin().await.unwrap();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut values = Vec::new();
            for i in chunk {
                let blob = |hex: String| match store.backend {
                    crate::Backend::Sqlite => format!("X'{hex}'"),
                    crate::Backend::Postgres => format!("'\\x{hex}'::bytea"),
                };
                values.push(format!(
                    "('{}', '{}', {}, {}, {}, 'c', 'unspecified', '{{}}', {}, 1)",
                    sid(*i),
                    tenant,
                    blob(format!("{i:064x}")),
                    blob("00".into()),
                    blob("00".into()),
                    1_700_000_000_000 + i
                ));
            }
            sqlx::query(&format!(
                "INSERT INTO contacts (id, tenant_id, email_index, wrapped_key, identity, \
                 address_commitment, category, attributes, created_at, key_version) VALUES {}",
                values.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
            let mut status = Vec::new();
            for i in chunk {
                let (purpose, st, until) = if i.is_multiple_of(10) {
                    (
                        "news",
                        "granted",
                        if i.is_multiple_of(30) { "5" } else { "NULL" },
                    )
                } else if i.is_multiple_of(7) {
                    ("news", "refused", "NULL")
                } else {
                    continue;
                };
                status.push(format!(
                    "('{tenant}', '{}', '{purpose}', '{st}', 1, {until})",
                    sid(*i)
                ));
                if i.is_multiple_of(5000) {
                    status.push(format!(
                        "('{tenant}', '{}', 'rare', 'pending', 1, NULL)",
                        sid(*i)
                    ));
                }
            }
            if !status.is_empty() {
                sqlx::query(&format!(
                    "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, updated_at, valid_until) VALUES {}",
                    status.join(", ")
                ))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        tx.commit().await.unwrap();
    }

    fn ids(p: &BookPage) -> Vec<SubjectId> {
        p.rows.iter().map(|r| r.id.clone()).collect()
    }

    #[tokio::test]
    async fn pages_filters_and_counts_agree_with_a_plain_scan() {
        let (_dir, store) = open().await;
        let t = TenantId::parse("ten_a").unwrap();
        store.create_tenant(&t, "A", 1).await.unwrap();
        let other = TenantId::parse("ten_b").unwrap();
        store.create_tenant(&other, "B", 1).await.unwrap();
        bulk(&store, &t, 1000).await;
        let now = 10;
        let all = BookFilter {
            now,
            ..BookFilter::default()
        };
        // Newest first, walked forwards to the end and back again.
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = Vec::new();
        loop {
            let p = store
                .book_page(&t, &all, BookOrder::NewestFirst, cursor.as_ref(), 300)
                .await
                .unwrap();
            assert_eq!(p.total, 1000);
            assert_eq!(p.has_previous, cursor.is_some());
            seen.extend(ids(&p));
            pages.push(ids(&p));
            if !p.has_next {
                break;
            }
            cursor = Some(BookCursor::After(p.rows.last().unwrap().id.clone()));
        }
        let expected: Vec<SubjectId> = (0..1000).rev().map(sid).collect();
        assert_eq!(seen, expected);
        assert_eq!(pages.len(), 4);
        let back = store
            .book_page(
                &t,
                &all,
                BookOrder::NewestFirst,
                Some(&BookCursor::Before(pages[2][0].clone())),
                300,
            )
            .await
            .unwrap();
        assert_eq!(ids(&back), pages[1]);
        assert!(back.has_previous && back.has_next);
        let first = store
            .book_page(
                &t,
                &all,
                BookOrder::NewestFirst,
                Some(&BookCursor::Before(pages[1][0].clone())),
                300,
            )
            .await
            .unwrap();
        assert_eq!(ids(&first), pages[0]);
        assert!(!first.has_previous);
        // Oldest first.
        let p = store
            .book_page(&t, &all, BookOrder::OldestFirst, None, 3)
            .await
            .unwrap();
        assert_eq!(ids(&p), vec![sid(0), sid(1), sid(2)]);
        // Consent filters, dense and sparse, against a plain computation.
        for (purpose, status, want) in [
            (
                "news",
                ConsentState::Granted,
                (0..1000u64)
                    .filter(|i| i.is_multiple_of(10) && !i.is_multiple_of(30))
                    .count(),
            ),
            (
                "news",
                ConsentState::Expired,
                (0..1000u64).filter(|i| i.is_multiple_of(30)).count(),
            ),
            (
                "news",
                ConsentState::Refused,
                (0..1000u64)
                    .filter(|i| !i.is_multiple_of(10) && i.is_multiple_of(7))
                    .count(),
            ),
            (
                "news",
                ConsentState::None,
                (0..1000u64)
                    .filter(|i| !i.is_multiple_of(10) && !i.is_multiple_of(7))
                    .count(),
            ),
            ("news", ConsentState::Pending, 0),
            ("rare", ConsentState::Pending, 1),
            ("rare", ConsentState::None, 999),
        ] {
            let f = BookFilter {
                consent: Some((purpose.to_owned(), status)),
                now,
                ..BookFilter::default()
            };
            let mut got = Vec::new();
            let mut cursor = None;
            loop {
                let p = store
                    .book_page(&t, &f, BookOrder::OldestFirst, cursor.as_ref(), 7)
                    .await
                    .unwrap();
                assert_eq!(p.total, want as u64, "{purpose} {status:?}");
                got.extend(ids(&p));
                if !p.has_next {
                    break;
                }
                cursor = Some(BookCursor::After(p.rows.last().unwrap().id.clone()));
            }
            assert_eq!(got.len(), want, "{purpose} {status:?}");
            assert!(got.windows(2).all(|w| w[0] < w[1]));
        }
        // Searches: exact IDs, prefixes, with and without a filter; other tenants never.
        let f = BookFilter {
            ids: Some(vec![sid(10), sid(11)]),
            now,
            ..BookFilter::default()
        };
        let p = store
            .book_page(&t, &f, BookOrder::NewestFirst, None, 50)
            .await
            .unwrap();
        assert_eq!((ids(&p), p.total), (vec![sid(11), sid(10)], 2));
        assert_eq!(store.book_count(&other, &f).await.unwrap(), 0);
        let f = BookFilter {
            ids: Some(vec![sid(10), sid(11)]),
            consent: Some(("news".into(), ConsentState::Granted)),
            now,
            ..BookFilter::default()
        };
        assert_eq!(store.book_count(&t, &f).await.unwrap(), 1);
        let prefix = sid(999).as_str()[..14].to_owned();
        let f = BookFilter {
            prefix: Some(prefix.clone()),
            now,
            ..BookFilter::default()
        };
        let n = (0..1000u64)
            .filter(|i| sid(*i).as_str().starts_with(&prefix))
            .count();
        assert_eq!(store.book_count(&t, &f).await.unwrap(), n as u64);
        for bad in ["sub_%", "SUB_", ""] {
            let f = BookFilter {
                prefix: Some(bad.into()),
                now,
                ..BookFilter::default()
            };
            assert_eq!(store.book_count(&t, &f).await.unwrap(), 0, "{bad}");
        }
    }

    #[tokio::test]
    async fn profiles_change_only_on_live_contacts_of_the_tenant() {
        let (_dir, store) = open().await;
        let t = TenantId::parse("ten_a").unwrap();
        store.create_tenant(&t, "A", 1).await.unwrap();
        bulk(&store, &t, 2).await;
        assert!(
            store
                .update_contact_profile(&t, &sid(1), RecipientCategory::Private, "{\"a\":\"b\"}")
                .await
                .unwrap()
        );
        let c = store.contact(&t, &sid(1)).await.unwrap().unwrap();
        assert_eq!(
            (c.category.as_str(), c.attributes.as_str()),
            ("private", "{\"a\":\"b\"}")
        );
        let other = TenantId::parse("ten_b").unwrap();
        assert!(
            !store
                .update_contact_profile(&other, &sid(1), RecipientCategory::Private, "{}")
                .await
                .unwrap()
        );
        sqlx::query("UPDATE contacts SET wrapped_key = NULL WHERE id = $1")
            .bind(sid(0).as_str())
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(
            !store
                .update_contact_profile(&t, &sid(0), RecipientCategory::Private, "{}")
                .await
                .unwrap()
        );
    }

    fn new_contact(t: &TenantId, n: u64, index: u64) -> (NewContact, Vec<KeyedForm>) {
        let mut ix = [0u8; 32];
        ix[..8].copy_from_slice(&index.to_be_bytes());
        (
            NewContact {
                id: sid(n),
                tenant: t.clone(),
                email_index: ix,
                wrapped_key: vec![1],
                identity: vec![2],
                address_commitment: "c".into(),
                category: RecipientCategory::Unspecified,
                attributes: "{}".into(),
                created_at: 1,
            },
            vec![KeyedForm {
                version: 1,
                email_index: ix,
                wrapped_key: vec![1],
            }],
        )
    }

    #[tokio::test]
    async fn an_atomic_import_stores_all_or_nothing() {
        let (_dir, store) = open().await;
        store.adopt_vault_key(&[7; 32], 1).await.unwrap();
        let t = TenantId::parse("ten_a").unwrap();
        store.create_tenant(&t, "A", 1).await.unwrap();
        let all = BookFilter::default();
        let first = store
            .insert_contacts_atomic(&[new_contact(&t, 1, 1), new_contact(&t, 2, 2)])
            .await
            .unwrap();
        assert_eq!(
            first,
            vec![KeyedInsert::Inserted(1), KeyedInsert::Inserted(1)]
        );
        // An address already in the book is reported, not stored again.
        let again = store
            .insert_contacts_atomic(&[new_contact(&t, 3, 2), new_contact(&t, 4, 4)])
            .await
            .unwrap();
        assert_eq!(
            again,
            vec![KeyedInsert::Duplicate(sid(2)), KeyedInsert::Inserted(1)]
        );
        assert_eq!(store.book_count(&t, &all).await.unwrap(), 3);
        // A failure part way (a pseudonym taken: the primary key) keeps nothing.
        let err = store
            .insert_contacts_atomic(&[new_contact(&t, 5, 5), new_contact(&t, 1, 6)])
            .await;
        assert!(err.is_err());
        assert_eq!(store.book_count(&t, &all).await.unwrap(), 3);
        // A key version the database does not hold as current keeps nothing either.
        let mut wrong = new_contact(&t, 7, 7);
        wrong.1[0].version = 9;
        let err = store
            .insert_contacts_atomic(&[new_contact(&t, 6, 8), wrong])
            .await;
        assert!(matches!(err, Err(StoreError::Keyring(_))), "{err:?}");
        assert_eq!(store.book_count(&t, &all).await.unwrap(), 3);
    }

    /// 100,000 contacts: the page and count queries of every plan, timed. The figures are
    /// printed (`--nocapture`), not asserted: machines differ.
    #[tokio::test]
    async fn a_book_of_100k_contacts_pages_and_counts_in_milliseconds() {
        let (_dir, store) = open().await;
        hundred_thousand(&store, "SQLite").await;
    }

    /// The same on PostgreSQL (at `CONSENTRY_TEST_DATABASE_URL`, in a schema of its own;
    /// a missing server fails the test).
    #[tokio::test]
    async fn a_book_of_100k_contacts_on_postgresql() {
        let base = std::env::var("CONSENTRY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("t_{:016x}", rand::random::<u64>());
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&base).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let store = Store::open(&format!("{base}{sep}options=-c%20search_path%3D{schema}"))
            .await
            .unwrap();
        hundred_thousand(&store, "PostgreSQL").await;
        store.close().await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
    }

    async fn hundred_thousand(store: &Store, backend: &str) {
        let t = TenantId::parse("ten_big").unwrap();
        store.create_tenant(&t, "Big", 1).await.unwrap();
        let started = Instant::now();
        bulk(store, &t, 100_000).await;
        if store.backend == crate::Backend::Postgres {
            sqlx::query("ANALYZE").execute(&store.pool).await.unwrap();
        }
        println!(
            "{backend}: bulk insert of 100,000 contacts in {:?}",
            started.elapsed()
        );
        let now = 10;
        let f = |consent: Option<(&str, ConsentState)>| BookFilter {
            consent: consent.map(|(p, s)| (p.to_owned(), s)),
            now,
            ..BookFilter::default()
        };
        let mid = Some(BookCursor::After(sid(50_000)));
        let cases: Vec<(&str, BookFilter, Option<BookCursor>)> = vec![
            ("all, first page", f(None), None),
            ("all, middle page", f(None), mid.clone()),
            (
                "news granted (6,666: dense)",
                f(Some(("news", ConsentState::Granted))),
                mid.clone(),
            ),
            (
                "news expired (3,334: sparse)",
                f(Some(("news", ConsentState::Expired))),
                mid.clone(),
            ),
            (
                "news none (77,143: dense)",
                f(Some(("news", ConsentState::None))),
                mid.clone(),
            ),
            (
                "rare pending (20: sparse)",
                f(Some(("rare", ConsentState::Pending))),
                None,
            ),
            (
                "pseudonym prefix",
                BookFilter {
                    prefix: Some(sid(77_777).as_str()[..15].to_owned()),
                    now,
                    ..BookFilter::default()
                },
                None,
            ),
        ];
        for (what, filter, cursor) in cases {
            println!("{backend}, 100k book, {what}:");
            // Once to warm the caches (and show the plan), then timed.
            PRINT_PLANS.set(true);
            let warm = store
                .book_page(&t, &filter, BookOrder::NewestFirst, cursor.as_ref(), 50)
                .await
                .unwrap();
            PRINT_PLANS.set(false);
            let mut counts = Vec::new();
            let mut pages = Vec::new();
            let mut page = warm.clone();
            for _ in 0..5 {
                let started = Instant::now();
                let count = store.book_count(&t, &filter).await.unwrap();
                counts.push(started.elapsed());
                let started = Instant::now();
                page = store
                    .book_page(&t, &filter, BookOrder::NewestFirst, cursor.as_ref(), 50)
                    .await
                    .unwrap();
                pages.push(started.elapsed());
                assert_eq!(page.total, count);
            }
            assert_eq!(page, warm);
            counts.sort();
            pages.sort();
            println!(
                "  count {} in {:?} (median of 5); page of {} rows, count included, in {:?}",
                page.total,
                counts[2],
                page.rows.len(),
                pages[2]
            );
            // The page is the right one: the newest matches below the cursor.
            let below = match &cursor {
                Some(BookCursor::After(id)) => id.clone(),
                _ => sid(100_000),
            };
            let news = |i: u64| {
                if i.is_multiple_of(10) {
                    if i.is_multiple_of(30) {
                        "expired"
                    } else {
                        "granted"
                    }
                } else if i.is_multiple_of(7) {
                    "refused"
                } else {
                    "none"
                }
            };
            let want: Vec<SubjectId> = (0..100_000u64)
                .rev()
                .filter(|i| sid(*i) < below)
                .filter(|i| match &filter.consent {
                    None => true,
                    Some((p, st)) if p == "news" => news(*i) == st.as_str(),
                    Some(_) => {
                        i.is_multiple_of(5000) && (i.is_multiple_of(10) || i.is_multiple_of(7))
                    }
                })
                .filter(|i| {
                    filter
                        .prefix
                        .as_ref()
                        .is_none_or(|p| sid(*i).as_str().starts_with(p.as_str()))
                })
                .take(50)
                .map(sid)
                .collect();
            assert_eq!(
                page.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
                want
            );
        }
    }
}
