//! The three primitives the vault is built from, each behind one small function, and the
//! envelope byte format they produce.
//!
//! Every key derivation, MAC and encryption in the crate goes through here, so the
//! known-answer tests at the bottom (RFC 5869, RFC 4231, the XChaCha20-Poly1305 draft)
//! pin exactly the code paths the vault uses, not a parallel copy of them.
//!
//! # Envelope
//!
//! Wrapped keys and sealed identities share one layout:
//!
//! ```text
//! version (1 byte, 0x01) ‖ nonce (24 random bytes) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16 bytes)
//! ```
//!
//! and one shape of associated data, which binds the ciphertext to what it is and whose it
//! is, so that a blob copied to another subject, another tenant or another column fails
//! authentication instead of opening:
//!
//! ```text
//! label ‖ 0x00 ‖ version ‖ tenant ID ‖ 0x00 ‖ subject ID
//! ```
//!
//! The labels are [`DEK_LABEL`], [`IDENTITY_LABEL`] and [`DOCUMENT_LABEL`]. IDs are `[0-9a-z_]` only
//! (`consentry_core::ids`), so the NUL separators make the encoding unambiguous. The nonce
//! is random: 192 bits make a collision negligible however many blobs one key seals, which
//! is why XChaCha20 rather than ChaCha20's 96-bit nonce.
//!
//! Several operations below cannot fail for the inputs this crate gives them but are
//! typed as fallible by their crates; [`infallible`] names each such place and why, instead
//! of scattering `unwrap`.

use chacha20poly1305::aead::AeadInPlace as _;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use consentry_core::ids::{SubjectId, TenantId};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::VaultError;

/// The only envelope version so far.
pub(crate) const VERSION: u8 = 1;
/// The HKDF salt of every derivation in the vault.
pub(crate) const SALT: &[u8] = b"consentry vault v1";
/// Associated-data label of a wrapped data key.
pub(crate) const DEK_LABEL: &[u8] = b"consentry.vault.dek";
/// Associated-data label of a sealed identity.
pub(crate) const IDENTITY_LABEL: &[u8] = b"consentry.vault.identity";
/// Associated-data label of a sealed document (an evidence file).
pub(crate) const DOCUMENT_LABEL: &[u8] = b"consentry.vault.document";

pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
/// Version byte and nonce.
pub(crate) const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Unwraps a result whose error cannot happen, saying why in `why`.
///
/// Only for errors ruled out by construction (a fixed output length, a key type that
/// accepts any length), never for anything that depends on input data.
pub(crate) fn infallible<T, E>(result: Result<T, E>, why: &'static str) -> T {
    match result {
        Ok(value) => value,
        Err(_) => unreachable!("{why}"),
    }
}

/// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with the concatenation of `info`
/// into `N` bytes.
pub(crate) fn hkdf_sha256<const N: usize>(
    salt: &[u8],
    ikm: &[u8],
    info: &[&[u8]],
) -> Zeroizing<[u8; N]> {
    const { assert!(N <= 255 * 32, "HKDF-SHA256 yields at most 8160 bytes") };
    let mut okm = Zeroizing::new([0u8; N]);
    infallible(
        Hkdf::<Sha256>::new(Some(salt), ikm).expand_multi_info(info, okm.as_mut()),
        "HKDF-SHA256 output length is checked at compile time",
    );
    okm
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = infallible(
        <Hmac<Sha256> as Mac>::new_from_slice(key),
        "HMAC accepts keys of any length",
    );
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The associated data of an envelope (see the module documentation).
fn aad(label: &[u8], tenant: &TenantId, subject: &SubjectId) -> Vec<u8> {
    let mut aad =
        Vec::with_capacity(label.len() + 3 + tenant.as_str().len() + subject.as_str().len());
    aad.extend_from_slice(label);
    aad.push(0);
    aad.push(VERSION);
    aad.extend_from_slice(tenant.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(subject.as_str().as_bytes());
    aad
}

/// Seals `plaintext_len` bytes, written by `write_plaintext` straight into the output
/// buffer (so the plaintext is never copied elsewhere), into an envelope.
///
/// `write_plaintext` must append exactly the plaintext to the buffer it is given.
pub(crate) fn seal(
    key: &[u8; 32],
    rng: &mut (impl CryptoRngCore + ?Sized),
    label: &[u8],
    tenant: &TenantId,
    subject: &SubjectId,
    plaintext_len: usize,
    write_plaintext: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext_len + TAG_LEN);
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    write_plaintext(&mut out);
    debug_assert_eq!(
        out.len(),
        HEADER_LEN + plaintext_len,
        "plaintext length as announced"
    );
    let cipher = XChaCha20Poly1305::new(key.into());
    let tag = infallible(
        cipher.encrypt_in_place_detached(
            (&nonce).into(),
            &aad(label, tenant, subject),
            &mut out[HEADER_LEN..],
        ),
        "XChaCha20-Poly1305 only refuses messages over 256 GiB",
    );
    out.extend_from_slice(&tag);
    out
}

/// Opens an envelope made by [`seal`] with the same key, label, tenant and subject.
///
/// # Errors
///
/// [`VaultError::Malformed`] if it is too short to be an envelope,
/// [`VaultError::UnknownVersion`] if its version byte is not 1, [`VaultError::Decrypt`] if
/// authentication fails.
pub(crate) fn open(
    key: &[u8; 32],
    label: &[u8],
    tenant: &TenantId,
    subject: &SubjectId,
    envelope: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let Some((&version, rest)) = envelope.split_first() else {
        return Err(VaultError::Malformed("empty envelope"));
    };
    if version != VERSION {
        return Err(VaultError::UnknownVersion(version));
    }
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed("envelope shorter than nonce and tag"));
    }
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let cipher = XChaCha20Poly1305::new(key.into());
    // Poly1305 is checked before anything is decrypted: on failure `buffer` still holds
    // ciphertext only.
    cipher
        .decrypt_in_place_detached(
            nonce.into(),
            &aad(label, tenant, subject),
            &mut buffer,
            tag.into(),
        )
        .map_err(|_| VaultError::Decrypt)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;

    fn ids() -> (TenantId, SubjectId) {
        (
            TenantId::parse("ten_a").unwrap(),
            SubjectId::parse("sub_b").unwrap(),
        )
    }

    #[test]
    fn hkdf_sha256_rfc5869_test_case_1() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        // Split across two info parts to pin the concatenation too.
        let okm = hkdf_sha256::<42>(&salt, &ikm, &[&info[..3], &info[3..]]);
        assert_eq!(
            hex::encode(okm.as_ref()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        // The PRK of the same case, through the same crate.
        let (prk, _) = Hkdf::<Sha256>::extract(Some(&salt), &ikm);
        assert_eq!(
            hex::encode(prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
    }

    #[test]
    fn hmac_sha256_rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn xchacha20poly1305_draft_irtf_cfrg_xchacha_a_3_1() {
        // draft-irtf-cfrg-xchacha-03 §A.3.1, through the same in-place calls `seal` and
        // `open` make.
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let cipher = XChaCha20Poly1305::new((&key).into());
        let mut buffer = plaintext.to_vec();
        let tag = cipher
            .encrypt_in_place_detached((&nonce).into(), &aad, &mut buffer)
            .unwrap();
        assert_eq!(
            hex::encode(&buffer),
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
        );
        assert_eq!(hex::encode(tag), "c0875924c1c7987947deafd8780acf49");
        cipher
            .decrypt_in_place_detached((&nonce).into(), &aad, &mut buffer, &tag)
            .unwrap();
        assert_eq!(buffer, plaintext);
    }

    #[test]
    fn envelope_layout_and_round_trip() {
        let (tenant, subject) = ids();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = [9u8; 32];
        let sealed = seal(&key, &mut rng, DEK_LABEL, &tenant, &subject, 3, |b| {
            b.extend_from_slice(b"abc")
        });
        assert_eq!(sealed.len(), HEADER_LEN + 3 + TAG_LEN);
        assert_eq!(sealed[0], VERSION);
        let opened = open(&key, DEK_LABEL, &tenant, &subject, &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"abc");
        // The label is bound: the same blob does not open as the other kind.
        assert_eq!(
            open(&key, IDENTITY_LABEL, &tenant, &subject, &sealed),
            Err(VaultError::Decrypt)
        );
    }

    #[test]
    fn envelope_rejects_short_and_unknown_versions() {
        let (tenant, subject) = ids();
        let key = [9u8; 32];
        let open = |bytes: &[u8]| open(&key, DEK_LABEL, &tenant, &subject, bytes);
        assert!(matches!(open(&[]), Err(VaultError::Malformed(_))));
        assert!(matches!(open(&[1; 40]), Err(VaultError::Malformed(_))));
        assert_eq!(open(&[1; 41]), Err(VaultError::Decrypt));
        assert_eq!(open(&[2; 80]), Err(VaultError::UnknownVersion(2)));
        assert_eq!(open(&[0]), Err(VaultError::UnknownVersion(0)));
    }
}
