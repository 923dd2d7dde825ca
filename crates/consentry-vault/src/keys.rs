//! The key hierarchy: one master key, per-tenant keys derived from it, and a random data
//! key per subject, stored only wrapped.
//!
//! Why this shape:
//!
//! - **Nothing per tenant is stored.** A tenant's key-encryption key (KEK) and blind-index
//!   key are derived from the master key with HKDF, so creating a tenant writes no key, and
//!   rotating the master key re-derives them all.
//! - **Each subject has its own random data key (DEK)**, stored only wrapped under the
//!   tenant's KEK. Destroying that one wrapped key (crypto-shredding) makes the subject's
//!   sealed identity unreadable and their commitments unlinkable, without touching anyone
//!   else's data or the append-only log.
//! - **Rotating the master key re-wraps DEKs** ([`rewrap`]); sealed identities, whose
//!   volume is the large part, are not re-encrypted, and commitments stay valid. While a
//!   rotation runs, a tenant's keys hold every master key version still in use
//!   ([`MasterKeyring`](crate::MasterKeyring)): a wrapped key opens under whichever
//!   version wrapped it, new keys are wrapped under the current one, and an address is
//!   looked up under every version's blind index.
//! - **Every ciphertext is bound to its tenant and subject** through the AEAD's associated
//!   data, so a row copied to another subject fails to open rather than revealing one
//!   person's data under another's name.
//!
//! Secret types redact their `Debug`, do not implement `Clone` (a copy is one more place
//! to forget), and overwrite their bytes with zeros when dropped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use consentry_core::ids::{SubjectId, TenantId};
use rand_core::CryptoRngCore;
use std::fmt;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::identity::Identity;
use crate::primitives::{
    self, DEK_LABEL, DOCUMENT_LABEL, HEADER_LEN, IDENTITY_LABEL, SALT, TAG_LEN, VERSION,
    hkdf_sha256, hmac_sha256,
};
use crate::{VaultError, canonical_email};

/// Length of every key in the vault.
const KEY_LEN: usize = 32;
/// Length of a version-1 wrapped key: header, the 32-byte DEK, tag.
const WRAPPED_LEN: usize = HEADER_LEN + KEY_LEN + TAG_LEN;

/// HKDF info prefix of a tenant's key-encryption key; the tenant ID follows.
const KEK_INFO: &[u8] = b"kek\0";
/// HKDF info prefix of a tenant's blind-index key; the tenant ID follows.
const BLIND_INDEX_INFO: &[u8] = b"blind-index\0";
/// HKDF info of a subject's commitment key.
const COMMITMENT_INFO: &[u8] = b"commitment";
/// HKDF info of a master key's check value.
const CHECK_INFO: &[u8] = b"key-check";
/// HKDF info of the link-token key.
const LINK_INFO: &[u8] = b"link-token";

