//! One story run against every backend: SQLite in a temporary file and PostgreSQL at
//! `CONSENTRY_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`), each
//! test in a schema of its own. A missing PostgreSQL fails the tests; it is never skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::consent::RequestStatus;
use consentry_core::event::ConsentState;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::merkle::{Hash, MemoryLog, leaf_hash, verify_consistency, verify_inclusion};
use consentry_core::proof::Decision;
use consentry_store::{
    Amendment, ContactInsert, EntryRows, EventEffect, NewContact, NewEntry, ProofRow, StatusRow,
    Store, StoreError, TxAsk,
};
use rand::Rng as _;
use std::collections::BTreeSet;

fn pg_url() -> String {
    std::env::var("CONSENTRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL schema, and the URL that puts it first on the search path.
async fn pg_store() -> (Store, String) {
    let url = pg_schema_url().await;
    (Store::open(&url).await.unwrap(), url)
}

/// The URL of a fresh, empty PostgreSQL schema.
async fn pg_schema_url() -> String {
    let base = pg_url();
    let schema = format!("t_{:016x}", rand::thread_rng().r#gen::<u64>());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for the tests: {e}"));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

async fn sqlite_store(dir: &tempfile::TempDir) -> (Store, String) {
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    (Store::open(&url).await.unwrap(), url)
}

/// A tenant that holds nothing.
fn other_tenant_probe() -> TenantId {
    TenantId::parse("ten_probe").unwrap()
}

/// Gives an event entry what it does to the vault record.
fn with_effect(entry: &mut NewEntry, what: EventEffect) {
    if let EntryRows::Event { effect, .. } = &mut entry.rows {
        *effect = Some(what);
    }
}

fn entry(tenant: &TenantId, n: u64, tag: &str) -> NewEntry {
    let subject = SubjectId::from_suffix(&format!("s{}", n % 7)).unwrap();
    let id = ProofId::from_suffix(&format!("{tag}{n}")).unwrap();
    let bytes = format!("{{\"n\":{n},\"tag\":\"{tag}\"}}").into_bytes();
    NewEntry {
        leaf: leaf_hash(&bytes),
        entry: bytes,
        rows: EntryRows::Proof {
            proof: ProofRow {
                id: id.clone(),
                tenant: tenant.clone(),
                subject: subject.clone(),
                purpose: "newsletter".into(),
                decision: Decision::Granted,
                recorded_at: 1,
            },
            status: StatusRow {
                tenant: tenant.clone(),
                subject,
                purpose: "newsletter".into(),
                status: if n.is_multiple_of(2) {
                    ConsentState::Granted
                } else {
                    ConsentState::Refused
                },
                proof_id: Some(id),
                log_index: None,
                updated_at: 1,
                valid_until: None,
            },
            answer: None,
        },
    }
}

async fn story(store: Store) {
    let tenant = TenantId::parse("ten_acme").unwrap();
    store.create_tenant(&tenant, "ACME", 1).await.unwrap();
    store
        .add_api_key(&tenant, "key_1", &[7; 32], 1)
        .await
        .unwrap();
    let k = store.api_key(&[7; 32]).await.unwrap().unwrap();
    assert_eq!(k.tenant.id, tenant);
    assert!(store.api_key(&[8; 32]).await.unwrap().is_none());

    let c = NewContact {
        id: SubjectId::parse("sub_a").unwrap(),
        tenant: tenant.clone(),
        email_index: [1; 32],
        wrapped_key: vec![1, 2, 3],
        identity: vec![4, 5, 6],
        address_commitment: "ab".into(),
        category: consentry_core::proof::RecipientCategory::Private,
        attributes: "{}".into(),
        created_at: 5,
    };
    assert_eq!(
        store.insert_contact(&c).await.unwrap(),
        ContactInsert::Inserted
    );
    let dup = NewContact {
        id: SubjectId::parse("sub_b").unwrap(),
        ..c.clone()
    };
    assert_eq!(
        store.insert_contact(&dup).await.unwrap(),
        ContactInsert::Duplicate(c.id.clone())
    );
    let other = TenantId::parse("ten_other").unwrap();
    store.create_tenant(&other, "Other", 1).await.unwrap();
    assert!(
        store.contact(&other, &c.id).await.unwrap().is_none(),
        "tenants are isolated"
    );
    assert_eq!(
        store
            .contact(&tenant, &c.id)
            .await
            .unwrap()
            .unwrap()
            .identity,
        Some(vec![4, 5, 6])
    );

    // Batches across a tile boundary; the store's tiles give the same roots and proofs
    // as an in-memory log.
    let mut mem = MemoryLog::new();
    let mut n = 0u64;
    for batch in [1u64, 5, 250, 3, 300] {
        let entries: Vec<NewEntry> = (n..n + batch).map(|i| entry(&tenant, i, "p")).collect();
        for e in &entries {
            mem.append(e.leaf);
        }
        let out = store
            .append_reading(TxAsk::default(), |first, _| {
                assert_eq!(first, n);
                Ok((entries, ()))
            })
            .await
            .unwrap();
        n += batch;
        assert_eq!(out.size, n);
        assert_eq!(out.root, mem.root(n).unwrap());
    }
    assert_eq!(store.log_head().await.unwrap(), (n, mem.root(n).unwrap()));

    // Each subject's proofs, found through the per-purpose chains (several links inside
    // one batch, and across batches), are exactly its own, oldest first.
    for k in 0..7u64 {
        let subject = SubjectId::from_suffix(&format!("s{k}")).unwrap();
        let found: Vec<(String, u64)> = store
            .subject_proofs(&tenant, &subject)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.id.as_str().to_owned(), p.log_index))
            .collect();
        let expected: Vec<(String, u64)> = (0..n)
            .filter(|i| i % 7 == k)
            .map(|i| {
                (
                    ProofId::from_suffix(&format!("p{i}"))
                        .unwrap()
                        .as_str()
                        .to_owned(),
                    i,
                )
            })
            .collect();
        assert_eq!(found, expected, "proofs of {subject}");
        assert!(
            store
                .subject_proofs(&other_tenant_probe(), &subject)
                .await
                .unwrap()
                .is_empty(),
            "another tenant sees none of them"
        );
    }
    for (index, size) in [(0, n), (300, n), (n - 1, n), (3, 7), (256, 257)] {
        let (root, path, leaf) = store.inclusion(index, size).await.unwrap().unwrap();
        assert_eq!(leaf, mem.leaf(index).unwrap());
        verify_inclusion(index, size, &leaf, &path, &root).unwrap();
        assert_eq!(path, mem.inclusion_proof(index, size).unwrap());
    }
    assert!(
        store.inclusion(0, n + 1).await.unwrap().is_err(),
        "sizes beyond the log are refused"
    );
    let (old_root, new_root, proof) = store.consistency(6, n).await.unwrap().unwrap();
    verify_consistency(6, n, &old_root, &new_root, &proof).unwrap();

    // A failing builder writes nothing.
    let err = store
        .append_reading(TxAsk::default(), |_, _| {
            Err::<(Vec<NewEntry>, ()), _>("nope".into())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Build(_)));
    assert_eq!(store.log_head().await.unwrap().0, n);

    // Statuses: the last entry per subject wins.
    let statuses = store
        .statuses(&tenant, &[SubjectId::parse("sub_s0").unwrap()])
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1);
    let (idx, entry_bytes) = store
        .proof(&tenant, statuses[0].proof_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(idx), statuses[0].log_index);
    assert_eq!(leaf_hash(&entry_bytes), mem.leaf(idx).unwrap());
    assert!(
        store
            .proof(&other, statuses[0].proof_id.as_ref().unwrap())
            .await
            .unwrap()
            .is_none()
    );

    store
        .save_checkpoint(n, &mem.root(n).unwrap(), "note", 9)
        .await
        .unwrap();
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some((n, "note".into()))
    );
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    story(sqlite_store(&dir).await.0).await;
}

