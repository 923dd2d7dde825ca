//! Master key versions and re-wrapping, run against SQLite and PostgreSQL (at
//! `CONSENTRY_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`, each
//! test in a schema of its own; a missing PostgreSQL fails the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::ids::{SubjectId, TenantId};
use consentry_store::{
    KeyedForm, KeyedInsert, NewContact, RetireOutcome, Rewrapped, Store, StoreError, VaultKeyState,
};
use rand::Rng as _;

async fn pg_store() -> (Store, String) {
    let base = std::env::var("CONSENTRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
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
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    (Store::open(&url).await.unwrap(), url)
}

async fn sqlite_store(dir: &tempfile::TempDir) -> (Store, String) {
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    (Store::open(&url).await.unwrap(), url)
}

/// Runs SQL on the test database behind the store's back.
async fn raw(url: &str, sql: &str) {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

fn subject(s: &str) -> SubjectId {
    SubjectId::from_suffix(s).unwrap()
}

/// The blind index of `email` under `version`: a stand-in for the vault's HMAC.
fn index(version: u32, email: &str) -> [u8; 32] {
    let mut ix = [0u8; 32];
    ix[0] = version as u8;
    for (i, b) in email.bytes().enumerate() {
        ix[1 + i % 31] ^= b;
    }
    ix
}

fn form(version: u32, email: &str) -> KeyedForm {
    KeyedForm {
        version,
        email_index: index(version, email),
        wrapped_key: vec![version as u8; 73],
    }
}

fn contact(tenant: &TenantId, id: &str) -> NewContact {
    NewContact {
        id: subject(id),
        tenant: tenant.clone(),
        email_index: [0; 32],
        wrapped_key: vec![],
        identity: format!("sealed {id}").into_bytes(),
        address_commitment: "c".into(),
        category: consentry_core::proof::RecipientCategory::Private,
        attributes: "{}".into(),
        created_at: 1,
    }
}

async fn counts(store: &Store) -> Vec<(u32, u64)> {
    store.contacts_by_key_version().await.unwrap()
}

async fn story(store: Store, url: String) {
    let t = TenantId::parse("ten_acme").unwrap();
    store.create_tenant(&t, "ACME", 1).await.unwrap();

    // First start: the key in use becomes version 1; later adoptions change nothing.
    let keys = store.adopt_vault_key(&[1; 32], 10).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].version, keys[0].state, keys[0].key_check),
        (1, VaultKeyState::Current, [1; 32])
    );
    assert_eq!(store.adopt_vault_key(&[9; 32], 11).await.unwrap(), keys);

    // Contacts under version 1.
    for (id, email) in [("a", "a@x"), ("b", "b@x"), ("c", "c@x")] {
        assert_eq!(
            store
                .insert_contact_keyed(&contact(&t, id), &[form(1, email)])
                .await
                .unwrap(),
            KeyedInsert::Inserted(1)
        );
    }
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "a2"), &[form(1, "a@x")])
            .await
            .unwrap(),
        KeyedInsert::Duplicate(subject("a"))
    );

    // Announcing: version 2 is next; a second announcement or a used key is refused.
    assert_eq!(store.announce_vault_key(&[2; 32], 20).await.unwrap(), 2);
    for check in [[3; 32], [1; 32], [2; 32]] {
        assert!(matches!(
            store.announce_vault_key(&check, 21).await,
            Err(StoreError::Keyring(_))
        ));
    }
    // While next, new rows are still version 1, even when offered version 2 too.
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "d"), &[form(1, "d@x"), form(2, "d@x")])
            .await
            .unwrap(),
        KeyedInsert::Inserted(1)
    );
    // A process that holds only version 2 cannot write yet: it is not current.
    let e = store
        .insert_contact_keyed(&contact(&t, "e"), &[form(2, "e@x")])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("current master key is version 1"),
        "{e}"
    );

    // Switch: 2 current, 1 previous. Idempotent; an unknown version is refused.
    store.switch_vault_key(2).await.unwrap();
    store.switch_vault_key(2).await.unwrap();
    assert!(store.switch_vault_key(7).await.is_err());
    let states: Vec<_> = store
        .vault_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.version, k.state))
        .collect();
    assert_eq!(
        states,
        vec![(1, VaultKeyState::Previous), (2, VaultKeyState::Current)]
    );
    // A process that has not noticed the switch still offers both: version 2 is chosen.
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "f"), &[form(1, "f@x"), form(2, "f@x")])
            .await
            .unwrap(),
        KeyedInsert::Inserted(2)
    );
    // A process that holds only version 1 is told to reload.
    assert!(matches!(
        store
            .insert_contact_keyed(&contact(&t, "g"), &[form(1, "g@x")])
            .await,
        Err(StoreError::Keyring(_))
    ));
    // De-duplication looks under both versions: "a" is still a version-1 row.
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "a3"), &[form(2, "a@x"), form(1, "a@x")])
            .await
            .unwrap(),
        KeyedInsert::Duplicate(subject("a"))
    );
    assert_eq!(counts(&store).await, vec![(1, 4), (2, 1)]);

    // Retiring is refused while rows remain.
    assert_eq!(
        store.retire_vault_key(1, 30).await.unwrap(),
        RetireOutcome::StillInUse(4)
    );
    assert_eq!(
        store.retire_vault_key(2, 30).await.unwrap(),
        RetireOutcome::NotPrevious(Some(VaultKeyState::Current))
    );

    // Re-wrap in batches of two, in pseudonym order.
    let first = store.contacts_to_rewrap(1, None, 2).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["sub_a", "sub_b"]);
    assert_eq!(first[0].identity.as_deref(), Some(&b"sealed a"[..]));
    assert_eq!(first[0].wrapped_key.as_deref(), Some(&[1u8; 73][..]));
    let moved = |rows: &[consentry_store::RewrapRow]| -> Vec<Rewrapped> {
        rows.iter()
            .map(|r| Rewrapped {
                read: r.clone(),
                wrapped_key: r.wrapped_key.as_ref().map(|_| vec![2; 73]),
                email_index: Some(index(2, &format!("{}@x", &r.id.as_str()[4..]))),
            })
            .collect()
    };
    assert_eq!(
        store.rewrap_contacts(1, 2, &moved(&first)).await.unwrap(),
        2
    );
    // Re-applying the same batch changes nothing: the rows are no longer as read.
    assert_eq!(
        store.rewrap_contacts(1, 2, &moved(&first)).await.unwrap(),
        0
    );
    assert_eq!(counts(&store).await, vec![(1, 2), (2, 3)]);
    // After a re-wrap, the address is found under its new index only.
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "a4"), &[form(2, "a@x")])
            .await
            .unwrap(),
        KeyedInsert::Duplicate(subject("a"))
    );

    // A row amended between the read and the write is left for a later batch.
    let second = store
        .contacts_to_rewrap(1, Some(&subject("b")), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = second.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["sub_c", "sub_d"]);
    let mut stale = moved(&second);
    stale[0].read.identity = Some(b"what it was before an amendment".to_vec());
    assert_eq!(store.rewrap_contacts(1, 2, &stale).await.unwrap(), 1);
    assert_eq!(counts(&store).await, vec![(1, 1), (2, 4)]);

    // A batch whose new index collides with another contact's fails whole.
    let again = store.contacts_to_rewrap(1, None, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    let mut clash = moved(&again);
    clash[0].email_index = Some(index(2, "a@x"));
    assert!(store.rewrap_contacts(1, 2, &clash).await.is_err());
    assert_eq!(counts(&store).await, vec![(1, 1), (2, 4)]);
    assert_eq!(
        store.rewrap_contacts(1, 2, &moved(&again)).await.unwrap(),
        1
    );

    // An erased contact moves without a key: its tombstone index stays.
    assert_eq!(
        store
            .insert_contact_keyed(&contact(&t, "h"), &[form(2, "h@x")])
            .await
            .unwrap(),
        KeyedInsert::Inserted(2)
    );
    store.announce_vault_key(&[3; 32], 40).await.unwrap_err(); // 1 is still previous
    assert_eq!(
        store.retire_vault_key(1, 41).await.unwrap(),
        RetireOutcome::Retired
    );
    assert_eq!(
        store.retire_vault_key(1, 42).await.unwrap(),
        RetireOutcome::NotPrevious(Some(VaultKeyState::Retired))
    );
    assert_eq!(store.announce_vault_key(&[3; 32], 50).await.unwrap(), 3);
    store.switch_vault_key(3).await.unwrap();
    let h = store
        .contacts_to_rewrap(2, Some(&subject("g")), 1)
        .await
        .unwrap();
    assert_eq!(h[0].id, subject("h"));
    // Erased after it was read: the compare-and-set refuses the stale form.
    raw(
        &url,
        "UPDATE contacts SET email_index = identity, wrapped_key = NULL, identity = NULL WHERE id = 'sub_h'",
    )
    .await;
    assert_eq!(store.rewrap_contacts(2, 3, &moved(&h)).await.unwrap(), 0);
    let h = store
        .contacts_to_rewrap(2, Some(&subject("g")), 1)
        .await
        .unwrap();
    assert_eq!(
        (h[0].wrapped_key.as_ref(), h[0].identity.as_ref()),
        (None, None)
    );
    assert_eq!(
        store
            .rewrap_contacts(
                2,
                3,
                &[Rewrapped {
                    read: h[0].clone(),
                    wrapped_key: None,
                    email_index: None,
                }]
            )
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.contact_key_version(&subject("h")).await.unwrap(),
        Some(3)
    );
    assert_eq!(
        store.contact_key_version(&subject("zz")).await.unwrap(),
        None
    );
    let keys = store.vault_keys().await.unwrap();
    assert_eq!(keys[0].retired_at, Some(41));
    assert_eq!(keys[2].state, VaultKeyState::Current);
    store.close().await;
}

