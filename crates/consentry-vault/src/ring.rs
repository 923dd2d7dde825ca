//! The master keys a process holds while the master key is rotated.
//!
//! Rotating the master key cannot be instantaneous: every subject's data key has to be
//! unwrapped under the outgoing key and wrapped again under the incoming one, and a
//! service keeps running meanwhile. So a deployment numbers its master keys (versions 1,
//! 2, …; the database records which version wrapped each row) and a process holds a
//! **ring**: the current version, under which everything new is wrapped and indexed, and
//! the other versions still in use, under which existing rows open.
//!
//! The ring also carries the [`LinkKey`] of single-use links and webhook secrets, which
//! is pinned rather than rotated with the vault (see [`MasterKey::link_key`]).
//!
//! The ring is plain data: which versions exist and which is current is decided by the
//! caller (the database, in Consentry), never guessed here.

use consentry_core::ids::TenantId;
use std::fmt;

use crate::{LinkKey, MasterKey, TenantKeys};

/// Master keys by version, one of them current.
///
/// Its `Debug` shows the versions only; the keys are zeroed on drop.
pub struct MasterKeyring {
    current: u32,
    current_key: MasterKey,
    /// The other versions held, in no particular order.
    others: Vec<(u32, MasterKey)>,
    link: LinkKey,
}

impl MasterKeyring {
    /// A ring holding one key, current as `version`. Its link key is the key's own
    /// ([`MasterKey::link_key`]) until [`MasterKeyring::with_link_key`] pins another.
    pub fn new(version: u32, key: MasterKey) -> MasterKeyring {
        MasterKeyring {
            current: version,
            link: key.link_key(),
            current_key: key,
            others: Vec::new(),
        }
    }

    /// Adds another version, under which rows may still be (or soon be) wrapped. A key
    /// for a version already held replaces it, except the current one, which stays.
    pub fn with_key(mut self, version: u32, key: MasterKey) -> MasterKeyring {
        if version != self.current {
            self.others.retain(|(v, _)| *v != version);
            self.others.push((version, key));
        }
        self
    }

    /// Pins the key link tokens are derived from.
    pub fn with_link_key(mut self, link: LinkKey) -> MasterKeyring {
        self.link = link;
        self
    }

    /// The version new rows are wrapped under.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every version held: the current one first, then the others, newest first.
    pub fn versions(&self) -> Vec<u32> {
        let mut others: Vec<u32> = self.others.iter().map(|(v, _)| *v).collect();
        others.sort_unstable_by(|a, b| b.cmp(a));
        std::iter::once(self.current).chain(others).collect()
    }

    /// The key of `version`, if held.
    pub fn key(&self, version: u32) -> Option<&MasterKey> {
        if version == self.current {
            return Some(&self.current_key);
        }
        self.others
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| k)
    }

    /// `tenant`'s keys under every version held: wrapping and indexing under the current
    /// one, unwrapping and look-ups under all.
    pub fn tenant_keys(&self, tenant: &TenantId) -> TenantKeys {
        let mut keys = self.current_key.versioned_tenant_keys(self.current, tenant);
        for v in self.versions().into_iter().skip(1) {
            if let Some(k) = self.key(v) {
                keys.push_other(k.versioned_tenant_keys(v, tenant));
            }
        }
        keys
    }

    /// A link token (see [`MasterKey::link_token`]) under the ring's link key.
    pub fn link_token(&self, kind: &str, id: &str) -> [u8; 32] {
        self.link.link_token(kind, id)
    }
}

