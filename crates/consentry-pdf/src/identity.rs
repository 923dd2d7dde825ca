//! The seal's identity: an X.509 certificate chain and the private key of its first
//! certificate, the certificate a reader's PDF software shows as "sealed by".
//!
//! An operator configures the seal certificate a CA issued to it (ECDSA P-256 or RSA, the
//! key types qualified seal certificates use), as PEM files. With none configured, the
//! service makes a **self-issued** one at first start: a small CA of its own signs a seal
//! certificate, and the CA's private key is dropped at once, so that nobody — the operator
//! included — can issue a second certificate under it later; the CA certificate is the
//! trust root a reader imports. A self-issued seal is never a qualified seal, and the page
//! says so: a seal counts as qualified only when its certificate carries the ETSI
//! `QcCompliance` statement (ETSI EN 319 412-5), and even then only the reader's own trust
//! list can confirm it.

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::Sha256;
use signature::Signer;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::str::FromStr;
use std::time::Duration;
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

/// Why a seal identity could not be loaded, made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The certificate file holds no certificate, or one that does not parse.
    #[error("seal certificate file: {0}")]
    Certificate(String),
    /// The key file is neither a PKCS#8, SEC 1 (EC) nor PKCS#1 (RSA) private key.
    #[error("seal key file: {0}")]
    Key(String),
    /// The private key is not the key of the first certificate of the chain.
    #[error("the seal key is not the key of the seal certificate (the first of the chain)")]
    KeyMismatch,
    /// The certificate's key usage allows neither digital signatures nor non-repudiation.
    #[error("the seal certificate's key usage allows neither digitalSignature nor nonRepudiation")]
    KeyUsage,
    /// Making the self-issued certificates failed.
    #[error("making the self-issued seal certificate: {0}")]
    Issue(String),
    /// The key could not sign.
    #[error("the seal key could not sign: {0}")]
    Sign(String),
}

/// The private key of a seal: the key types seal certificates are issued for.
enum SealKey {
    /// ECDSA on P-256 with SHA-256.
    P256(p256::ecdsa::SigningKey),
    /// RSA PKCS#1 v1.5 with SHA-256.
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>, rsa::RsaPrivateKey),
}

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-pe-qcStatements (RFC 3739).
const QC_STATEMENTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.3");
/// id-etsi-qcs-QcCompliance (ETSI EN 319 412-5).
const QC_COMPLIANCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.1");

impl SealKey {
    fn from_pem(pem: &str) -> Result<SealKey, IdentityError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SealKey::P256(k));
        }
        if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
            return Ok(SealKey::P256(k.into()));
        }
        let rsa_key = {
            use rsa::pkcs1::DecodeRsaPrivateKey as _;
            rsa::RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        };
        match rsa_key {
            Ok(k) => Ok(SealKey::Rsa(
                Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(k.clone())),
                k,
            )),
            Err(_) => Err(IdentityError::Key(
                "not an ECDSA P-256 or RSA private key in PEM (PKCS#8, SEC 1 or PKCS#1)".into(),
            )),
        }
    }

    fn public_key_info(&self) -> Result<Vec<u8>, IdentityError> {
        let der = match self {
            SealKey::P256(k) => k.verifying_key().to_public_key_der(),
            SealKey::Rsa(_, k) => k.to_public_key().to_public_key_der(),
        }
        .map_err(|e| IdentityError::Key(e.to_string()))?;
        Ok(der.as_bytes().to_vec())
    }

    fn to_pem(&self) -> Result<Zeroizing<String>, IdentityError> {
        match self {
            SealKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            SealKey::Rsa(_, k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| IdentityError::Key(e.to_string()))
    }

    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        match self {
            SealKey::P256(_) => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            SealKey::Rsa(..) => AlgorithmIdentifierOwned {
                oid: SHA256_WITH_RSA,
                parameters: Some(der::asn1::Null.into()),
            },
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IdentityError> {
        match self {
            SealKey::P256(k) => {
                let sig: p256::ecdsa::DerSignature = k
                    .try_sign(message)
                    .map_err(|e| IdentityError::Sign(e.to_string()))?;
                Ok(sig.as_bytes().to_vec())
            }
            SealKey::Rsa(k, _) => {
                use signature::SignatureEncoding as _;
                let sig = k
                    .try_sign(message)
                    .map_err(|e| IdentityError::Sign(e.to_string()))?;
                Ok(sig.to_vec())
            }
        }
    }
}

/// A seal: the certificate chain (seal certificate first) and the seal certificate's key.
pub struct SealIdentity {
    key: SealKey,
    chain: Vec<Certificate>,
    chain_der: Vec<Vec<u8>>,
    qualified: bool,
    self_issued: bool,
}

impl std::fmt::Debug for SealIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealIdentity")
            .field("holder", &self.holder())
            .field("chain", &self.chain.len())
            .field("qualified", &self.qualified)
            .field("self_issued", &self.self_issued)
            .finish_non_exhaustive()
    }
}