#[tokio::test]
async fn postgres_story() {
    story(pg_store().await.0).await;
}

/// An SQLite database written before its migration 0010 (proofs found by a subject
/// index) is migrated to proof chains: every subject's proofs are still found, in order. (Appends
/// after it extend the chains from the same heads: the story above.)
async fn proof_chains_are_backfilled(url: &str) {
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    sqlx::any::install_default_drivers();
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 10)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    // Two subjects, two purposes, interleaved; the status row of each triple names its
    // latest proof, as the append always left it.
    let triples = [
        ("a", "news"),
        ("b", "news"),
        ("a", "ads"),
        ("a", "news"),
        ("b", "news"),
        ("a", "news"),
    ];
    for (i, (subject, purpose)) in triples.iter().enumerate() {
        sqlx::query(
            "INSERT INTO proofs (id, tenant_id, subject_id, purpose, decision, log_index, recorded_at) \
             VALUES ($1, 'ten_acme', $2, $3, 'granted', $4, 1)",
        )
        .bind(format!("prf_m{i}"))
        .bind(format!("sub_{subject}"))
        .bind(*purpose)
        .bind(i as i64)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, proof_id, log_index, updated_at) \
             VALUES ('ten_acme', $1, $2, 'granted', $3, $4, 1) \
             ON CONFLICT (tenant_id, subject_id, purpose) DO UPDATE SET proof_id = excluded.proof_id, \
             log_index = excluded.log_index",
        )
        .bind(format!("sub_{subject}"))
        .bind(*purpose)
        .bind(format!("prf_m{i}"))
        .bind(i as i64)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = Store::open(url).await.unwrap();
    let tenant = TenantId::parse("ten_acme").unwrap();
    let indices = |subject: &'static str| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            store
                .subject_proofs(
                    &tenant,
                    &SubjectId::parse(&format!("sub_{subject}")).unwrap(),
                )
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.log_index)
                .collect::<Vec<u64>>()
        }
    };
    assert_eq!(indices("a").await, vec![0, 2, 3, 5]);
    assert_eq!(indices("b").await, vec![1, 4]);
}