impl fmt::Debug for MasterKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MasterKeyring(current v{}, versions {:?}, <redacted>)",
            self.current,
            self.versions()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Identity, VaultError, WrappedKey, normalize_email, rewrap};
    use consentry_core::ids::SubjectId;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;

    fn tenant() -> TenantId {
        TenantId::parse("ten_acme").unwrap()
    }

    fn subject(s: &str) -> SubjectId {
        SubjectId::from_suffix(s).unwrap()
    }

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn rows_of_either_version_open_during_a_rotation() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let t = tenant();
        let old = MasterKeyring::new(1, master(1)).tenant_keys(&t);
        let (dek_old, wrapped_old) = old.new_subject_key(&mut rng, &subject("a"));
        assert_eq!(old.version(), 1);

        // Version 2 announced: version 1 still current, 2 held.
        let ring = MasterKeyring::new(1, master(1)).with_key(2, master(2));
        assert_eq!(ring.versions(), vec![1, 2]);
        let keys = ring.tenant_keys(&t);
        assert_eq!(keys.versions(), vec![1, 2]);
        let (_, w) = keys.new_subject_key(&mut rng, &subject("b"));
        assert_eq!(
            keys.unwrap_subject_key_with_version(&subject("b"), &w)
                .unwrap()
                .0,
            1,
            "new keys are wrapped under the current version"
        );

        // Version 2 current: rows of version 1 still open, new ones are version 2.
        let ring = MasterKeyring::new(2, master(2)).with_key(1, master(1));
        assert_eq!(ring.versions(), vec![2, 1]);
        let keys = ring.tenant_keys(&t);
        let (v, dek) = keys
            .unwrap_subject_key_with_version(&subject("a"), &wrapped_old)
            .unwrap();
        assert_eq!(v, 1);
        assert_eq!(dek.commitment("x", b"y"), dek_old.commitment("x", b"y"));
        let (dek_new, wrapped_new) = keys.new_subject_key(&mut rng, &subject("c"));
        assert_eq!(
            keys.unwrap_subject_key_with_version(&subject("c"), &wrapped_new)
                .unwrap()
                .0,
            2
        );
        // The other versions' forms of a new key open under exactly those versions.
        let others = keys.wrap_for_other_versions(&mut rng, &subject("c"), &dek_new);
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].0, 1);
        let (v, k) = keys
            .unwrap_subject_key_with_version(&subject("c"), &others[0].1)
            .unwrap();
        assert_eq!(v, 1);
        assert_eq!(k.commitment("x", b"y"), dek_new.commitment("x", b"y"));

        // Once version 1 is retired, its rows no longer open; re-wrapped ones do.
        let retired = MasterKeyring::new(2, master(2)).tenant_keys(&t);
        assert_eq!(
            retired
                .unwrap_subject_key(&subject("a"), &wrapped_old)
                .unwrap_err(),
            VaultError::Decrypt
        );
        let only_old = master(1).tenant_keys(&t);
        let only_new = master(2).tenant_keys(&t);
        let moved = rewrap(&mut rng, &only_old, &only_new, &subject("a"), &wrapped_old).unwrap();
        assert_eq!(
            retired
                .unwrap_subject_key_with_version(&subject("a"), &moved)
                .unwrap()
                .0,
            2
        );
    }

    #[test]
    fn malformed_wrapped_keys_are_not_retried_under_other_versions() {
        let keys = MasterKeyring::new(2, master(2))
            .with_key(1, master(1))
            .tenant_keys(&tenant());
        assert!(matches!(
            keys.unwrap_subject_key(&subject("a"), &WrappedKey::from_bytes(vec![1; 5])),
            Err(VaultError::Malformed(_))
        ));
        assert_eq!(
            keys.unwrap_subject_key(&subject("a"), &WrappedKey::from_bytes(vec![7; 73]))
                .unwrap_err(),
            VaultError::UnknownVersion(7)
        );
    }

    #[test]
    fn blind_indexes_cover_every_version_current_first() {
        let email = normalize_email("Alice@Example.com").unwrap();
        let ring = MasterKeyring::new(3, master(3))
            .with_key(1, master(1))
            .with_key(2, master(2));
        let indexes = ring.tenant_keys(&tenant()).blind_indexes(&email);
        let expected: Vec<(u32, [u8; 32])> = [3u32, 2, 1]
            .iter()
            .map(|v| {
                (
                    *v,
                    master(*v as u8).tenant_keys(&tenant()).blind_index(&email),
                )
            })
            .collect();
        assert_eq!(indexes, expected);
        assert_eq!(
            ring.tenant_keys(&tenant()).blind_index(&email),
            expected[0].1
        );
    }

    #[test]
    fn the_current_version_is_never_replaced_and_others_are() {
        let ring = MasterKeyring::new(2, master(2))
            .with_key(2, master(9))
            .with_key(1, master(8))
            .with_key(1, master(1));
        assert_eq!(ring.versions(), vec![2, 1]);
        assert_eq!(ring.key(2).unwrap().check_value(), master(2).check_value());
        assert_eq!(ring.key(1).unwrap().check_value(), master(1).check_value());
        assert!(ring.key(3).is_none());
    }

    #[test]
    fn link_tokens_follow_the_pinned_link_key_not_the_current_master() {
        let first = master(1);
        let token = first.link_token("consent-request", "req_1");
        // Without a pinned link key, a ring's tokens are its current key's.
        let ring = MasterKeyring::new(2, master(2));
        assert_eq!(
            ring.link_token("consent-request", "req_1"),
            master(2).link_token("consent-request", "req_1")
        );
        // Pinned to the first key's link key, they survive the rotation.
        let ring = ring.with_link_key(first.link_key());
        assert_eq!(ring.link_token("consent-request", "req_1"), token);
        let b64 = first.link_key().to_base64();
        assert_eq!(
            LinkKey::from_base64(&b64)
                .unwrap()
                .link_token("consent-request", "req_1"),
            token
        );
    }

    #[test]
    fn check_values_name_keys_without_showing_them() {
        let a = master(1);
        assert_eq!(a.check_value(), master(1).check_value());
        assert_ne!(a.check_value(), master(2).check_value());
        // Documented derivation, recomputed with the hkdf crate.
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"consentry vault v1"), &[1; 32]);
        let mut expected = [0u8; 32];
        hk.expand(b"key-check", &mut expected).unwrap();
        assert_eq!(a.check_value(), expected);
        // Not the link key, nor a tenant key, nor the key itself.
        let mut link = [0u8; 32];
        hk.expand(b"link-token", &mut link).unwrap();
        assert_ne!(expected, link);
        assert_ne!(expected, [1; 32]);
        let ring = MasterKeyring::new(1, master(1)).with_key(2, master(2));
        let shown = format!("{ring:?} {:?}", a.link_key());
        assert_eq!(
            shown,
            "MasterKeyring(current v1, versions [1, 2], <redacted>) LinkKey(<redacted>)"
        );
    }

    #[test]
    fn a_sealed_identity_needs_no_change_across_versions() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let t = tenant();
        let s = subject("a");
        let v1 = MasterKeyring::new(1, master(1)).tenant_keys(&t);
        let (dek, wrapped) = v1.new_subject_key(&mut rng, &s);
        let sealed = dek.seal(&mut rng, &t, &s, &Identity::new("alice@example.com"));
        let v2 = MasterKeyring::new(2, master(2)).with_key(1, master(1));
        let opened = v2
            .tenant_keys(&t)
            .unwrap_subject_key(&s, &wrapped)
            .unwrap()
            .open(&t, &s, &sealed)
            .unwrap();
        assert_eq!(opened.email, "alice@example.com");
    }
}