/// The vault's root secret: 32 random bytes, one per deployment, kept in a key file or the
/// environment, never in the database.
///
/// Its `Debug` is redacted and its bytes are zeroed on drop.
#[derive(ZeroizeOnDrop)]
pub struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    /// Wraps 32 key bytes. The caller's copy of the array is its own to zero.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey(bytes)
    }

    /// Parses standard base64 of 32 bytes, as [`MasterKey::to_base64`] writes it;
    /// surrounding whitespace (a key file's final newline) is ignored.
    ///
    /// # Errors
    ///
    /// [`VaultError::BadKey`] if it is not base64 or not 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey, VaultError> {
        let decoded = Zeroizing::new(BASE64.decode(text.trim()).map_err(|_| VaultError::BadKey)?);
        if decoded.len() != KEY_LEN {
            return Err(VaultError::BadKey);
        }
        let mut key = MasterKey([0; KEY_LEN]);
        key.0.copy_from_slice(&decoded);
        Ok(key)
    }

    /// Draws a new key from `rng`.
    pub fn generate(rng: &mut (impl CryptoRngCore + ?Sized)) -> MasterKey {
        let mut key = MasterKey([0; KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// Standard base64 of the key, for writing the key file (handle with care; the string
    /// is zeroed when dropped).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0))
    }

    /// Derives `tenant`'s keys: HKDF-SHA256 with salt `consentry vault v1` and info
    /// `kek\0` ‖ tenant ID for the key-encryption key, `blind-index\0` ‖ tenant ID for the
    /// blind-index key.
    ///
    /// A lone master key is version 1 of its deployment: the version its first key has.
    /// During a rotation, [`MasterKeyring::tenant_keys`](crate::MasterKeyring::tenant_keys)
    /// gives keys that know every version in use.
    pub fn tenant_keys(&self, tenant: &TenantId) -> TenantKeys {
        self.versioned_tenant_keys(1, tenant)
    }

    /// `tenant`'s keys derived from this key, labelled as master key `version`.
    pub(crate) fn versioned_tenant_keys(&self, version: u32, tenant: &TenantId) -> TenantKeys {
        let id = tenant.as_str().as_bytes();
        let kek = hkdf_sha256::<KEY_LEN>(SALT, &self.0, &[KEK_INFO, id]);
        let blind_index_key = hkdf_sha256::<KEY_LEN>(SALT, &self.0, &[BLIND_INDEX_INFO, id]);
        TenantKeys {
            tenant: tenant.clone(),
            version,
            kek: *kek,
            blind_index_key: *blind_index_key,
            others: Vec::new(),
        }
    }

    /// The key's check value: HKDF-SHA256(master, salt `consentry vault v1`, info
    /// `key-check`), 32 bytes.
    ///
    /// It names the key without revealing it or anything derived from it (HKDF outputs
    /// under different infos are independent), so a database can record which master key
    /// wrapped its rows and refuse a wrong one, and two keys can be compared.
    pub fn check_value(&self) -> [u8; 32] {
        *hkdf_sha256::<KEY_LEN>(SALT, &self.0, &[CHECK_INFO])
    }

    /// The key single-use links and webhook secrets are derived from: HKDF-SHA256(master,
    /// salt `consentry vault v1`, info `link-token`).
    ///
    /// It is a key of its own so that it can outlive a master-key rotation: links already
    /// e-mailed and webhook secrets already handed out keep working when the vault's keys
    /// change.
    pub fn link_key(&self) -> LinkKey {
        LinkKey(*hkdf_sha256::<KEY_LEN>(SALT, &self.0, &[LINK_INFO]))
    }

    /// A link token for a single-use link (a consent request, a portal sign-in):
    /// HMAC-SHA256 of `kind` ‖ 0x00 ‖ `id` under [`MasterKey::link_key`]. 256 bits that
    /// only the service can compute, so the link can be rebuilt to (re)send an e-mail
    /// while the database stores only the token's hash.
    pub fn link_token(&self, kind: &str, id: &str) -> [u8; 32] {
        self.link_key().link_token(kind, id)
    }
}

/// The key link tokens and webhook secrets are derived from (see
/// [`MasterKey::link_key`]). 32 bytes; its `Debug` is redacted and its bytes are zeroed on
/// drop.
#[derive(ZeroizeOnDrop)]
pub struct LinkKey([u8; KEY_LEN]);

impl LinkKey {
    /// Parses standard base64 of 32 bytes; surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`VaultError::BadKey`] if it is not base64 or not 32 bytes.
    pub fn from_base64(text: &str) -> Result<LinkKey, VaultError> {
        MasterKey::from_base64(text).map(|m| LinkKey(m.0))
    }

    /// Standard base64 of the key, for its key file (zeroed when dropped).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0))
    }

    /// HMAC-SHA256 of `kind` ‖ 0x00 ‖ `id` under this key.
    pub fn link_token(&self, kind: &str, id: &str) -> [u8; 32] {
        hmac_sha256(&self.0, &[kind.as_bytes(), &[0], id.as_bytes()])
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(<redacted>)")
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// One tenant's keys, derived from the master key by [`MasterKey::tenant_keys`]: a
/// key-encryption key that wraps the tenant's subjects' data keys, and a blind-index key.
///
/// Derived from a [`MasterKeyring`](crate::MasterKeyring), it also holds the same keys
/// under the ring's other master key versions: new data keys are wrapped and new blind
/// indexes computed under the current version only, while unwrapping tries every version
/// (the AEAD tells a wrong key from the right one) and [`TenantKeys::blind_indexes`] gives
/// an address's index under each, for look-ups during a rotation.
///
/// Its `Debug` shows the tenant only, and its keys are zeroed on drop.
#[derive(ZeroizeOnDrop)]
pub struct TenantKeys {
    #[zeroize(skip)]
    tenant: TenantId,
    #[zeroize(skip)]
    version: u32,
    kek: [u8; KEY_LEN],
    blind_index_key: [u8; KEY_LEN],
    /// The same tenant's keys under the ring's other versions (each zeroes itself).
    #[zeroize(skip)]
    others: Vec<TenantKeys>,
}

impl TenantKeys {
    /// The tenant these keys belong to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The master key version new data keys are wrapped under.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every master key version these keys hold, the current one first.
    pub fn versions(&self) -> Vec<u32> {
        std::iter::once(self.version)
            .chain(self.others.iter().map(|o| o.version))
            .collect()
    }

    /// Adds the same tenant's keys under another master key version (ignored if they are
    /// of another tenant, or of a version already held).
    pub(crate) fn push_other(&mut self, other: TenantKeys) {
        if other.tenant == self.tenant && !self.versions().contains(&other.version) {
            self.others.push(other);
        }
    }

    /// The blind index of a normalised address under every version held, the current
    /// one first: what a look-up must search while rows of several versions coexist.
    pub fn blind_indexes(&self, normalized_email: &str) -> Vec<(u32, [u8; 32])> {
        std::iter::once(self)
            .chain(&self.others)
            .map(|k| (k.version, k.blind_index(normalized_email)))
            .collect()
    }

    /// `key` wrapped under each version held other than the current one: the forms a new
    /// row can take should another process have made one of them current already.
    pub fn wrap_for_other_versions(
        &self,
        rng: &mut (impl CryptoRngCore + ?Sized),
        subject: &SubjectId,
        key: &SubjectKey,
    ) -> Vec<(u32, WrappedKey)> {
        self.others
            .iter()
            .map(|k| (k.version, k.wrap(rng, subject, key)))
            .collect()
    }

    /// Like [`TenantKeys::unwrap_subject_key`], and says which master key version opened
    /// it.
    ///
    /// # Errors
    ///
    /// As [`TenantKeys::unwrap_subject_key`].
    pub fn unwrap_subject_key_with_version(
        &self,
        subject: &SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<(u32, SubjectKey), VaultError> {
        match self.unwrap_own(subject, wrapped) {
            Err(VaultError::Decrypt) => {}
            other => return other.map(|k| (self.version, k)),
        }
        for other in &self.others {
            if let Ok(key) = other.unwrap_own(subject, wrapped) {
                return Ok((other.version, key));
            }
        }
        Err(VaultError::Decrypt)
    }

    /// The blind index of an e-mail address already normalised with
    /// [`normalize_email`](crate::normalize_email) (or [`canonical_email`] for a stored one): HMAC-SHA256 under the tenant's blind-index key.
    ///
    /// Equal addresses give equal indexes within a tenant, so the address book can be
    /// de-duplicated and a portal sign-in found without decrypting anything; across
    /// tenants, and without the master key, the index says nothing about the address.
    ///
    /// The index is keyed by the master key, not by the subject's key: crypto-shredding
    /// does not neutralise it, so an erasure must delete it too.
    pub fn blind_index(&self, normalized_email: &str) -> [u8; 32] {
        debug_assert!(
            canonical_email(normalized_email).as_deref() == Ok(normalized_email),
            "blind_index needs an address normalised with normalize_email or canonical_email"
        );
        hmac_sha256(&self.blind_index_key, &[normalized_email.as_bytes()])
    }

    /// Creates a data key for a new subject: 32 random bytes, and the same key wrapped
    /// under this tenant's key-encryption key for storage.
    pub fn new_subject_key(
        &self,
        rng: &mut (impl CryptoRngCore + ?Sized),
        subject: &SubjectId,
    ) -> (SubjectKey, WrappedKey) {
        let mut key = SubjectKey([0; KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        let wrapped = self.wrap(rng, subject, &key);
        (key, wrapped)
    }

    /// Recovers `subject`'s data key from its wrapped form, under whichever master key
    /// version held wrapped it (the current one is tried first).
    ///
    /// # Errors
    ///
    /// [`VaultError::Decrypt`] if the key was wrapped for another subject or tenant, under
    /// a master key not held, or altered; [`VaultError::Malformed`] or
    /// [`VaultError::UnknownVersion`] if the bytes are not a wrapped key this build reads.
    pub fn unwrap_subject_key(
        &self,
        subject: &SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<SubjectKey, VaultError> {
        self.unwrap_subject_key_with_version(subject, wrapped)
            .map(|(_, key)| key)
    }

    /// Unwraps under this version's key-encryption key only.
    fn unwrap_own(
        &self,
        subject: &SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<SubjectKey, VaultError> {
        if wrapped.0.first() == Some(&VERSION) && wrapped.0.len() != WRAPPED_LEN {
            return Err(VaultError::Malformed("wrapped key has the wrong length"));
        }
        let plain = primitives::open(&self.kek, DEK_LABEL, &self.tenant, subject, &wrapped.0)?;
        if plain.len() != KEY_LEN {
            return Err(VaultError::Malformed("wrapped key does not hold 32 bytes"));
        }
        let mut key = SubjectKey([0; KEY_LEN]);
        key.0.copy_from_slice(&plain);
        Ok(key)
    }

    fn wrap(
        &self,
        rng: &mut (impl CryptoRngCore + ?Sized),
        subject: &SubjectId,
        key: &SubjectKey,
    ) -> WrappedKey {
        WrappedKey(primitives::seal(
            &self.kek,
            rng,
            DEK_LABEL,
            &self.tenant,
            subject,
            KEY_LEN,
            |out| out.extend_from_slice(&key.0),
        ))
    }
}

impl fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantKeys({}, <redacted>)", self.tenant)
    }
}

/// Re-wraps `subject`'s data key from `old` to `new`: the same tenant's keys under the
/// outgoing and incoming master keys, during master-key rotation. The data key itself, and
/// so every sealed identity and commitment, is unchanged.
///
/// # Errors
///
/// [`VaultError::TenantMismatch`] if `old` and `new` belong to different tenants, and any
/// error of [`TenantKeys::unwrap_subject_key`] under `old`.
pub fn rewrap(
    rng: &mut (impl CryptoRngCore + ?Sized),
    old: &TenantKeys,
    new: &TenantKeys,
    subject: &SubjectId,
    wrapped: &WrappedKey,
) -> Result<WrappedKey, VaultError> {
    if old.tenant != new.tenant {
        return Err(VaultError::TenantMismatch);
    }
    let key = old.unwrap_subject_key(subject, wrapped)?;
    Ok(new.wrap(rng, subject, &key))
}

/// A subject's data key, wrapped for storage: `0x01` ‖ 24-byte nonce ‖ XChaCha20-Poly1305
/// of the 32-byte key under the tenant's key-encryption key ‖ 16-byte tag (73 bytes),
/// associated data `consentry.vault.dek` ‖ 0x00 ‖ 0x01 ‖ tenant ID ‖ 0x00 ‖ subject ID.
///
/// Deleting every copy of it is crypto-shredding.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(Vec<u8>);

impl WrappedKey {
    /// Takes the bytes as stored; they are checked when unwrapped.
    pub fn from_bytes(bytes: Vec<u8>) -> WrappedKey {
        WrappedKey(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes to store, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(version) => write!(f, "WrappedKey(v{version}, {} bytes)", self.0.len()),
            None => f.write_str("WrappedKey(empty)"),
        }
    }
}

/// A subject's data key (DEK): it seals their identity and keys their commitments.
/// Obtained from [`TenantKeys::new_subject_key`] or [`TenantKeys::unwrap_subject_key`].
///
/// Its `Debug` is redacted and its bytes are zeroed on drop.
#[derive(ZeroizeOnDrop)]
pub struct SubjectKey([u8; KEY_LEN]);

impl SubjectKey {
    /// Seals `identity` for storage: `0x01` ‖ 24-byte nonce ‖ XChaCha20-Poly1305 of its
    /// JSON ‖ 16-byte tag, associated data `consentry.vault.identity` ‖ 0x00 ‖ 0x01 ‖
    /// tenant ID ‖ 0x00 ‖ subject ID.
    pub fn seal(
        &self,
        rng: &mut (impl CryptoRngCore + ?Sized),
        tenant: &TenantId,
        subject: &SubjectId,
        identity: &Identity,
    ) -> Vec<u8> {
        primitives::seal(
            &self.0,
            rng,
            IDENTITY_LABEL,
            tenant,
            subject,
            identity.json_len(),
            |out| identity.write_json(out),
        )
    }

    /// Opens what [`SubjectKey::seal`] sealed for the same tenant and subject.
    ///
    /// # Errors
    ///
    /// [`VaultError::Decrypt`] if it was sealed for another subject or tenant, under
    /// another key, or altered; [`VaultError::Malformed`] or
    /// [`VaultError::UnknownVersion`] if the bytes are not a sealed identity this build
    /// reads.
    pub fn open(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        sealed: &[u8],
    ) -> Result<Identity, VaultError> {
        let json = primitives::open(&self.0, IDENTITY_LABEL, tenant, subject, sealed)?;
        // serde_json's message could quote a value: drop it.
        serde_json::from_slice(&json)
            .map_err(|_| VaultError::Malformed("sealed identity is not the expected JSON"))
    }

    /// Seals a document the subject's records refer to (an evidence file given with a
    /// consent) for storage: the same envelope as [`SubjectKey::seal`], with associated
    /// data `consentry.vault.document` ‖ 0x00 ‖ 0x01 ‖ tenant ID ‖ 0x00 ‖ subject ID, so
    /// that a sealed document never opens as an identity or the other way round.
    /// Destroying the subject's key shreds it with the rest of their data.
    pub fn seal_document(
        &self,
        rng: &mut (impl CryptoRngCore + ?Sized),
        tenant: &TenantId,
        subject: &SubjectId,
        document: &[u8],
    ) -> Vec<u8> {
        primitives::seal(
            &self.0,
            rng,
            DOCUMENT_LABEL,
            tenant,
            subject,
            document.len(),
            |out| out.extend_from_slice(document),
        )
    }

    /// Opens what [`SubjectKey::seal_document`] sealed for the same tenant and subject.
    ///
    /// # Errors
    ///
    /// [`VaultError::Decrypt`] if it was sealed for another subject or tenant, under
    /// another key, as another kind of blob, or altered; [`VaultError::Malformed`] or
    /// [`VaultError::UnknownVersion`] if the bytes are not an envelope this build reads.
    pub fn open_document(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        primitives::open(&self.0, DOCUMENT_LABEL, tenant, subject, sealed)
    }

    /// A keyed commitment to `data` for `purpose_label` (such as `address` or
    /// `evidence`), as lowercase hex: HMAC-SHA256 under the commitment key, of
    /// `purpose_label` ‖ 0x00 ‖ `data`. The commitment key is HKDF-SHA256 of the data key
    /// with salt `consentry vault v1` and info `commitment`.
    ///
    /// Deterministic for one subject, so the holder of the key can show that a log entry
    /// commits to given data; different for every subject, so equal data does not link two
    /// people; and once the data key is destroyed, nobody can link the commitment to the
    /// person. Labels are fixed names and must not contain NUL.
    pub fn commitment(&self, purpose_label: &str, data: &[u8]) -> String {
        debug_assert!(
            !purpose_label.contains('\0'),
            "a commitment label must not contain NUL"
        );
        consentry_core::disclosure::commitment(&self.commitment_key(), purpose_label, data)
    }

    /// The subject's commitment key: what a disclosure hands over as the *opening* of its
    /// commitments (`consentry.disclosure/v1`). It opens every commitment of the subject.
    pub fn commitment_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        hkdf_sha256::<KEY_LEN>(SALT, &self.0, &[COMMITMENT_INFO])
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize_email;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;
    use std::collections::BTreeMap;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(42)
    }

    fn tenant(s: &str) -> TenantId {
        TenantId::from_suffix(s).unwrap()
    }

    fn subject(s: &str) -> SubjectId {
        SubjectId::from_suffix(s).unwrap()
    }

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    fn identity() -> Identity {
        Identity {
            email: "alice.liddell@example.com".into(),
            name: Some("Alice Liddell".into()),
            address: Some("7 Christ Church Meadow, Oxford".into()),
            phone: Some("+44 1865 000000".into()),
            fields: BTreeMap::from([("date_of_birth".into(), "1852-05-04".into())]),
        }
    }

    #[test]
    fn master_key_base64_round_trip() {
        let key = MasterKey::generate(&mut rng());
        let text = key.to_base64();
        let back = MasterKey::from_base64(&format!("{}\n", text.as_str())).unwrap();
        assert_eq!(key.0, back.0);
        assert_eq!(
            MasterKey::from_bytes([0; 32]).to_base64().as_str(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        );
    }

    #[test]
    fn bad_master_keys_are_refused() {
        for text in [
            "",
            "not base64!",
            "AAAA",
            &BASE64.encode([0u8; 31]),
            &BASE64.encode([0u8; 33]),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // unpadded
        ] {
            assert_eq!(
                MasterKey::from_base64(text).unwrap_err(),
                VaultError::BadKey,
                "{text:?}"
            );
        }
    }

    #[test]
    fn link_tokens_depend_on_key_kind_and_id() {
        let a = MasterKey::from_bytes([1; 32]);
        let b = MasterKey::from_bytes([2; 32]);
        assert_eq!(
            a.link_token("consent-request", "req_1"),
            a.link_token("consent-request", "req_1")
        );
        assert_ne!(
            a.link_token("consent-request", "req_1"),
            a.link_token("consent-request", "req_2")
        );
        assert_ne!(
            a.link_token("consent-request", "req_1"),
            a.link_token("portal", "req_1")
        );
        assert_ne!(
            a.link_token("consent-request", "req_1"),
            b.link_token("consent-request", "req_1")
        );
    }

    #[test]
    fn tenant_keys_follow_the_documented_derivation() {
        // Recomputed with the hkdf crate directly from the documented strings, so a change
        // of salt, info or order cannot pass unnoticed.
        let m = master(1);
        let keys = m.tenant_keys(&tenant("acme"));
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"consentry vault v1"), &[1; 32]);
        let mut kek = [0u8; 32];
        hk.expand(b"kek\0ten_acme", &mut kek).unwrap();
        let mut bik = [0u8; 32];
        hk.expand(b"blind-index\0ten_acme", &mut bik).unwrap();
        assert_eq!(keys.kek, kek);
        assert_eq!(keys.blind_index_key, bik);
        assert_ne!(kek, bik);
        assert_eq!(keys.tenant(), &tenant("acme"));
    }

    #[test]
    fn subject_key_and_identity_round_trip() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = master(1).tenant_keys(&t);
        let (dek, wrapped) = keys.new_subject_key(&mut rng, &s);
        assert_eq!(wrapped.as_bytes().len(), WRAPPED_LEN);
        assert_eq!(wrapped.as_bytes()[0], VERSION);

        let stored = WrappedKey::from_bytes(wrapped.clone().into_bytes());
        let again = keys.unwrap_subject_key(&s, &stored).unwrap();
        assert_eq!(dek.0, again.0);

        let sealed = dek.seal(&mut rng, &t, &s, &identity());
        assert_eq!(sealed[0], VERSION);
        assert_eq!(again.open(&t, &s, &sealed).unwrap(), identity());

        // Random nonces: sealing twice gives different bytes that open to the same data.
        let sealed2 = dek.seal(&mut rng, &t, &s, &identity());
        assert_ne!(sealed, sealed2);
        assert_eq!(dek.open(&t, &s, &sealed2).unwrap(), identity());
        let (_, wrapped2) = keys.new_subject_key(&mut rng, &s);
        assert_ne!(wrapped, wrapped2);
    }

    #[test]
    fn empty_and_unicode_identities_round_trip() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let (dek, _) = master(1).tenant_keys(&t).new_subject_key(&mut rng, &s);
        let mut id = Identity::new("");
        id.name = Some("Zoë \"Ω\" O'Brien\n🙂".into());
        id.fields.insert("é".into(), String::new());
        let sealed = dek.seal(&mut rng, &t, &s, &id);
        assert_eq!(dek.open(&t, &s, &sealed).unwrap(), id);
    }

    #[test]
    fn wrong_tenant_or_subject_fails_to_unwrap() {
        let mut rng = rng();
        let m = master(1);
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = m.tenant_keys(&t);
        let (_, wrapped) = keys.new_subject_key(&mut rng, &s);
        assert_eq!(
            keys.unwrap_subject_key(&subject("2"), &wrapped)
                .unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            m.tenant_keys(&tenant("other"))
                .unwrap_subject_key(&s, &wrapped)
                .unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            master(2)
                .tenant_keys(&t)
                .unwrap_subject_key(&s, &wrapped)
                .unwrap_err(),
            VaultError::Decrypt
        );
    }

    #[test]
    fn wrong_tenant_or_subject_fails_to_open() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = master(1).tenant_keys(&t);
        let (dek, _) = keys.new_subject_key(&mut rng, &s);
        let sealed = dek.seal(&mut rng, &t, &s, &identity());
        assert_eq!(
            dek.open(&t, &subject("2"), &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            dek.open(&tenant("other"), &s, &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        let (other_dek, _) = keys.new_subject_key(&mut rng, &s);
        assert_eq!(
            other_dek.open(&t, &s, &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        // A wrapped key is not a sealed identity, even under the right key bytes.
        let wrapped = keys.wrap(&mut rng, &s, &dek);
        let as_identity_key = SubjectKey(keys.kek);
        assert_eq!(
            as_identity_key
                .open(&t, &s, wrapped.as_bytes())
                .unwrap_err(),
            VaultError::Decrypt
        );
    }

    #[test]
    fn tampering_anywhere_is_detected() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = master(1).tenant_keys(&t);
        let (dek, wrapped) = keys.new_subject_key(&mut rng, &s);
        let sealed = dek.seal(&mut rng, &t, &s, &identity());

        // Every byte after the version: nonce, ciphertext and tag.
        for i in 1..wrapped.as_bytes().len() {
            let mut bytes = wrapped.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            assert_eq!(
                keys.unwrap_subject_key(&s, &WrappedKey::from_bytes(bytes))
                    .unwrap_err(),
                VaultError::Decrypt,
                "byte {i}"
            );
        }
        for i in 1..sealed.len() {
            let mut bytes = sealed.clone();
            bytes[i] ^= 0x80;
            assert_eq!(
                dek.open(&t, &s, &bytes).unwrap_err(),
                VaultError::Decrypt,
                "byte {i}"
            );
        }
    }

    #[test]
    fn malformed_and_unknown_versions_are_told_apart() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = master(1).tenant_keys(&t);
        let (dek, wrapped) = keys.new_subject_key(&mut rng, &s);
        let unwrap = |bytes: Vec<u8>| keys.unwrap_subject_key(&s, &WrappedKey::from_bytes(bytes));

        assert!(matches!(unwrap(vec![]), Err(VaultError::Malformed(_))));
        let mut short = wrapped.as_bytes().to_vec();
        short.pop();
        assert!(matches!(unwrap(short), Err(VaultError::Malformed(_))));
        let mut long = wrapped.as_bytes().to_vec();
        long.push(0);
        assert!(matches!(unwrap(long), Err(VaultError::Malformed(_))));
        let mut v2 = wrapped.as_bytes().to_vec();
        v2[0] = 2;
        assert_eq!(unwrap(v2).unwrap_err(), VaultError::UnknownVersion(2));

        let mut sealed = dek.seal(&mut rng, &t, &s, &identity());
        sealed[0] = 9;
        assert_eq!(
            dek.open(&t, &s, &sealed).unwrap_err(),
            VaultError::UnknownVersion(9)
        );
        assert!(matches!(
            dek.open(&t, &s, &[1; 10]),
            Err(VaultError::Malformed(_))
        ));

        // Authentic but not an identity: refused as malformed, without quoting it.
        let not_json = primitives::seal(&dek.0, &mut rng, IDENTITY_LABEL, &t, &s, 24, |out| {
            out.extend_from_slice(b"\"alice@example.com-xyz!\"")
        });
        let err = dek.open(&t, &s, &not_json).unwrap_err();
        assert!(matches!(err, VaultError::Malformed(_)));
        assert!(!err.to_string().contains("alice"), "{err}");
    }

    #[test]
    fn documents_round_trip_and_open_for_their_subject_only() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let keys = master(1).tenant_keys(&t);
        let (dek, _) = keys.new_subject_key(&mut rng, &s);
        let file = b"%PDF-1.7 signed paper form \x00\xff".to_vec();
        let sealed = dek.seal_document(&mut rng, &t, &s, &file);
        assert_eq!(sealed.len(), HEADER_LEN + file.len() + TAG_LEN);
        assert!(
            !sealed.windows(10).any(|w| w == &file[..10]),
            "not in clear"
        );
        assert_eq!(
            dek.open_document(&t, &s, &sealed).unwrap().as_slice(),
            &file[..]
        );
        assert_eq!(
            dek.open_document(&t, &s, &dek.seal_document(&mut rng, &t, &s, b""))
                .unwrap()
                .len(),
            0
        );
        // Another subject (with its own key, or even this key under its name), another
        // tenant, and the identity label all fail.
        let (other, _) = keys.new_subject_key(&mut rng, &subject("2"));
        assert_eq!(
            other.open_document(&t, &subject("2"), &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            other.open_document(&t, &s, &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            dek.open_document(&t, &subject("2"), &sealed).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            dek.open_document(&tenant("other"), &s, &sealed)
                .unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(dek.open(&t, &s, &sealed).unwrap_err(), VaultError::Decrypt);
        let identity = dek.seal(&mut rng, &t, &s, &identity());
        assert_eq!(
            dek.open_document(&t, &s, &identity).unwrap_err(),
            VaultError::Decrypt
        );
    }

    #[test]
    fn blind_index_is_per_master_key_and_per_tenant() {
        let email = normalize_email("alice@example.com").unwrap();
        let a = master(1).tenant_keys(&tenant("acme")).blind_index(&email);
        let b = master(2).tenant_keys(&tenant("acme")).blind_index(&email);
        let c = master(1).tenant_keys(&tenant("other")).blind_index(&email);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            master(1).tenant_keys(&tenant("acme")).blind_index(&email)
        );
        let d = master(1)
            .tenant_keys(&tenant("acme"))
            .blind_index(&normalize_email("bob@example.com").unwrap());
        assert_ne!(a, d);
    }

    #[test]
    fn blind_index_matches_across_case_and_padding_after_normalising() {
        let keys = master(1).tenant_keys(&tenant("acme"));
        let index = |raw: &str| keys.blind_index(&normalize_email(raw).unwrap());
        let expected = index("alice@example.com");
        for raw in [
            "Alice@Example.com",
            "  ALICE@EXAMPLE.COM",
            "alice@example.com\n",
            "\t aLiCe@eXaMpLe.CoM \r\n",
        ] {
            assert_eq!(index(raw), expected, "{raw:?}");
        }
        // It is HMAC-SHA256 of the normalised address under the blind-index key.
        assert_eq!(
            expected,
            hmac_sha256(&keys.blind_index_key, &[b"alice@example.com"])
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "normalised")]
    fn blind_index_of_a_raw_address_is_caught_in_debug_builds() {
        master(1)
            .tenant_keys(&tenant("acme"))
            .blind_index(" Alice@Example.com");
    }

    #[test]
    fn commitment_is_deterministic_per_key_and_differs_across_subjects() {
        let mut rng = rng();
        let keys = master(1).tenant_keys(&tenant("acme"));
        let (dek1, wrapped1) = keys.new_subject_key(&mut rng, &subject("1"));
        let (dek2, _) = keys.new_subject_key(&mut rng, &subject("2"));
        let address = b"7 Christ Church Meadow, Oxford";

        let c = dek1.commitment("address", address);
        assert_eq!(c.len(), 64);
        assert!(
            c.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(c, dek1.commitment("address", address));
        // The same key unwrapped later commits identically.
        let again = keys.unwrap_subject_key(&subject("1"), &wrapped1).unwrap();
        assert_eq!(c, again.commitment("address", address));
        // Another subject, another label or other data: another commitment.
        assert_ne!(c, dek2.commitment("address", address));
        assert_ne!(c, dek1.commitment("evidence", address));
        assert_ne!(
            c,
            dek1.commitment("address", b"8 Christ Church Meadow, Oxford")
        );
        // The label separator keeps label and data apart.
        assert_ne!(dek1.commitment("ab", b"c"), dek1.commitment("a", b"bc"));

        // As documented: HMAC-SHA256(HKDF(DEK, "commitment"), label ‖ 0 ‖ data).
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"consentry vault v1"), &dek1.0);
        let mut ck = [0u8; 32];
        hk.expand(b"commitment", &mut ck).unwrap();
        assert_eq!(c, hex::encode(hmac_sha256(&ck, &[b"address\0", address])));
    }

    #[test]
    fn rewrap_moves_to_the_new_master_key_only() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let old = master(1).tenant_keys(&t);
        let new = master(2).tenant_keys(&t);
        let (dek, wrapped) = old.new_subject_key(&mut rng, &s);
        let sealed = dek.seal(&mut rng, &t, &s, &identity());
        let commitment = dek.commitment("address", b"x");

        let rewrapped = rewrap(&mut rng, &old, &new, &s, &wrapped).unwrap();
        assert_ne!(rewrapped, wrapped);
        let recovered = new.unwrap_subject_key(&s, &rewrapped).unwrap();
        assert_eq!(recovered.0, dek.0);
        // Data sealed before the rotation still opens; commitments are unchanged.
        assert_eq!(recovered.open(&t, &s, &sealed).unwrap(), identity());
        assert_eq!(recovered.commitment("address", b"x"), commitment);
        // The old KEK cannot unwrap the new form, nor the new KEK the old one.
        assert_eq!(
            old.unwrap_subject_key(&s, &rewrapped).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            new.unwrap_subject_key(&s, &wrapped).unwrap_err(),
            VaultError::Decrypt
        );
        // Rewrapping from the wrong key, for the wrong subject, or across tenants fails.
        assert_eq!(
            rewrap(&mut rng, &new, &old, &s, &wrapped).unwrap_err(),
            VaultError::Decrypt
        );
        assert_eq!(
            rewrap(&mut rng, &old, &new, &subject("2"), &wrapped).unwrap_err(),
            VaultError::Decrypt
        );
        let elsewhere = master(2).tenant_keys(&tenant("other"));
        assert_eq!(
            rewrap(&mut rng, &old, &elsewhere, &s, &wrapped).unwrap_err(),
            VaultError::TenantMismatch
        );
    }

    #[test]
    fn debug_of_secrets_shows_no_key_bytes_and_no_identity_values() {
        let mut rng = rng();
        let (t, s) = (tenant("acme"), subject("1"));
        let m = MasterKey::from_bytes([0xab; 32]);
        let keys = m.tenant_keys(&t);
        let (dek, wrapped) = keys.new_subject_key(&mut rng, &s);

        let forbidden_for = |bytes: &[u8]| {
            vec![
                hex::encode(bytes),
                hex::encode_upper(bytes),
                BASE64.encode(bytes),
                format!("{:?}", &bytes[..4])
                    .trim_end_matches(']')
                    .to_owned(),
                format!("{:x?}", &bytes[..4])
                    .trim_end_matches(']')
                    .to_owned(),
            ]
        };
        let mut forbidden = Vec::new();
        for key in [&m.0, &keys.kek, &keys.blind_index_key, &dek.0] {
            forbidden.extend(forbidden_for(key));
        }
        let id = identity();
        forbidden.extend(
            [
                id.email.as_str(),
                "Alice Liddell",
                "Christ Church",
                "+44",
                "1852-05-04",
            ]
            .map(str::to_owned),
        );

        let shown = [
            format!("{m:?}"),
            format!("{m:#?}"),
            format!("{keys:?}"),
            format!("{keys:#?}"),
            format!("{dek:?}"),
            format!("{dek:#?}"),
            format!("{wrapped:?}"),
            format!("{id:?}"),
            format!("{id:#?}"),
        ];
        for text in &shown {
            for needle in &forbidden {
                assert!(!text.contains(needle.as_str()), "{needle:?} in {text}");
            }
        }
        assert_eq!(shown[0], "MasterKey(<redacted>)");
        assert_eq!(shown[2], "TenantKeys(ten_acme, <redacted>)");
        assert_eq!(shown[4], "SubjectKey(<redacted>)");
        assert_eq!(shown[6], "WrappedKey(v1, 73 bytes)");
    }

    #[test]
    fn keys_and_identities_are_zeroized_on_drop() {
        fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
        zeroized_on_drop::<MasterKey>();
        zeroized_on_drop::<TenantKeys>();
        zeroized_on_drop::<SubjectKey>();
        // Identity's hand-written `Drop` runs `wipe`.
        let mut id = identity();
        id.wipe();
        assert!(id.email.is_empty() && id.name.is_none() && id.phone.is_none());
        assert!(id.address.is_none() && id.fields.is_empty());
    }

    #[test]
    fn version_1_data_written_earlier_still_opens() {
        // Regression vectors written by this crate's first release (master key 00 01 … 1f,
        // tenant ten_acme, subject sub_7k2m). If this fails, stored data no longer opens:
        // change the format only with a new version byte, never in place.
        let m = MasterKey::from_bytes(std::array::from_fn(|i| i as u8));
        let (t, s) = (tenant("acme"), subject("7k2m"));
        let keys = m.tenant_keys(&t);
        assert_eq!(
            hex::encode(keys.blind_index("alice@example.com")),
            "d9674580fe57bac38afe33495a6fbc4e197bbe7280837e8e504aeabf750a55d9"
        );
        let wrapped = WrappedKey::from_bytes(
            hex::decode(
                "01332fa28eca69111b4e09c76d77ac068574364632cd2728f60fc03a03282cf5c8bc07672ceb35\
                 296a5629ec9500280e507697888a26e06f8d440e445af8a975a622cf587700204162",
            )
            .unwrap(),
        );
        let dek = keys.unwrap_subject_key(&s, &wrapped).unwrap();
        let sealed = hex::decode(
            "010b6cbbf2a1ed388cce5368b180b44cea9938b197a2eb5dee4e814c073c27f4963e57fff3f71488\
             7cf6ac7b77831273498df64900c317f28421e364cbebbe2854b453c6faf2e8c5916b7925ecf1d2b1\
             cea970ef8e",
        )
        .unwrap();
        let mut expected = Identity::new("alice@example.com");
        expected.name = Some("Alice".into());
        assert_eq!(dek.open(&t, &s, &sealed).unwrap(), expected);
        assert_eq!(
            dek.commitment("address", b"1 Main St"),
            "6d4e3ab912e872cbc18b66444706a0985596b5667b807e495135576ee6b919e9"
        );
    }
}