#[tokio::test]
async fn sqlite_proof_chains_are_backfilled() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    proof_chains_are_backfilled(&url).await;
}

/// Two handles on one database, as two `consentry serve` processes are: appends
/// interleave, and indices stay unique and gap-free.
async fn concurrent_appends(a: Store, b: Store) {
    let tenant = TenantId::parse("ten_acme").unwrap();
    a.create_tenant(&tenant, "ACME", 1).await.unwrap();
    let mut tasks = Vec::new();
    for (w, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for round in 0..25u64 {
                let tag = format!("w{w}r{round}x");
                let batch = |first: u64| (0..4).map(|i| entry(&tenant, first + i, &tag)).collect();
                // Two stores on one file, two writers each: their append connections
                // interleave.
                let out = store
                    .append_reading(TxAsk::default(), |first, _| Ok((batch(first), ())))
                    .await
                    .unwrap();
                mine.push(out.first_index);
            }
            mine
        }));
    }
    let mut firsts = Vec::new();
    for t in tasks {
        firsts.extend(t.await.unwrap());
    }
    firsts.sort();
    let expected: Vec<u64> = (0..100).map(|i| i * 4).collect();
    assert_eq!(firsts, expected, "batches tile the index space exactly");
    let (size, root) = a.log_head().await.unwrap();
    assert_eq!(size, 400);
    let mut mem = MemoryLog::new();
    for i in 0..size {
        mem.append(leaf_hash(&a.entry(i).await.unwrap().unwrap()));
    }
    assert_eq!(
        mem.root(size).unwrap(),
        root,
        "the tiles agree with the entries"
    );
    let ids: BTreeSet<Hash> = (0..size).map(|i| mem.leaf(i).unwrap()).collect();
    assert_eq!(ids.len(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_handles_keep_indices_gap_free() {
    let (a, url) = pg_store().await;
    let b = Store::open(&url).await.unwrap();
    concurrent_appends(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_handles_keep_indices_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let (a, url) = sqlite_store(&dir).await;
    let b = Store::open(&url).await.unwrap();
    concurrent_appends(a, b).await;
}

/// Two handles (two processes) asking the same contacts for the same purpose at the same
/// moment ask each contact once: the pending check is made in the inserting transaction
/// under the contact's row lock.
async fn concurrent_bulk_requests(a: Store, b: Store) {
    use consentry_store::NewRequest;
    let tenant = TenantId::parse("ten_acme").unwrap();
    a.create_tenant(&tenant, "ACME", 1).await.unwrap();
    let subjects: Vec<SubjectId> = (0..40)
        .map(|i| SubjectId::from_suffix(&format!("c{i:02}")).unwrap())
        .collect();
    for (i, s) in subjects.iter().enumerate() {
        let c = NewContact {
            id: s.clone(),
            tenant: tenant.clone(),
            email_index: [i as u8; 32],
            wrapped_key: vec![1],
            identity: vec![2],
            address_commitment: "ab".into(),
            category: consentry_core::proof::RecipientCategory::Private,
            attributes: "{}".into(),
            created_at: 5,
        };
        assert_eq!(a.insert_contact(&c).await.unwrap(), ContactInsert::Inserted);
    }
    let batch = |tag: &'static str, reversed: bool| {
        let mut v: Vec<NewRequest> = subjects
            .iter()
            .enumerate()
            .map(|(i, s)| NewRequest {
                id: consentry_core::ids::RequestId::from_suffix(&format!("{tag}{i:02}")).unwrap(),
                tenant: tenant.clone(),
                subject: s.clone(),
                purpose: "newsletter".into(),
                token_hash: {
                    let mut h = [0u8; 32];
                    h[0] = tag.as_bytes()[0];
                    h[1] = i as u8;
                    h
                },
                notice_text: "notice".into(),
                notice_sha256: "00".repeat(32),
                notice_version: None,
                notice_url: None,
                language: "fr".into(),
                valid_days: None,
                created_at: 1000,
                expires_at: 1000 + 86_400_000,
            })
            .collect();
        if reversed {
            v.reverse();
        }
        v
    };
    let (x, y) = (batch("x", false), batch("y", true));
    let (sx, sy) = tokio::join!(
        a.insert_requests_unless_pending(&x, 1000),
        b.insert_requests_unless_pending(&y, 1000)
    );
    let (sx, sy) = (sx.unwrap(), sy.unwrap());
    assert_eq!(
        sx.len() + sy.len(),
        40,
        "each contact left out once: {sx:?} {sy:?}"
    );
    for s in &subjects {
        let reqs = a.subject_requests(&tenant, s).await.unwrap();
        assert_eq!(reqs.len(), 1, "{s}: {reqs:?}");
    }
    // Asked again later: nobody is asked twice, and another purpose is not affected.
    let again = a
        .insert_requests_unless_pending(&batch("z", false), 2000)
        .await
        .unwrap();
    assert_eq!(again.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_bulk_requests_ask_each_contact_once() {
    let (a, url) = pg_store().await;
    let b = Store::open(&url).await.unwrap();
    concurrent_bulk_requests(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_bulk_requests_ask_each_contact_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, url) = sqlite_store(&dir).await;
    let b = Store::open(&url).await.unwrap();
    concurrent_bulk_requests(a, b).await;
}

/// Requests: pending in the book, answered once by link, expired when the window closes
/// (and then not answerable), with `now` passed in so the window is tested exactly.
async fn requests_story(store: Store) {
    use consentry_store::{NewRequest, RequestAnswer};
    let tenant = TenantId::parse("ten_acme").unwrap();
    store.create_tenant(&tenant, "ACME", 1).await.unwrap();
    let day = 86_400_000i64;
    let mk = |n: u8, subject: &str| NewRequest {
        id: consentry_core::ids::RequestId::from_suffix(&format!("r{n}")).unwrap(),
        tenant: tenant.clone(),
        subject: SubjectId::parse(subject).unwrap(),
        purpose: "newsletter".into(),
        token_hash: [n; 32],
        notice_text: "notice".into(),
        notice_sha256: "00".repeat(32),
        notice_version: None,
        notice_url: None,
        language: "fr".into(),
        valid_days: None,
        created_at: 1000,
        expires_at: 1000 + 15 * day,
    };
    store
        .insert_requests(&[mk(1, "sub_a"), mk(2, "sub_b")])
        .await
        .unwrap();
    let st = store
        .statuses(&tenant, &[SubjectId::parse("sub_a").unwrap()])
        .await
        .unwrap();
    assert_eq!(st[0].status, ConsentState::Pending);
    assert_eq!(store.due_mail(1000, 10).await.unwrap().len(), 2);
    // The mail workers' per-tenant lanes: which tenants have mail due, then each one's.
    assert_eq!(
        store.tenants_with_due_mail(1000, 10).await.unwrap(),
        vec![tenant.clone()]
    );
    assert!(
        store
            .tenants_with_due_mail(999, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.due_mail_of(&tenant, 1000, 10).await.unwrap().len(), 2);
    assert_eq!(store.due_mail_of(&tenant, 1000, 1).await.unwrap().len(), 1);
    assert!(
        store
            .due_mail_of(&other_tenant_probe(), 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The append reads each request asked for under the log lock (the ledger decides an
    // answer on it), and an entry answering r1 closes it and queues the webhook event in
    // its own transaction.
    store
        .set_webhook(&tenant, "https://hooks.example/c", 1500)
        .await
        .unwrap();
    let r1 = mk(1, "sub_a").id;
    let unknown = consentry_core::ids::RequestId::parse("req_unknown").unwrap();
    let answered = |first: u64, status: &str, at: i64| {
        let mut e = entry(&tenant, first, "ans");
        if let EntryRows::Proof {
            proof,
            status: st,
            answer,
        } = &mut e.rows
        {
            proof.subject = SubjectId::parse("sub_a").unwrap();
            st.subject = proof.subject.clone();
            st.status = ConsentState::parse(status).unwrap();
            *answer = Some(RequestAnswer {
                request: r1.clone(),
                status: RequestStatus::parse(status).unwrap(),
                answered_at: at,
                webhook: (format!("whd_{first}"), "{}".into()),
            });
        }
        e
    };
    let requests = [r1.clone(), unknown.clone()];
    let ask = TxAsk {
        requests: &requests,
        ..TxAsk::default()
    };
    let out = store
        .append_reading(ask, |first, reads| {
            assert_eq!(reads.requests.len(), 1, "only the request that exists");
            let r = &reads.requests[&r1];
            assert_eq!(
                (&r.tenant, r.status.as_str(), r.token_hash, r.expires_at),
                (&tenant, "pending", [1; 32], 1000 + 15 * day)
            );
            Ok((vec![answered(first, "granted", 2000)], ()))
        })
        .await
        .unwrap();
    let row = store.request(&tenant, &r1).await.unwrap().unwrap();
    let proof_id = answered(out.first_index, "granted", 2000)
        .proof()
        .unwrap()
        .id
        .clone();
    assert_eq!(
        (row.status.as_str(), row.answered_at, row.proof_id),
        ("granted", Some(2000), Some(proof_id))
    );
    assert_eq!(store.deliveries(&tenant, 10).await.unwrap().len(), 1);
    // The delivery workers' per-tenant lanes.
    assert_eq!(
        store.tenants_with_due_deliveries(2000, 10).await.unwrap(),
        vec![tenant.clone()]
    );
    assert!(
        store
            .tenants_with_due_deliveries(1999, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_deliveries_of(&tenant, 2000, 10).await.unwrap();
    assert_eq!((due.len(), &due[0].tenant), (1, &tenant));
    assert!(
        store
            .due_deliveries_of(&other_tenant_probe(), 2000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Answering a request that is no longer pending is a builder's bug: the transaction
    // fails and writes nothing (neither the entry nor the webhook event).
    assert!(
        store
            .append_reading(ask, |first, reads| {
                assert_eq!(reads.requests[&r1].status, RequestStatus::Granted);
                Ok((vec![answered(first, "refused", 3000)], ()))
            })
            .await
            .is_err()
    );
    assert_eq!(store.log_head().await.unwrap().0, 1);
    assert_eq!(store.deliveries(&tenant, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.request(&tenant, &r1).await.unwrap().unwrap().status,
        RequestStatus::Granted
    );
    // r2 expires when its window closes; the append then reads it expired.
    assert_eq!(
        store
            .expire_requests(1000 + 15 * day - 1, |_, _, _, _| ("d".into(), "{}".into()))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .expire_requests(1000 + 15 * day, |_, _, _, _| ("d".into(), "{}".into()))
            .await
            .unwrap(),
        1
    );
    let st = store
        .statuses(&tenant, &[SubjectId::parse("sub_b").unwrap()])
        .await
        .unwrap();
    assert_eq!(st[0].status, ConsentState::Expired);
    let r2 = [mk(2, "sub_b").id];
    store
        .append_reading(
            TxAsk {
                requests: &r2,
                ..TxAsk::default()
            },
            |_, reads| {
                assert_eq!(reads.requests[&r2[0]].status, RequestStatus::Expired);
                Ok((vec![], ()))
            },
        )
        .await
        .unwrap();
    assert_eq!(store.log_head().await.unwrap().0, 1);
}

#[tokio::test]
async fn sqlite_requests_story() {
    let dir = tempfile::tempdir().unwrap();
    requests_story(sqlite_store(&dir).await.0).await;
}

#[tokio::test]
async fn postgres_requests_story() {
    requests_story(pg_store().await.0).await;
}

/// Events: read-your-status inside the append, index rows, erasure in the same
/// transaction, the history newest first, and no trace of the erased values in the
/// SQLite files once the write-ahead log is flushed.
async fn events_story(store: Store, sqlite_file: Option<std::path::PathBuf>) {
    use consentry_core::ids::EventId;
    use consentry_store::{Erasure, EventRow};
    let tenant = TenantId::parse("ten_acme").unwrap();
    let other = TenantId::parse("ten_other").unwrap();
    store.create_tenant(&tenant, "ACME", 1).await.unwrap();
    store.create_tenant(&other, "Other", 1).await.unwrap();
    let wrapped: Vec<u8> = (0..73).map(|i| 0xa0 ^ i).collect();
    let identity: Vec<u8> = b"sealed-identity-bytes-0123456789".to_vec();
    let blind = [0x5a; 32];
    let subject = SubjectId::parse("sub_e").unwrap();
    store
        .insert_contact(&NewContact {
            id: subject.clone(),
            tenant: tenant.clone(),
            email_index: blind,
            wrapped_key: wrapped.clone(),
            identity: identity.clone(),
            address_commitment: "ab".into(),
            category: consentry_core::proof::RecipientCategory::Private,
            attributes: r#"{"region":"north-unique-attr"}"#.into(),
            created_at: 5,
        })
        .await
        .unwrap();
    // Neighbours, so that the erased row shares pages with live ones.
    for n in 0..40u8 {
        store
            .insert_contact(&NewContact {
                id: SubjectId::from_suffix(&format!("n{n}")).unwrap(),
                tenant: tenant.clone(),
                email_index: [n; 32],
                wrapped_key: vec![n; 73],
                identity: vec![n; 60],
                address_commitment: "cd".into(),
                category: consentry_core::proof::RecipientCategory::Private,
                attributes: "{}".into(),
                created_at: 5,
            })
            .await
            .unwrap();
    }
    // A granted status for (tenant, sub_e, invoicing) through a proof entry.
    let mut granted = entry(&tenant, 0, "g");
    if let EntryRows::Proof { proof, status, .. } = &mut granted.rows {
        status.subject = subject.clone();
        status.purpose = "invoicing".into();
        status.status = ConsentState::Granted;
        proof.subject = subject.clone();
    }
    store
        .append_reading(TxAsk::default(), |_, _| Ok((vec![granted], ())))
        .await
        .unwrap();

    let event = |n: u64, kind: &str| {
        let bytes = format!("{{\"event\":{n}}}").into_bytes();
        NewEntry {
            leaf: leaf_hash(&bytes),
            entry: bytes,
            rows: EntryRows::Event {
                event: EventRow {
                    id: EventId::from_suffix(&format!("e{n}")).unwrap(),
                    tenant: tenant.clone(),
                    subject: subject.clone(),
                    kind: kind.into(),
                    purpose: Some("invoicing".into()),
                    recorded_at: 10 + n as i64,
                },
                effect: None,
            },
        }
    };
    let wanted = [
        (tenant.clone(), subject.clone(), "invoicing".to_owned()),
        (tenant.clone(), subject.clone(), "sms".to_owned()),
        (other.clone(), subject.clone(), "invoicing".to_owned()),
    ];
    let out = store
        .append_reading(
            TxAsk {
                subjects: std::slice::from_ref(&subject),
                statuses: &wanted,
                requests: &[],
            },
            |first, reads| {
                let (owner, row) = &reads.contacts[&subject];
                assert_eq!(owner, &tenant);
                assert_eq!(row.wrapped_key.as_deref(), Some(wrapped.as_slice()));
                assert_eq!(reads.statuses.len(), 1, "only the triple that has a status");
                let s = &reads.statuses[&wanted[0]];
                assert_eq!(s.status, ConsentState::Granted);
                Ok((
                    vec![
                        event(first, "data.access"),
                        event(first + 1, "data.access_denied"),
                    ],
                    (),
                ))
            },
        )
        .await
        .unwrap();
    assert_eq!(out.first_index, 1);

    // Amendment: the new sealed identity and its event commit together; a failed append
    // (the builder refuses) changes neither.
    let before = store.contact(&tenant, &subject).await.unwrap().unwrap();
    let mut amended = event(3, "data.amended");
    with_effect(
        &mut amended,
        EventEffect::Amend(Amendment {
            tenant: tenant.clone(),
            subject: subject.clone(),
            sealed_identity: b"new sealed identity".to_vec(),
        }),
    );
    let refused = store
        .append_reading(TxAsk::default(), |_, _| {
            Err::<(Vec<NewEntry>, ()), consentry_store::BuildFailure>("refused".into())
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(
        store
            .contact(&tenant, &subject)
            .await
            .unwrap()
            .unwrap()
            .identity,
        before.identity
    );
    let (size_before, _) = store.log_head().await.unwrap();
    store
        .append_reading(TxAsk::default(), |_, _| Ok((vec![amended], ())))
        .await
        .unwrap();
    let row = store.contact(&tenant, &subject).await.unwrap().unwrap();
    assert_eq!(row.identity.as_deref(), Some(&b"new sealed identity"[..]));
    assert_eq!(store.log_head().await.unwrap().0, size_before + 1);

    // Erasure: the event and the shredding commit together.
    let mut erased = event(4, "data.erased");
    with_effect(
        &mut erased,
        EventEffect::Erase(Erasure {
            tenant: tenant.clone(),
            subject: subject.clone(),
            tombstone: [0xee; 32],
            erased_at: 99,
        }),
    );
    store
        .append_reading(TxAsk::default(), |_, _| Ok((vec![erased], ())))
        .await
        .unwrap();
    let row = store.contact(&tenant, &subject).await.unwrap().unwrap();
    assert!(row.wrapped_key.is_none() && row.identity.is_none());
    assert_eq!(row.attributes, "{}");
    assert!(store.flush_erasures().await.unwrap());

    // Erasing twice is refused by the store: the caller checks first.
    let mut again = event(5, "data.erased");
    with_effect(
        &mut again,
        EventEffect::Erase(Erasure {
            tenant: tenant.clone(),
            subject: subject.clone(),
            tombstone: [0xef; 32],
            erased_at: 100,
        }),
    );
    assert!(
        store
            .append_reading(TxAsk::default(), |_, _| Ok((vec![again], ())))
            .await
            .is_err()
    );

    let history = store
        .subject_events(&tenant, &subject, None, 10)
        .await
        .unwrap();
    let indices: Vec<u64> = history.iter().map(|e| e.log_index).collect();
    assert_eq!(indices, vec![4, 3, 2, 1], "newest first");
    assert_eq!(history[0].entry, b"{\"event\":4}");
    let page = store
        .subject_events(&tenant, &subject, Some(3), 1)
        .await
        .unwrap();
    assert_eq!(page[0].log_index, 2);
    assert!(
        store
            .subject_events(&other, &subject, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let e2 = EventId::from_suffix("e2").unwrap();
    assert_eq!(
        store.event(&tenant, &e2).await.unwrap().unwrap().log_index,
        2
    );
    assert!(store.event(&other, &e2).await.unwrap().is_none());
    assert_eq!(
        store
            .erasure_event(&tenant, &subject)
            .await
            .unwrap()
            .unwrap()
            .log_index,
        4
    );

    if let Some(file) = sqlite_file {
        let mut raw = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            raw.extend(std::fs::read(format!("{}{suffix}", file.display())).unwrap_or_default());
        }
        let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(&wrapped), "the wrapped key survives in the file");
        assert!(
            !contains(&identity),
            "the sealed identity survives in the file"
        );
        assert!(!contains(&blind), "the blind index survives in the file");
        assert!(
            !contains(b"north-unique-attr"),
            "the attributes survive in the file"
        );
        assert!(contains(&[5u8; 73]), "live neighbours are still there");
    }
}

#[tokio::test]
async fn sqlite_events_story() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite_store(&dir).await;
    events_story(store, Some(dir.path().join("c.db"))).await;
}

#[tokio::test]
async fn postgres_events_story() {
    events_story(pg_store().await.0, None).await;
}

#[tokio::test]
async fn unknown_schemes_are_refused() {
    let e = Store::open("mysql://localhost/x").await.unwrap_err();
    assert!(matches!(e, StoreError::UnknownScheme(_)), "{e}");
}