#[tokio::test]
async fn sqlite_keyring_story() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = sqlite_store(&dir).await;
    story(store, url).await;
}

#[tokio::test]
async fn postgres_keyring_story() {
    let (store, url) = pg_store().await;
    story(store, url).await;
}

/// Many inserts of the same few addresses from two handles while versions switch: each
/// address ends up exactly once, whichever version its row is under.
async fn no_duplicates_across_a_switch(a: Store, b: Store) {
    let t = TenantId::parse("ten_acme").unwrap();
    a.create_tenant(&t, "ACME", 1).await.unwrap();
    a.adopt_vault_key(&[1; 32], 1).await.unwrap();
    a.announce_vault_key(&[2; 32], 2).await.unwrap();
    let insert = |store: Store, n: usize| {
        let t = t.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..40 {
                let email = format!("p{}@x", i % 10);
                let c = contact(&t, &format!("h{n}i{i}"));
                out.push(
                    store
                        .insert_contact_keyed(&c, &[form(1, &email), form(2, &email)])
                        .await
                        .unwrap(),
                );
            }
            out
        })
    };
    let one = insert(a.clone(), 1);
    let two = insert(b.clone(), 2);
    let switch = {
        let a = a.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            a.switch_vault_key(2).await.unwrap();
        })
    };
    let mut inserted = one.await.unwrap();
    inserted.extend(two.await.unwrap());
    switch.await.unwrap();
    let new = inserted
        .iter()
        .filter(|r| matches!(r, KeyedInsert::Inserted(_)))
        .count();
    assert_eq!(new, 10, "{inserted:?}");
    let total: u64 = a
        .contacts_by_key_version()
        .await
        .unwrap()
        .iter()
        .map(|c| c.1)
        .sum();
    assert_eq!(total, 10);
}

#[tokio::test]
async fn postgres_no_duplicates_across_a_switch() {
    let (a, url) = pg_store().await;
    // The same schema through a second pool, as a second service would.
    let b = Store::open(&url).await.unwrap();
    no_duplicates_across_a_switch(a, b).await;
}

#[tokio::test]
async fn sqlite_no_duplicates_across_a_switch() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = sqlite_store(&dir).await;
    let (b, _) = sqlite_store(&dir).await;
    no_duplicates_across_a_switch(a, b).await;
}