impl SealIdentity {
    /// Loads a configured seal: `chain_pem` holds the seal certificate then any
    /// intermediate CA certificates, `key_pem` the seal certificate's private key.
    ///
    /// # Errors
    /// A file that does not parse, a key that is not the certificate's, or a certificate
    /// whose key usage forbids signing.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<SealIdentity, IdentityError> {
        Self::load(chain_pem, key_pem, false)
    }

    /// Loads the self-issued seal [`SealIdentity::self_issued`] made earlier and saved
    /// with [`SealIdentity::chain_pem`] and [`SealIdentity::key_pem`].
    ///
    /// # Errors
    /// As [`SealIdentity::from_pem`].
    pub fn self_issued_from_pem(
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<SealIdentity, IdentityError> {
        Self::load(chain_pem, key_pem, true)
    }

    fn load(chain_pem: &str, key_pem: &str, self_issued: bool) -> Result<Self, IdentityError> {
        let chain = Certificate::load_pem_chain(chain_pem.as_bytes())
            .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        let Some(leaf) = chain.first() else {
            return Err(IdentityError::Certificate(
                "no certificate in the file".into(),
            ));
        };
        let key = SealKey::from_pem(key_pem)?;
        let leaf_spki = leaf
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        if leaf_spki != key.public_key_info()? {
            return Err(IdentityError::KeyMismatch);
        }
        let mut qualified = false;
        for ext in leaf.tbs_certificate.extensions.iter().flatten() {
            if ext.extn_id == const_oid::db::rfc5280::ID_CE_KEY_USAGE {
                let usage = KeyUsage::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| IdentityError::Certificate(e.to_string()))?;
                if !usage.digital_signature() && !usage.non_repudiation() {
                    return Err(IdentityError::KeyUsage);
                }
            }
            if ext.extn_id == QC_STATEMENTS {
                qualified = has_qc_compliance(ext.extn_value.as_bytes());
            }
        }
        let chain_der = chain
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| IdentityError::Certificate(e.to_string()))?;
        Ok(SealIdentity {
            key,
            chain,
            chain_der,
            qualified: qualified && !self_issued,
            self_issued,
        })
    }

    /// Makes a self-issued seal for `holder` (the service's name, e.g. its log origin):
    /// a CA certificate valid 20 years, used once to issue an ECDSA P-256 seal certificate
    /// valid 10 years, both from `now_unix`; the CA's private key is dropped when this
    /// returns. `seed` (64 random bytes) makes the keys and serial numbers.
    ///
    /// # Errors
    /// [`IdentityError::Issue`] if the certificates cannot be built (a holder name that
    /// is not a valid X.500 value).
    pub fn self_issued(
        holder: &str,
        now_unix: u64,
        seed: &[u8; 64],
    ) -> Result<SealIdentity, IdentityError> {
        let issue = |e: &dyn std::fmt::Display| IdentityError::Issue(e.to_string());
        let holder = clean_holder(holder);
        // Every secret and serial number comes from the seed under its own label.
        let derive = |label: &str| {
            use sha2::Digest as _;
            let mut h = Sha256::new();
            h.update(label.as_bytes());
            h.update(seed);
            <[u8; 32]>::from(h.finalize())
        };
        let ca_key = p256::ecdsa::SigningKey::from_slice(&derive("consentry seal CA key"))
            .map_err(|e| issue(&e))?;
        let seal_key = p256::ecdsa::SigningKey::from_slice(&derive("consentry seal key"))
            .map_err(|e| issue(&e))?;
        let start = Duration::from_secs(now_unix.saturating_sub(60));
        let validity = |years: u64| -> Result<Validity, IdentityError> {
            Ok(Validity {
                not_before: Time::GeneralTime(
                    der::asn1::GeneralizedTime::from_unix_duration(start).map_err(|e| issue(&e))?,
                ),
                not_after: Time::GeneralTime(
                    der::asn1::GeneralizedTime::from_unix_duration(
                        start + Duration::from_secs(years * 365 * 86_400),
                    )
                    .map_err(|e| issue(&e))?,
                ),
            })
        };
        let serial = |part: &[u8]| {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&part[..16]);
            bytes[0] &= 0x7f;
            bytes[0] |= 0x01;
            SerialNumber::new(&bytes).map_err(|e| issue(&e))
        };
        let spki =
            |k: &p256::ecdsa::SigningKey| -> Result<SubjectPublicKeyInfoOwned, IdentityError> {
                SubjectPublicKeyInfoOwned::from_key(*k.verifying_key()).map_err(|e| issue(&e))
            };
        let ca_name = Name::from_str(&format!("CN={holder} seal CA (self-issued),O=Consentry"))
            .map_err(|e| issue(&e))?;
        let seal_name = Name::from_str(&format!("CN={holder} (self-issued seal),O=Consentry"))
            .map_err(|e| issue(&e))?;
        let ca = CertificateBuilder::new(
            Profile::Root,
            serial(&derive("consentry seal CA serial"))?,
            validity(20)?,
            ca_name.clone(),
            spki(&ca_key)?,
            &ca_key,
        )
        .map_err(|e| issue(&e))?
        .build::<p256::ecdsa::DerSignature>()
        .map_err(|e| issue(&e))?;
        let seal = CertificateBuilder::new(
            Profile::Leaf {
                issuer: ca_name,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            serial(&derive("consentry seal serial"))?,
            validity(10)?,
            seal_name,
            spki(&seal_key)?,
            &ca_key,
        )
        .map_err(|e| issue(&e))?
        .build::<p256::ecdsa::DerSignature>()
        .map_err(|e| issue(&e))?;
        drop(ca_key);
        let chain_der = [&seal, &ca]
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| issue(&e))?;
        Ok(SealIdentity {
            key: SealKey::P256(seal_key),
            chain: vec![seal, ca],
            chain_der,
            qualified: false,
            self_issued: true,
        })
    }

    /// The seal certificate's subject common name (or its whole subject when it has none):
    /// the name a reader sees as the sealer.
    pub fn holder(&self) -> String {
        let subject = &self.chain[0].tbs_certificate.subject;
        for rdn in subject.0.iter() {
            for atv in rdn.0.iter() {
                if atv.oid == const_oid::db::rfc4519::CN {
                    if let Ok(s) = der::asn1::Utf8StringRef::try_from(&atv.value) {
                        return s.as_str().to_owned();
                    }
                    if let Ok(s) = der::asn1::PrintableStringRef::try_from(&atv.value) {
                        return s.as_str().to_owned();
                    }
                }
            }
        }
        subject.to_string()
    }

    /// Whether the seal certificate claims to be qualified (the ETSI `QcCompliance`
    /// statement); never for a self-issued seal.
    pub fn is_qualified(&self) -> bool {
        self.qualified
    }

    /// Whether this seal was self-issued by the service.
    pub fn is_self_issued(&self) -> bool {
        self.self_issued
    }

    /// The chain as PEM: the seal certificate first, then its issuers as configured (for
    /// a self-issued seal, the CA certificate a reader imports as trust root is last).
    pub fn chain_pem(&self) -> Result<String, IdentityError> {
        let mut out = String::new();
        for der in &self.chain_der {
            out.push_str(
                &der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
                    .map_err(|e| IdentityError::Certificate(e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// The seal key as PKCS#8 PEM, to be saved with restricted permissions.
    pub fn key_pem(&self) -> Result<Zeroizing<String>, IdentityError> {
        self.key.to_pem()
    }

    /// The seal certificate (the first of the chain).
    pub(crate) fn seal_certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// Every certificate of the chain, DER, seal certificate first.
    pub(crate) fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    pub(crate) fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.key.algorithm()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IdentityError> {
        self.key.sign(message)
    }
}

/// A holder name fit for an RFC 4514 string: characters that would need escaping go.
fn clean_holder(holder: &str) -> String {
    let cleaned: String = holder
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '/' | ':' | '_'))
        .take(48)
        .collect();
    match cleaned.trim() {
        "" => "Consentry".to_owned(),
        s => s.to_owned(),
    }
}

/// Whether a `QCStatements` extension value holds the `QcCompliance` statement.
fn has_qc_compliance(value: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct QcStatement {
        id: ObjectIdentifier,
        info: Option<der::Any>,
    }
    Vec::<QcStatement>::from_der(value)
        .map(|statements| statements.iter().any(|s| s.id == QC_COMPLIANCE))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_issued_seal_round_trips_through_pem() {
        let id =
            SealIdentity::self_issued("consentry.example/log", 1_790_000_000, &[7; 64]).unwrap();
        assert!(id.is_self_issued() && !id.is_qualified());
        assert_eq!(id.holder(), "consentry.example/log (self-issued seal)");
        let again =
            SealIdentity::self_issued_from_pem(&id.chain_pem().unwrap(), &id.key_pem().unwrap())
                .unwrap();
        assert_eq!(again.chain_der(), id.chain_der());
        assert_eq!(again.chain.len(), 2);
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let a = SealIdentity::self_issued("a", 1_790_000_000, &[7; 64]).unwrap();
        let b = SealIdentity::self_issued("b", 1_790_000_000, &[9; 64]).unwrap();
        let err =
            SealIdentity::from_pem(&a.chain_pem().unwrap(), &b.key_pem().unwrap()).unwrap_err();
        assert!(matches!(err, IdentityError::KeyMismatch), "{err}");
        assert!(matches!(
            SealIdentity::from_pem("no", "no"),
            Err(IdentityError::Certificate(_))
        ));
    }
}
