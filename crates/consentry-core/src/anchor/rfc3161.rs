//! RFC 3161 anchors: a time-stamp token, signed by a time-stamping authority (TSA), over
//! SHA-256 of a checkpoint body.
//!
//! A qualified eIDAS time-stamp enjoys a legal presumption of accuracy (eIDAS art. 41(2)),
//! so a checkpoint stamped by such a TSA is presumed to have existed at the stamped time,
//! and with it every proof the checkpoint includes. The token is kept whole, exactly as the
//! TSA signed it, so that anyone can re-check it with any RFC 3161 tool
//! (`openssl ts -verify`); this module is Consentry's own checker, written against
//! RFC 3161, RFC 5652 (CMS), RFC 2634/5035 (ESS signing-certificate) and RFC 5280.
//!
//! It is pure (no clock, no network, no file), because the same code runs in the
//! `consentry verify` command, in the service and in the browser. The protocol helpers
//! ([`build_request`], [`parse_response`]) live here too, so that the request the
//! service sends and the token it checks are encoded by one piece of code.
//!
//! What [`check_token`] does **not** check, on purpose: revocation (CRL/OCSP need the
//! network and a time; a verifier that needs them runs `openssl ts -verify` with
//! `-crl_check` or consults the EU trust list) and the current validity of the TSA
//! certificate (a token stays valid after its signer certificate expires; what matters
//! is that the certificate was valid at `genTime`).

use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitStringRef, Int, OctetString, Uint, UintRef, Utf8StringRef};
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber, Tagged};
use sha2::Digest as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

/// The `kind` of RFC 3161 anchor objects.
pub const KIND: &str = "rfc3161";

// Object identifiers, named as in their RFCs.
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_CE_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The largest RSA modulus accepted, in bits. Public TSA hierarchies use up to 4096-bit
/// keys; 8192 leaves room without letting a hostile token make verification slow.
const RSA_MAX_BITS: usize = 8192;

/// How many certificates a path from the signer to a trusted CA may hold, the signer and
/// the trusted CA included. Public TSAs use a root, one or two intermediates, the signer.
const MAX_PATH: usize = 5;

/// What a checked token says, for reports and for the copies an anchor object carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaFacts {
    /// `genTime`: when the TSA says it stamped the imprint (fractions beyond the
    /// millisecond are dropped, since proofs carry milliseconds).
    pub gen_time: Timestamp,
    /// The signer certificate's subject, as an RFC 4514 string.
    pub tsa_name: String,
    /// The token's serial number: lowercase hex of the unsigned integer, no leading zero
    /// bytes (`"00"` for zero).
    pub serial: String,
    /// The TSA policy under which the token was issued (dotted OID). A qualified TSA
    /// names its qualified policy here (e.g. ETSI EN 319 421's `0.4.0.2023.1.1`).
    pub policy: String,
    /// Whether the signer certificate was tied to a trusted CA.
    pub chain: TsaChain,
}

/// How far the signer certificate was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsaChain {
    /// The signer certificate is a configured trusted certificate, or is issued (possibly
    /// through intermediates the token carries) by one: `ca` is that trusted
    /// certificate's subject (RFC 4514).
    Trusted {
        /// The subject of the trusted certificate the path ends at.
        ca: String,
    },
    /// No trusted CA was given: the token's signature was checked against the
    /// certificate the token itself carries, which anyone could have made. Only a check
    /// against the TSA's CA makes the time trustworthy.
    NotChecked,
}

/// Why a token, a response or an anchor object was rejected: one variant per check, so
/// that a report says exactly which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rfc3161Error {
    /// The bytes are not DER of the expected ASN.1 structure (`what` names it).
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// The structure being decoded.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// The token's ContentInfo is not `id-signedData`.
    #[error("token content type is {0}, not id-signedData (1.2.840.113549.1.7.2)")]
    NotSignedData(String),
    /// The SignedData does not encapsulate a TSTInfo.
    #[error("encapsulated content type is {0}, not id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)")]
    NotTstInfo(String),
    /// The SignedData has no encapsulated content (a detached signature), so no TSTInfo.
    #[error("the token has no encapsulated TSTInfo")]
    NoTstInfo,
    /// TSTInfo version other than v1.
    #[error("TSTInfo version is {0}, not 1")]
    TstInfoVersion(u64),
    /// `genTime` is not `YYYYMMDDhhmmss[.f…]Z` or not a real instant between 1970 and 9999.
    #[error("TSTInfo genTime {0:?} is not a valid GeneralizedTime")]
    BadGenTime(String),
    /// The message imprint is not a SHA-256 hash.
    #[error("message imprint algorithm is {0}, not SHA-256 (2.16.840.1.101.3.4.2.1)")]
    ImprintAlgorithm(String),
    /// The token stamps another hash than the one expected (another checkpoint body).
    #[error("message imprint {found} is not the expected SHA-256 {expected}")]
    ImprintMismatch {
        /// Hex of the expected hash.
        expected: String,
        /// Hex of the token's imprint.
        found: String,
    },
    /// The request had a nonce and the token carries none (RFC 3161 §2.4.2: it MUST).
    #[error("the token has no nonce, but the request had one")]
    NonceMissing,
    /// The token's nonce is not the request's: an answer to another request (a replay).
    #[error("token nonce {found} differs from the request's {expected}")]
    NonceMismatch {
        /// Hex of the request's nonce.
        expected: String,
        /// Hex of the token's nonce.
        found: String,
    },
    /// RFC 3161 §2.4.2: the token is signed by the TSA alone, so exactly one SignerInfo.
    #[error("the token has {0} signer infos, not exactly one")]
    SignerCount(usize),
    /// The SignerInfo names a certificate that is neither in the token nor among the
    /// trusted CAs (a request made without `certReq`, or a tampered token).
    #[error("the signer certificate is neither in the token nor among the trusted CAs")]
    SignerCertificateNotFound,
    /// The signer certificate lacks the extended key usage extension.
    #[error(
        "the signer certificate has no extended key usage (RFC 3161 §2.3 requires id-kp-timeStamping)"
    )]
    NoTimeStampingUsage,
    /// RFC 3161 §2.3: the extended key usage extension MUST be critical.
    #[error("the signer certificate's extended key usage is not critical (RFC 3161 §2.3)")]
    TimeStampingUsageNotCritical,
    /// RFC 3161 §2.3: the extended key usage holds id-kp-timeStamping and only it.
    #[error(
        "the signer certificate's extended key usage is [{0}], not id-kp-timeStamping alone (RFC 3161 §2.3)"
    )]
    NotTimeStampingOnly(String),
    /// `genTime` is outside the signer certificate's validity period.
    #[error(
        "genTime {gen_time} is outside the signer certificate's validity ({not_before} to {not_after} UTC, Unix seconds)"
    )]
    GenTimeOutsideValidity {
        /// The token's genTime.
        gen_time: String,
        /// notBefore, in Unix seconds.
        not_before: u64,
        /// notAfter, in Unix seconds.
        not_after: u64,
    },
    /// RFC 5652 §5.3: with a non-data eContentType, signed attributes MUST be present.
    #[error("the signer info has no signed attributes")]
    NoSignedAttributes,
    /// The SignerInfo's digest algorithm is not one accepted.
    #[error("signer digest algorithm {0} is not SHA-256, SHA-384 or SHA-512")]
    UnsupportedDigest(String),
    /// The content-type signed attribute is missing, repeated, or not id-ct-TSTInfo.
    #[error("signed attribute content-type is missing, repeated or not id-ct-TSTInfo")]
    ContentTypeAttribute,
    /// The message-digest signed attribute is missing, repeated or not an OCTET STRING.
    #[error("signed attribute message-digest is missing, repeated or malformed")]
    MessageDigestMissing,
    /// The message-digest signed attribute is not the digest of the TSTInfo: the
    /// TSTInfo was altered after signing.
    #[error("signed attribute message-digest does not match the digest of the TSTInfo")]
    MessageDigestMismatch,
    /// An ESS signing-certificate attribute names another certificate than the signer's.
    #[error(
        "signing-certificate attribute ({attribute}) does not match the signer certificate: {detail}"
    )]
    SigningCertificateMismatch {
        /// `ESSCertID` (SHA-1) or `ESSCertIDv2`.
        attribute: &'static str,
        /// What differs.
        detail: String,
    },
    /// The signature or key algorithm is not one this checker implements.
    #[error("unsupported signature: {0}")]
    UnsupportedSignature(String),
    /// The signature over the signed attributes does not verify with the signer
    /// certificate's key: the token was altered or not signed by that certificate.
    #[error("the token's signature does not verify with the signer certificate's key")]
    BadSignature,
    /// A configured trusted CA is not a DER certificate.
    #[error("trusted CA #{index} is not an X.509 certificate: {detail}")]
    BadTrustedCa {
        /// Its position in the list given.
        index: usize,
        /// The decoder's message.
        detail: String,
    },
    /// No path from the signer certificate to a trusted CA: the token may be genuine, but
    /// not from a TSA this verifier trusts.
    #[error("the signer certificate ({signer}) is not issued by any trusted CA")]
    Untrusted {
        /// The signer certificate's subject.
        signer: String,
    },
    /// The anchor object's `kind` is not `rfc3161`.
    #[error("anchor kind is {0:?}, not \"rfc3161\"")]
    AnchorKind(String),
    /// A member of the anchor object is missing or not a string.
    #[error("anchor member {0:?} is missing or not a string")]
    AnchorMember(&'static str),
    /// The anchor object has a member this format does not define: readers could take
    /// its value for checked, so it is refused.
    #[error("anchor member {0:?} is not part of the rfc3161 anchor format")]
    AnchorUnknownMember(String),
    /// `token` is not standard base64.
    #[error("anchor token is not standard base64")]
    AnchorTokenEncoding,
    /// The anchor's `gen_time` copy differs from the token's genTime.
    #[error("anchor gen_time {anchor} differs from the token's genTime {token}")]
    GenTimeMismatch {
        /// The anchor object's copy.
        anchor: String,
        /// The token's value.
        token: String,
    },
    /// The anchor's `serial` copy differs from the token's serial number.
    #[error("anchor serial {anchor} differs from the token's serial number {token}")]
    SerialMismatch {
        /// The anchor object's copy.
        anchor: String,
        /// The token's value.
        token: String,
    },
    /// The TSA answered with a status other than granted / grantedWithMods.
    #[error(
        "the TSA did not grant the time-stamp: status {status}; text: {text}; failInfo: {fail_info}"
    )]
    Rejected {
        /// The PKIStatus, by name and number.
        status: String,
        /// The statusString texts, joined (`-` if none).
        text: String,
        /// The failInfo bits set, by name (`-` if none).
        fail_info: String,
    },
    /// The TSA said granted but sent no token.
    #[error("the TSA granted the time-stamp but sent no token")]
    NoToken,
    /// A request could not be built from the inputs given.
    #[error("cannot build the time-stamp request: {0}")]
    Request(String),
    /// A PEM text holds no `CERTIFICATE` block, or a block that is not a certificate.
    #[error("PEM certificates: {0}")]
    Pem(String),
}

type Result<T> = core::result::Result<T, Rfc3161Error>;

fn malformed(what: &'static str) -> impl Fn(der::Error) -> Rfc3161Error {
    move |e| Rfc3161Error::Malformed {
        what,
        detail: e.to_string(),
    }
}

/// Builds a DER `TimeStampReq` for a SHA-256 imprint, with `nonce` (big-endian unsigned
/// bytes) and `certReq` set, so that the token carries the signer certificate and can be
/// checked offline later.
pub fn build_request(imprint_sha256: &[u8; 32], nonce: &[u8]) -> Result<Vec<u8>> {
    if nonce.is_empty() {
        return Err(Rfc3161Error::Request("empty nonce".into()));
    }
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier {
                oid: ID_SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(imprint_sha256.as_slice())
                .map_err(|e| Rfc3161Error::Request(e.to_string()))?,
        },
        req_policy: None,
        nonce: Some(positive_int(nonce).map_err(|e| Rfc3161Error::Request(e.to_string()))?),
        cert_req: true,
        extensions: None,
    };
    req.to_der()
        .map_err(|e| Rfc3161Error::Request(e.to_string()))
}

/// An INTEGER holding the unsigned big-endian `bytes` (x509-tsp types nonces as signed).
fn positive_int(bytes: &[u8]) -> der::Result<Int> {
    let uint = Uint::new(bytes)?;
    let mut body = Vec::with_capacity(uint.as_bytes().len() + 1);
    if uint.as_bytes().first().is_some_and(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(uint.as_bytes());
    Int::new(&body)
}

/// Reads a DER `TimeStampResp` and returns the token's DER bytes exactly as the TSA sent
/// them, if the status is granted or grantedWithMods; otherwise [`Rfc3161Error::Rejected`]
/// with the status, its texts and the failInfo bits by name.
pub fn parse_response(resp_der: &[u8]) -> Result<Vec<u8>> {
    let bad = malformed("TimeStampResp");
    let mut reader = SliceReader::new(resp_der).map_err(&bad)?;
    let (status, texts, fail_info, token) = reader
        .sequence(|r| {
            let (status, texts, fail_info) = r.sequence(|r| {
                let status: u32 = r.decode()?;
                let mut texts = Vec::new();
                if !r.is_finished() && r.peek_tag()? == Tag::Sequence {
                    r.sequence(|r| {
                        while !r.is_finished() {
                            texts.push(r.decode::<Utf8StringRef<'_>>()?.as_str().to_owned());
                        }
                        Ok(())
                    })?;
                }
                let fail_info: Option<BitStringRef<'_>> = r.decode()?;
                let fail_info = fail_info.map(fail_info_names).unwrap_or_default();
                Ok((status, texts, fail_info))
            })?;
            let token = if r.is_finished() {
                None
            } else {
                Some(r.tlv_bytes()?.to_vec())
            };
            Ok((status, texts, fail_info, token))
        })
        .map_err(&bad)?;
    reader.finish(()).map_err(&bad)?;
    match status {
        0 | 1 => token.ok_or(Rfc3161Error::NoToken),
        _ => Err(Rfc3161Error::Rejected {
            status: format!("{} ({status})", status_name(status)),
            text: if texts.is_empty() {
                "-".into()
            } else {
                texts.join(" ")
            },
            fail_info: if fail_info.is_empty() {
                "-".into()
            } else {
                fail_info.join(", ")
            },
        }),
    }
}

fn status_name(status: u32) -> &'static str {
    match status {
        0 => "granted",
        1 => "grantedWithMods",
        2 => "rejection",
        3 => "waiting",
        4 => "revocationWarning",
        5 => "revocationNotification",
        _ => "unknown",
    }
}

/// The PKIFailureInfo bits set (RFC 3161 §2.4.2), by name.
fn fail_info_names(bits: BitStringRef<'_>) -> Vec<String> {
    let names: &[(usize, &str)] = &[
        (0, "badAlg"),
        (2, "badRequest"),
        (5, "badDataFormat"),
        (14, "timeNotAvailable"),
        (15, "unacceptedPolicy"),
        (16, "unacceptedExtension"),
        (17, "addInfoNotAvailable"),
        (25, "systemFailure"),
    ];
    bits.bits()
        .enumerate()
        .filter(|(_, set)| *set)
        .map(|(i, _)| {
            names
                .iter()
                .find(|(n, _)| *n == i)
                .map_or_else(|| format!("bit {i}"), |(_, name)| (*name).to_owned())
        })
        .collect()
}

/// The fields of a TSTInfo this checker uses.
struct TstInfo {
    version: u64,
    policy: ObjectIdentifier,
    imprint: MessageImprint,
    serial: Vec<u8>,
    gen_time: String,
    nonce: Option<Vec<u8>>,
}

/// Decodes a TSTInfo by hand: `der`'s GeneralizedTime refuses fractional seconds, which
/// RFC 3161 allows and many TSAs send.
fn decode_tst_info(bytes: &[u8]) -> der::Result<TstInfo> {
    let mut reader = SliceReader::new(bytes)?;
    let tst = reader.sequence(|r| {
        let version: u64 = r.decode()?;
        let policy: ObjectIdentifier = r.decode()?;
        let imprint: MessageImprint = r.decode()?;
        let serial: Uint = r.decode()?;
        let gen_time: Any = r.decode()?;
        gen_time.tag().assert_eq(Tag::GeneralizedTime)?;
        let gen_time = String::from_utf8_lossy(gen_time.value()).into_owned();
        let _accuracy: Option<x509_tsp::Accuracy> = r.decode()?;
        let _ordering: Option<bool> = r.decode()?;
        let nonce: Option<Uint> = r.decode()?;
        // tsa [0] and extensions [1]: informative here.
        while !r.is_finished() {
            let field: Any = r.decode()?;
            match field.tag() {
                Tag::ContextSpecific { number, .. }
                    if number == TagNumber::N0 || number == TagNumber::N1 => {}
                other => return Err(other.unexpected_error(None)),
            }
        }
        Ok(TstInfo {
            version,
            policy,
            imprint,
            serial: serial.as_bytes().to_vec(),
            gen_time,
            nonce: nonce.map(|n| n.as_bytes().to_vec()),
        })
    })?;
    reader.finish(tst)
}

/// Reads a GeneralizedTime `YYYYMMDDhhmmss[.f…]Z` (RFC 3161 §2.4.2), keeping
/// milliseconds.
fn parse_gen_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 15 || !b[..14].iter().all(u8::is_ascii_digit) || b.last() != Some(&b'Z') {
        return None;
    }
    let mut millis = String::from("000");
    if b.len() > 15 {
        let frac = &s[14..s.len() - 1];
        let digits = frac.strip_prefix('.')?;
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        millis = format!("{:0<3}", &digits[..digits.len().min(3)]);
    }
    let text = format!(
        "{}-{}-{}T{}:{}:{}.{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12],
        &s[12..14],
        millis
    );
    Timestamp::parse(&text).ok()
}

/// Lowercase hex of a big-endian unsigned integer, no leading zero bytes.
fn uint_hex(bytes: &[u8]) -> String {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0],
    };
    hex::encode(trimmed)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn from_oid(oid: &ObjectIdentifier) -> Option<HashAlg> {
        match *oid {
            ID_SHA1 => Some(HashAlg::Sha1),
            ID_SHA256 => Some(HashAlg::Sha256),
            ID_SHA384 => Some(HashAlg::Sha384),
            ID_SHA512 => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// A certificate with the DER it was read from (ESS hashes and trust-by-identity need
/// the bytes).
struct Cert {
    cert: Certificate,
    der: Vec<u8>,
}

impl Cert {
    fn from_der(der: &[u8]) -> der::Result<Cert> {
        Ok(Cert {
            cert: Certificate::from_der(der)?,
            der: der.to_vec(),
        })
    }

    fn subject(&self) -> String {
        rfc4514(&self.cert.tbs_certificate.subject)
    }

    fn extensions(&self, oid: ObjectIdentifier) -> Vec<&x509_cert::ext::Extension> {
        self.cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == oid)
            .collect()
    }

    fn subject_key_id(&self) -> Option<Vec<u8>> {
        let ext = *self.extensions(ID_CE_SUBJECT_KEY_IDENTIFIER).first()?;
        let ski = SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok()?;
        Some(ski.0.as_bytes().to_vec())
    }

    fn is_ca(&self) -> bool {
        self.extensions(ID_CE_BASIC_CONSTRAINTS)
            .first()
            .is_some_and(|ext| {
                BasicConstraints::from_der(ext.extn_value.as_bytes()).is_ok_and(|bc| bc.ca)
            })
    }

    /// notBefore and notAfter, in Unix seconds.
    fn validity(&self) -> (u64, u64) {
        let v = &self.cert.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs(),
            v.not_after.to_unix_duration().as_secs(),
        )
    }

    fn valid_at(&self, unix_secs: u64) -> bool {
        let (from, to) = self.validity();
        from <= unix_secs && unix_secs <= to
    }

    /// Whether `issuer` signed this certificate: names equal and signature verifies.
    fn issued_by(&self, issuer: &Cert) -> bool {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return false;
        }
        // The signed bytes as received, not a re-encoding of what was decoded.
        let mut reader = match SliceReader::new(&self.der) {
            Ok(reader) => reader,
            Err(_) => return false,
        };
        let tbs = reader.sequence(|cert| {
            let tbs = cert.tlv_bytes()?;
            cert.tlv_bytes()?; // signatureAlgorithm
            cert.tlv_bytes()?; // signatureValue
            Ok(tbs)
        });
        let Ok(tbs) = tbs else {
            return false;
        };
        let Some(sig) = self.cert.signature.as_bytes() else {
            return false;
        };
        verify_signature(
            &issuer.cert.tbs_certificate.subject_public_key_info,
            &self.cert.signature_algorithm,
            None,
            tbs,
            sig,
        )
        .is_ok()
    }
}

/// Checks a DER `TimeStampToken` (RFC 3161 §2.4.2) over `imprint_sha256`.
///
/// Every check, in order (the first failure is returned): the token is a SignedData
/// encapsulating a v1 TSTInfo; its imprint is SHA-256 and equals `imprint_sha256`; its
/// nonce equals `expected_nonce` when one is given; there is exactly one SignerInfo; its
/// signer certificate is in the token (or among `trusted_cas_der`); that certificate's
/// extended key usage is critical and is id-kp-timeStamping alone; genTime is within its
/// validity; the signed attributes hold content-type = id-ct-TSTInfo and message-digest =
/// the digest of the TSTInfo; any ESS signing-certificate attribute (v1 or v2) names the
/// signer certificate; the signature over the signed attributes verifies with the signer
/// certificate's key (RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256/P-384; SHA-256/384/512).
///
/// Then, if `trusted_cas_der` is not empty, the signer certificate must be one of them or
/// be issued by one of them, directly or through CA certificates the token carries
/// (issuer name equal, signature valid, intermediates marked CA and valid at genTime):
/// [`TsaChain::Trusted`]. With no trusted CA, the report says [`TsaChain::NotChecked`].
pub fn check_token(
    token_der: &[u8],
    imprint_sha256: &[u8; 32],
    expected_nonce: Option<&[u8]>,
    trusted_cas_der: &[Vec<u8>],
) -> Result<TsaFacts> {
    let trusted = trusted_cas_der
        .iter()
        .enumerate()
        .map(|(index, der)| {
            Cert::from_der(der).map_err(|e| Rfc3161Error::BadTrustedCa {
                index,
                detail: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // The CMS envelope and the TSTInfo.
    let content_info = ContentInfo::from_der(token_der).map_err(malformed("token ContentInfo"))?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(Rfc3161Error::NotSignedData(
            content_info.content_type.to_string(),
        ));
    }
    let signed_data =
        decode_signed_data(&content_info.content).map_err(malformed("token SignedData"))?;
    let encap = &signed_data.encap;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(Rfc3161Error::NotTstInfo(encap.econtent_type.to_string()));
    }
    let econtent = encap.econtent.as_ref().ok_or(Rfc3161Error::NoTstInfo)?;
    let tst_der = econtent
        .decode_as::<OctetString>()
        .map_err(malformed("eContent"))?
        .into_bytes();
    let tst = decode_tst_info(&tst_der).map_err(malformed("TSTInfo"))?;
    if tst.version != 1 {
        return Err(Rfc3161Error::TstInfoVersion(tst.version));
    }
    let gen_time = parse_gen_time(&tst.gen_time)
        .ok_or_else(|| Rfc3161Error::BadGenTime(tst.gen_time.clone()))?;

    // What was stamped, and for whom.
    if tst.imprint.hash_algorithm.oid != ID_SHA256 {
        return Err(Rfc3161Error::ImprintAlgorithm(
            tst.imprint.hash_algorithm.oid.to_string(),
        ));
    }
    if tst.imprint.hashed_message.as_bytes() != imprint_sha256.as_slice() {
        return Err(Rfc3161Error::ImprintMismatch {
            expected: hex::encode(imprint_sha256),
            found: hex::encode(tst.imprint.hashed_message.as_bytes()),
        });
    }
    if let Some(expected) = expected_nonce {
        let found = tst.nonce.as_deref().ok_or(Rfc3161Error::NonceMissing)?;
        if uint_hex(found) != uint_hex(expected) {
            return Err(Rfc3161Error::NonceMismatch {
                expected: uint_hex(expected),
                found: uint_hex(found),
            });
        }
    }

    // The signer and its certificate.
    let [signer_info] = signed_data.signer_infos.as_slice() else {
        return Err(Rfc3161Error::SignerCount(signed_data.signer_infos.len()));
    };
    let token_certs = signed_data
        .certificates
        .iter()
        .map(|der| Cert::from_der(der).map_err(malformed("token certificate")))
        .collect::<Result<Vec<_>>>()?;
    let signer = token_certs
        .iter()
        .chain(trusted.iter())
        .find(|c| identifies(&signer_info.sid, c))
        .ok_or(Rfc3161Error::SignerCertificateNotFound)?;
    check_time_stamping_usage(signer)?;
    let gen_secs = u64::try_from(gen_time.unix_millis() / 1000).unwrap_or(0);
    if !signer.valid_at(gen_secs) {
        let (not_before, not_after) = signer.validity();
        return Err(Rfc3161Error::GenTimeOutsideValidity {
            gen_time: gen_time.to_string(),
            not_before,
            not_after,
        });
    }

    // The signed attributes bind the signature to this TSTInfo and this certificate.
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(Rfc3161Error::NoSignedAttributes)?;
    let digest_alg = match HashAlg::from_oid(&signer_info.digest_alg.oid) {
        Some(HashAlg::Sha1) | None => {
            return Err(Rfc3161Error::UnsupportedDigest(
                signer_info.digest_alg.oid.to_string(),
            ));
        }
        Some(alg) => alg,
    };
    let content_type =
        single_attribute(attrs, ID_CONTENT_TYPE).ok_or(Rfc3161Error::ContentTypeAttribute)?;
    if content_type.decode_as::<ObjectIdentifier>().ok() != Some(ID_CT_TST_INFO) {
        return Err(Rfc3161Error::ContentTypeAttribute);
    }
    let message_digest = single_attribute(attrs, ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or(Rfc3161Error::MessageDigestMissing)?;
    if message_digest.as_bytes() != digest_alg.digest(&tst_der).as_slice() {
        return Err(Rfc3161Error::MessageDigestMismatch);
    }
    check_signing_certificate(attrs, signer)?;
    let attrs_der = attrs.to_der().map_err(malformed("signed attributes"))?;
    verify_signature(
        &signer.cert.tbs_certificate.subject_public_key_info,
        &signer_info.signature_algorithm,
        Some(digest_alg),
        &attrs_der,
        signer_info.signature.as_bytes(),
    )
    .map_err(|e| match e {
        SigError::Unsupported(what) => Rfc3161Error::UnsupportedSignature(what),
        SigError::Invalid => Rfc3161Error::BadSignature,
    })?;

    let chain = if trusted.is_empty() {
        TsaChain::NotChecked
    } else {
        TsaChain::Trusted {
            ca: trusted_path(signer, &token_certs, &trusted, gen_secs)?,
        }
    };
    Ok(TsaFacts {
        gen_time,
        tsa_name: signer.subject(),
        serial: uint_hex(&tst.serial),
        policy: tst.policy.to_string(),
        chain,
    })
}

/// The parts of a SignedData this checker uses.
struct SignedParts {
    encap: EncapsulatedContentInfo,
    /// The DER of each certificate the token carries (other certificate formats are
    /// skipped).
    certificates: Vec<Vec<u8>>,
    signer_infos: Vec<SignerInfo>,
}

/// Decodes a SignedData (RFC 5652 §5.1) keeping its SETs as sent: `der`'s SET OF refuses
/// duplicates, and OpenSSL TSAs configured with `certs` holding the signer certificate
/// send that certificate twice. Certificates are kept as the exact bytes sent, which ESS
/// hashes are computed over.
fn decode_signed_data(content: &Any) -> der::Result<SignedParts> {
    content.sequence(|r| {
        let _version: u8 = r.decode()?;
        let digest_algorithms = r.peek_tag()?;
        digest_algorithms.assert_eq(Tag::Set)?;
        r.tlv_bytes()?;
        let encap: EncapsulatedContentInfo = r.decode()?;
        let mut certificates = Vec::new();
        let certs_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        if !r.is_finished() && r.peek_tag()? == certs_tag {
            let header = Header::decode(r)?;
            r.read_nested(header.length, |certs| {
                while !certs.is_finished() {
                    let tag = certs.peek_tag()?;
                    let tlv = certs.tlv_bytes()?;
                    if tag == Tag::Sequence {
                        certificates.push(tlv.to_vec());
                    }
                }
                Ok(())
            })?;
        }
        let crls_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N1,
        };
        if !r.is_finished() && r.peek_tag()? == crls_tag {
            r.tlv_bytes()?;
        }
        let header = Header::decode(r)?;
        header.tag.assert_eq(Tag::Set)?;
        let signer_infos = r.read_nested(header.length, |set| {
            let mut infos = Vec::new();
            while !set.is_finished() {
                infos.push(SignerInfo::decode(set)?);
            }
            Ok(infos)
        })?;
        Ok(SignedParts {
            encap,
            certificates,
            signer_infos,
        })
    })
}

/// Whether `cert` is the one a SignerIdentifier names.
fn identifies(sid: &SignerIdentifier, cert: &Cert) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == cert.cert.tbs_certificate.issuer
                && ias.serial_number == cert.cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.subject_key_id().as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// RFC 3161 §2.3: exactly one extended key usage extension, critical, holding
/// id-kp-timeStamping alone (OpenSSL's `ts -verify` requires the same).
fn check_time_stamping_usage(signer: &Cert) -> Result<()> {
    let ekus = signer.extensions(ID_CE_EXT_KEY_USAGE);
    let [ext] = ekus.as_slice() else {
        return if ekus.is_empty() {
            Err(Rfc3161Error::NoTimeStampingUsage)
        } else {
            Err(Rfc3161Error::NotTimeStampingOnly(
                "several extended key usage extensions".into(),
            ))
        };
    };
    let usage = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
        .map_err(malformed("signer extended key usage"))?;
    if usage.0.as_slice() != [ID_KP_TIME_STAMPING] {
        let list: Vec<String> = usage.0.iter().map(ToString::to_string).collect();
        return Err(Rfc3161Error::NotTimeStampingOnly(list.join(", ")));
    }
    if !ext.critical {
        return Err(Rfc3161Error::TimeStampingUsageNotCritical);
    }
    Ok(())
}

/// The value of the attribute `oid`, if the set holds it exactly once with one value.
fn single_attribute(attrs: &x509_cert::attr::Attributes, oid: ObjectIdentifier) -> Option<&Any> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let attr = found.next()?;
    if found.next().is_some() || attr.values.len() != 1 {
        return None;
    }
    attr.values.iter().next()
}

/// Checks every ESS signing-certificate attribute present (RFC 2634 §5.4 with SHA-1,
/// RFC 5035 with any hash): its first ESSCertID names the signer certificate.
fn check_signing_certificate(attrs: &x509_cert::attr::Attributes, signer: &Cert) -> Result<()> {
    for (oid, attribute) in [
        (ID_AA_SIGNING_CERTIFICATE, "ESSCertID"),
        (ID_AA_SIGNING_CERTIFICATE_V2, "ESSCertIDv2"),
    ] {
        let present: Vec<_> = attrs.iter().filter(|a| a.oid == oid).collect();
        if present.is_empty() {
            continue;
        }
        let mismatch = |detail: &str| Rfc3161Error::SigningCertificateMismatch {
            attribute,
            detail: detail.into(),
        };
        let value = single_attribute(attrs, oid).ok_or_else(|| mismatch("attribute repeated"))?;
        let (hash_alg, hash, issuer_serial) =
            first_ess_cert_id(value, oid == ID_AA_SIGNING_CERTIFICATE_V2)
                .map_err(|e| mismatch(&format!("malformed: {e}")))?;
        let hash_alg = HashAlg::from_oid(&hash_alg)
            .ok_or_else(|| mismatch(&format!("unsupported hash {hash_alg}")))?;
        if hash_alg.digest(&signer.der) != hash {
            return Err(mismatch("certificate hash differs"));
        }
        if let Some((names, serial)) = issuer_serial {
            let issuer_named = names.iter().any(|n| matches!(n, GeneralName::DirectoryName(dn) if *dn == signer.cert.tbs_certificate.issuer));
            if !issuer_named || serial != signer.cert.tbs_certificate.serial_number.as_bytes() {
                return Err(mismatch("issuerSerial differs"));
            }
        }
    }
    Ok(())
}

type IssuerSerial = (Vec<GeneralName>, Vec<u8>);

/// The first ESSCertID(v2) of a SigningCertificate(V2) value: hash algorithm, hash,
/// optional issuerSerial.
fn first_ess_cert_id(
    value: &Any,
    v2: bool,
) -> der::Result<(ObjectIdentifier, Vec<u8>, Option<IssuerSerial>)> {
    value.sequence(|r| {
        let first = r.sequence(|certs| {
            let first = certs.sequence(|id| {
                let mut alg = ID_SHA1;
                if v2 {
                    alg = ID_SHA256;
                    if id.peek_tag()? == Tag::Sequence {
                        alg = id.decode::<AlgorithmIdentifierOwned>()?.oid;
                    }
                }
                let hash: OctetString = id.decode()?;
                let issuer_serial = if id.is_finished() {
                    None
                } else {
                    Some(id.sequence(|is| {
                        let names: Vec<GeneralName> = is.decode()?;
                        let serial: x509_cert::serial_number::SerialNumber = is.decode()?;
                        Ok((names, serial.as_bytes().to_vec()))
                    })?)
                };
                Ok((alg, hash.into_bytes(), issuer_serial))
            })?;
            while !certs.is_finished() {
                certs.tlv_bytes()?;
            }
            Ok(first)
        })?;
        // policies: not used.
        while !r.is_finished() {
            r.tlv_bytes()?;
        }
        Ok(first)
    })
}

/// Finds a path from `signer` to a trusted certificate, through CA certificates the
/// token carries. Returns the trusted certificate's subject.
fn trusted_path(
    signer: &Cert,
    token_certs: &[Cert],
    trusted: &[Cert],
    gen_secs: u64,
) -> Result<String> {
    let mut current = signer;
    for _ in 0..MAX_PATH {
        if let Some(t) = trusted
            .iter()
            .find(|t| t.der == current.der || current.issued_by(t))
        {
            return Ok(t.subject());
        }
        match token_certs.iter().find(|i| {
            i.der != current.der && i.is_ca() && i.valid_at(gen_secs) && current.issued_by(i)
        }) {
            Some(issuer) => current = issuer,
            None => break,
        }
    }
    Err(Rfc3161Error::Untrusted {
        signer: signer.subject(),
    })
}

enum SigError {
    Unsupported(String),
    Invalid,
}

/// Verifies `signature` over `message` with `spki` under `alg`. `digest` is the hash
/// for algorithms that do not name one (CMS `rsaEncryption`, `id-ecPublicKey`).
fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<HashAlg>,
    message: &[u8],
    signature: &[u8],
) -> core::result::Result<(), SigError> {
    let unnamed = || SigError::Unsupported(format!("{} without a digest algorithm", alg.oid));
    match alg.oid {
        RSA_ENCRYPTION => rsa_pkcs1(spki, digest.ok_or_else(unnamed)?, message, signature),
        SHA256_WITH_RSA => rsa_pkcs1(spki, HashAlg::Sha256, message, signature),
        SHA384_WITH_RSA => rsa_pkcs1(spki, HashAlg::Sha384, message, signature),
        SHA512_WITH_RSA => rsa_pkcs1(spki, HashAlg::Sha512, message, signature),
        ID_RSASSA_PSS => rsa_pss(spki, alg, message, signature),
        ID_EC_PUBLIC_KEY => ecdsa(spki, digest.ok_or_else(unnamed)?, message, signature),
        ECDSA_WITH_SHA256 => ecdsa(spki, HashAlg::Sha256, message, signature),
        ECDSA_WITH_SHA384 => ecdsa(spki, HashAlg::Sha384, message, signature),
        ECDSA_WITH_SHA512 => ecdsa(spki, HashAlg::Sha512, message, signature),
        other => Err(SigError::Unsupported(format!(
            "signature algorithm {other}"
        ))),
    }
}

fn rsa_key(spki: &SubjectPublicKeyInfoOwned) -> core::result::Result<rsa::RsaPublicKey, SigError> {
    if spki.algorithm.oid != RSA_ENCRYPTION && spki.algorithm.oid != ID_RSASSA_PSS {
        return Err(SigError::Unsupported(format!(
            "an RSA signature with a {} key",
            spki.algorithm.oid
        )));
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SigError::Invalid)?;
    let key = rsa::pkcs1::RsaPublicKey::from_der(bits)
        .map_err(|e| SigError::Unsupported(format!("RSA public key: {e}")))?;
    rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(key.modulus.as_bytes()),
        rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes()),
        RSA_MAX_BITS,
    )
    .map_err(|e| SigError::Unsupported(format!("RSA public key: {e}")))
}

fn rsa_pkcs1(
    spki: &SubjectPublicKeyInfoOwned,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> core::result::Result<(), SigError> {
    let key = rsa_key(spki)?;
    let scheme = match hash {
        HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
        HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        HashAlg::Sha1 => return Err(SigError::Unsupported("RSA with SHA-1".into())),
    };
    key.verify(scheme, &hash.digest(message), signature)
        .map_err(|_| SigError::Invalid)
}

fn rsa_pss(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> core::result::Result<(), SigError> {
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| SigError::Unsupported("RSA-PSS without parameters (SHA-1)".into()))?;
    let params: rsa::pkcs1::RsaPssParams<'_> = params
        .decode_as()
        .map_err(|e| SigError::Unsupported(format!("RSA-PSS parameters: {e}")))?;
    let hash = HashAlg::from_oid(&params.hash.oid);
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if params.mask_gen.oid != ID_MGF1 || mgf_hash != Some(params.hash.oid) {
        return Err(SigError::Unsupported(
            "RSA-PSS with a mask generation other than MGF1 over the same hash".into(),
        ));
    }
    let salt = usize::from(params.salt_len);
    let scheme = match hash {
        Some(HashAlg::Sha256) => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
        Some(HashAlg::Sha384) => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
        Some(HashAlg::Sha512) => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
        _ => {
            return Err(SigError::Unsupported(format!(
                "RSA-PSS with hash {}",
                params.hash.oid
            )));
        }
    };
    let key = rsa_key(spki)?;
    let hashed = hash.map(|h| h.digest(message)).unwrap_or_default();
    key.verify(scheme, &hashed, signature)
        .map_err(|_| SigError::Invalid)
}

fn ecdsa(
    spki: &SubjectPublicKeyInfoOwned,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> core::result::Result<(), SigError> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(SigError::Unsupported(format!(
            "an ECDSA signature with a {} key",
            spki.algorithm.oid
        )));
    }
    if hash == HashAlg::Sha1 {
        return Err(SigError::Unsupported("ECDSA with SHA-1".into()));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| SigError::Unsupported("EC key without a named curve".into()))?;
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SigError::Invalid)?;
    let hashed = hash.digest(message);
    match curve {
        SECP256R1 => {
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| SigError::Invalid)?;
            let rs = ecdsa_rs(signature, 32).ok_or(SigError::Invalid)?;
            let sig = p256::ecdsa::Signature::from_slice(&rs).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&hashed, &sig)
                .map_err(|_| SigError::Invalid)
        }
        SECP384R1 => {
            let key =
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| SigError::Invalid)?;
            let rs = ecdsa_rs(signature, 48).ok_or(SigError::Invalid)?;
            let sig = p384::ecdsa::Signature::from_slice(&rs).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&hashed, &sig)
                .map_err(|_| SigError::Invalid)
        }
        other => Err(SigError::Unsupported(format!("ECDSA on curve {other}"))),
    }
}

/// `r ‖ s`, each left-padded to `size` bytes, from a DER ECDSA-Sig-Value.
fn ecdsa_rs(der_sig: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut reader = SliceReader::new(der_sig).ok()?;
    let (r, s) = reader
        .sequence(|seq| {
            Ok((
                UintRef::decode(seq)?.as_bytes().to_vec(),
                UintRef::decode(seq)?.as_bytes().to_vec(),
            ))
        })
        .ok()?;
    reader.finish(()).ok()?;
    if r.len() > size || s.len() > size {
        return None;
    }
    let mut out = vec![0u8; 2 * size];
    out[size - r.len()..size].copy_from_slice(&r);
    out[2 * size - s.len()..].copy_from_slice(&s);
    Some(out)
}

/// An X.500 name as an RFC 4514 string: RDNs last-to-first, known attribute types by
/// their LDAP names, others as dotted OID with `#`-hex values.
fn rfc4514(name: &Name) -> String {
    let rdns: Vec<String> = name
        .0
        .iter()
        .rev()
        .map(|rdn| {
            let atvs: Vec<String> = rdn.0.iter().map(rfc4514_atv).collect();
            atvs.join("+")
        })
        .collect();
    rdns.join(",")
}

fn rfc4514_atv(atv: &x509_cert::attr::AttributeTypeAndValue) -> String {
    let short = match atv.oid.to_string().as_str() {
        "2.5.4.3" => Some("CN"),
        "2.5.4.4" => Some("SN"),
        "2.5.4.5" => Some("serialNumber"),
        "2.5.4.6" => Some("C"),
        "2.5.4.7" => Some("L"),
        "2.5.4.8" => Some("ST"),
        "2.5.4.9" => Some("STREET"),
        "2.5.4.10" => Some("O"),
        "2.5.4.11" => Some("OU"),
        "2.5.4.12" => Some("title"),
        "2.5.4.42" => Some("givenName"),
        "2.5.4.97" => Some("organizationIdentifier"),
        "0.9.2342.19200300.100.1.1" => Some("UID"),
        "0.9.2342.19200300.100.1.25" => Some("DC"),
        "1.2.840.113549.1.9.1" => Some("emailAddress"),
        _ => None,
    };
    let text = match atv.value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::TeletexString
        | Tag::VisibleString => core::str::from_utf8(atv.value.value())
            .ok()
            .map(str::to_owned),
        Tag::BmpString => {
            let units: Vec<u16> = atv
                .value
                .value()
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    };
    match (short, text) {
        (Some(short), Some(text)) => format!("{short}={}", rfc4514_escape(&text)),
        _ => format!(
            "{}=#{}",
            atv.oid,
            hex::encode(atv.value.to_der().unwrap_or_default())
        ),
    }
}

fn rfc4514_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// The anchor object a certificate carries for a token [`check_token`] accepted, with
/// the members [`check_rfc3161_anchor`] reads back: one function writes the format and
/// one reads it. `tsa` is the URL the token was asked from, without credentials.
pub fn anchor_object(
    tsa: &str,
    token_der: &[u8],
    facts: &TsaFacts,
) -> serde_json::Map<String, serde_json::Value> {
    let mut object = serde_json::Map::new();
    object.insert("kind".into(), KIND.into());
    object.insert("tsa".into(), tsa.into());
    object.insert("gen_time".into(), facts.gen_time.to_string().into());
    object.insert("serial".into(), facts.serial.clone().into());
    object.insert("token".into(), B64.encode(token_der).into());
    object
}

/// Checks an RFC 3161 anchor object against the checkpoint body it anchors:
/// `{kind: "rfc3161", tsa, gen_time, serial, token}` where `token` is the standard
/// base64 of the DER TimeStampToken whose imprint is SHA-256 of `checkpoint_body`.
///
/// The token is checked with [`check_token`] (no nonce: it was the requester's
/// business); `gen_time` and `serial` are copies for readers and must equal the token's.
/// `tsa` (where the token was asked) cannot be checked and is not trusted: the TSA is
/// known by the signer certificate, reported in [`TsaFacts::tsa_name`]. Any other member
/// is refused, so that nothing unchecked reads as checked.
pub fn check_rfc3161_anchor(
    anchor: &serde_json::Map<String, serde_json::Value>,
    checkpoint_body: &str,
    trusted_cas_der: &[Vec<u8>],
) -> Result<TsaFacts> {
    let member = |name: &'static str| {
        anchor
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or(Rfc3161Error::AnchorMember(name))
    };
    let kind = member("kind")?;
    if kind != KIND {
        return Err(Rfc3161Error::AnchorKind(kind.to_owned()));
    }
    if let Some(unknown) = anchor
        .keys()
        .find(|k| !["kind", "tsa", "gen_time", "serial", "token"].contains(&k.as_str()))
    {
        return Err(Rfc3161Error::AnchorUnknownMember(unknown.clone()));
    }
    member("tsa")?;
    let gen_time = member("gen_time")?;
    let serial = member("serial")?;
    let token = B64
        .decode(member("token")?)
        .map_err(|_| Rfc3161Error::AnchorTokenEncoding)?;
    let imprint: [u8; 32] = sha2::Sha256::digest(checkpoint_body.as_bytes()).into();
    let facts = check_token(&token, &imprint, None, trusted_cas_der)?;
    if gen_time != facts.gen_time.to_string() {
        return Err(Rfc3161Error::GenTimeMismatch {
            anchor: gen_time.to_owned(),
            token: facts.gen_time.to_string(),
        });
    }
    if serial != facts.serial {
        return Err(Rfc3161Error::SerialMismatch {
            anchor: serial.to_owned(),
            token: facts.serial.clone(),
        });
    }
    Ok(facts)
}

/// Reads the `CERTIFICATE` blocks of a PEM text (a CA file) as DER, each checked to be a
/// certificate, so that a bad CA file is reported when it is loaded, not at the first
/// anchor.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after.find(END).ok_or_else(|| {
            Rfc3161Error::Pem(format!("certificate #{} has no END line", out.len() + 1))
        })?;
        let b64: String = after[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = B64.decode(b64).map_err(|e| {
            Rfc3161Error::Pem(format!("certificate #{}: bad base64: {e}", out.len() + 1))
        })?;
        Certificate::from_der(&der).map_err(|e| {
            Rfc3161Error::Pem(format!(
                "certificate #{}: not an X.509 certificate: {e}",
                out.len() + 1
            ))
        })?;
        out.push(der);
        rest = &after[end + END.len()..];
    }
    if out.is_empty() {
        return Err(Rfc3161Error::Pem("no CERTIFICATE block".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixture made once with OpenSSL 3.0 (`openssl ts -query -data body -sha256 -cert`
    // then `openssl ts -reply` with an ECDSA P-256 TSA certificate, ESSCertID with SHA-1,
    // genTime with milliseconds); certificates valid until 2126. The integration tests in
    // consentry-anchor make fresh tokens the same way, RSA and EC.
    const BODY: &str = "example.org/log\n42\nAAAA\n";
    const NONCE: &str = "89aab1e791a62647";
    const TOKEN_B64: &str = concat!(
        "MIIGGwYJKoZIhvcNAQcCoIIGDDCCBggCAQMxDzANBglghkgBZQMEAgEFADCBzQYLKoZIhvcNAQkQAQSggb0EgbowgbcCAQEG",
        "CSsGAQQBho0fATAxMA0GCWCGSAFlAwQCAQUABCDTD1B9ZAQEUwODn4LjWS9OVNS73H8rBqFDQ7p+VwYDzwIBAxgTMjAyNjEx",
        "MzAxNjIyMjYuMDk1WjADAgEBAgkAiaqx55GmJkegTKRKMEgxCzAJBgNVBAYTAkZSMRgwFgYDVQQKDA9Db25zZW50cnkgVGVz",
        "dHMxHzAdBgNVBAMMFkNvbnNlbnRyeSBUZXN0IFRTQSwgRUOgggPCMIIB/jCCAaWgAwIBAgIUYdFoa1oUkqPMzBQWUx4K+TiV",
        "SxUwCgYIKoZIzj0EAwIwOzEYMBYGA1UECgwPQ29uc2VudHJ5IFRlc3RzMR8wHQYDVQQDDBZDb25zZW50cnkgVGVzdCBFQyBS",
        "b290MCAXDTI2MTEzMDE2MDkzMFoYDzIxMjYxMTA2MTYwOTMwWjBIMQswCQYDVQQGEwJGUjEYMBYGA1UECgwPQ29uc2VudHJ5",
        "IFRlc3RzMR8wHQYDVQQDDBZDb25zZW50cnkgVGVzdCBUU0EsIEVDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4W1x8Uzc",
        "DhYz91HXe7iNLRHETO7aZdGXakjcs1DFml+xhW1ifbwm+1Jq7FaBEQtw6gbkx3Cde9g+P5xg+oKJyKN4MHYwDAYDVR0TAQH/",
        "BAIwADAOBgNVHQ8BAf8EBAMCBsAwFgYDVR0lAQH/BAwwCgYIKwYBBQUHAwgwHQYDVR0OBBYEFKoi0AZ/GgtSJW2UxVJ2okwn",
        "E5M/MB8GA1UdIwQYMBaAFPysNp9oDQHhCiwxu0nq1+YKpOQOMAoGCCqGSM49BAMCA0cAMEQCIBadnEs7UhW+73ize2Yf7g2h",
        "Uyunvxq08xYGnyfl7EM6AiBKdj0e7614kOC6pnbJv/uj3ERgn3t4c/3F79cNkhK7XTCCAbwwggFioAMCAQICFDKOKAItMp/A",
        "jHdSW/UiZlUi5CbTMAoGCCqGSM49BAMCMDsxGDAWBgNVBAoMD0NvbnNlbnRyeSBUZXN0czEfMB0GA1UEAwwWQ29uc2VudHJ5",
        "IFRlc3QgRUMgUm9vdDAgFw0yNjExMzAxNjA5MzBaGA8yMTI2MTEwNjE2MDkzMFowOzEYMBYGA1UECgwPQ29uc2VudHJ5IFRl",
        "c3RzMR8wHQYDVQQDDBZDb25zZW50cnkgVGVzdCBFQyBSb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExPWQpJwLFnbi",
        "e0BWuGhqygpKderExvTkdj/oW1d6hU2D5hfFxao4EY6aI9u3MmRpKxOozHpu7R1XtaACEQS70qNCMEAwDwYDVR0TAQH/BAUw",
        "AwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFPysNp9oDQHhCiwxu0nq1+YKpOQOMAoGCCqGSM49BAMCA0gAMEUCIEYu",
        "1TsEjqZGat2bRqff1PPurLQSPc6DDejmrCIsijcQAiEA23XmjpcTqucwyw5/TuZ6czW+vHRBR4H9M3m+fMxYYPcxggFaMIIB",
        "VgIBATBTMDsxGDAWBgNVBAoMD0NvbnNlbnRyeSBUZXN0czEfMB0GA1UEAwwWQ29uc2VudHJ5IFRlc3QgRUMgUm9vdAIUYdFo",
        "a1oUkqPMzBQWUx4K+TiVSxUwDQYJYIZIAWUDBAIBBQCggZgwGgYJKoZIhvcNAQkDMQ0GCyqGSIb3DQEJEAEEMBwGCSqGSIb3",
        "DQEJBTEPFw0yNjExMzAxNjIyMjZaMCsGCyqGSIb3DQEJEAIMMRwwGjAYMBYEFIyKaWIWYThufZscKOsyKXcYUthGMC8GCSqG",
        "SIb3DQEJBDEiBCCY9/3YdXUP3XPiFdsy5n3SHkmQdUQEW42f6//giAlVVjAKBggqhkjOPQQDAgRGMEQCIHNsu73Xgas3ENAo",
        "xyhZd+MCm2rqtABYrQU6hRH8pSwhAiAB0heEC+RbS43sbYllwIntMuoqd3QDwE1EbSZeu+fJBA==",
    );
    const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBvDCCAWKgAwIBAgIUMo4oAi0yn8CMd1Jb9SJmVSLkJtMwCgYIKoZIzj0EAwIw\nOzEYMBYGA1UECgwPQ29uc2VudHJ5IFRlc3RzMR8wHQYDVQQDDBZDb25zZW50cnkg\nVGVzdCBFQyBSb290MCAXDTI2MTEzMDE2MDkzMFoYDzIxMjYxMTA2MTYwOTMwWjA7\nMRgwFgYDVQQKDA9Db25zZW50cnkgVGVzdHMxHzAdBgNVBAMMFkNvbnNlbnRyeSBU\nZXN0IEVDIFJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATE9ZCknAsWduJ7\nQFa4aGrKCkp16sTG9OR2P+hbV3qFTYPmF8XFqjgRjpoj27cyZGkrE6jMem7tHVe1\noAIRBLvSo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNV\nHQ4EFgQU/Kw2n2gNAeEKLDG7SerX5gqk5A4wCgYIKoZIzj0EAwIDSAAwRQIgRi7V\nOwSOpkZq3ZtGp9/U8+6stBI9zoMN6OasIiyKNxACIQDbdeaOlxOq5zDLDn9O5npz\nNb68dEFHgf0zeb58zFhg9w==\n-----END CERTIFICATE-----\n";
    // Same subject as CA_PEM, another key: names match, signatures do not.
    const OTHER_CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBvDCCAWKgAwIBAgIUFkuFYl2Cbr4UTNwzJRvMTTT3xPAwCgYIKoZIzj0EAwIw\nOzEYMBYGA1UECgwPQ29uc2VudHJ5IFRlc3RzMR8wHQYDVQQDDBZDb25zZW50cnkg\nVGVzdCBFQyBSb290MCAXDTI2MTEzMDE2MjIxMloYDzIxMjYxMTA2MTYyMjEyWjA7\nMRgwFgYDVQQKDA9Db25zZW50cnkgVGVzdHMxHzAdBgNVBAMMFkNvbnNlbnRyeSBU\nZXN0IEVDIFJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASJs91SFXJzZHnW\nKRdFn5RS+aD2mLs5MkxKrasyCin39+Qu1wzXmLKRFlDEWqo32RDJBL24dRTaU69t\nbXQYCaI+o0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNV\nHQ4EFgQU3mL85TBeGY318zgct1qi1iAurPEwCgYIKoZIzj0EAwIDSAAwRQIgeZ0z\nMoLMsOeA8hh+0g4UuXhXB94/J9jLFXZmaEYNbEoCIQDbfsyLItaeA4NajBFXiiL2\nxiZmVXDK6nPhMGmUNkwDkw==\n-----END CERTIFICATE-----\n";
    const REJECTION_HEX: &str = "30373035020102302c0c2a4d6573736167652064696765737420616c676f726974686d206973206e6f7420737570706f727465642e03020780";

    use cms::signed_data::SignedData;
    use der::asn1::SetOfVec;
    use x509_cert::attr::Attribute;

    fn token() -> Vec<u8> {
        B64.decode(TOKEN_B64).unwrap()
    }

    fn ca() -> Vec<Vec<u8>> {
        pem_certificates(CA_PEM).unwrap()
    }

    fn imprint(body: &str) -> [u8; 32] {
        sha2::Sha256::digest(body.as_bytes()).into()
    }

    fn nonce() -> Vec<u8> {
        hex::decode(NONCE).unwrap()
    }

    fn check(token: &[u8]) -> Result<TsaFacts> {
        check_token(token, &imprint(BODY), Some(&nonce()), &ca())
    }

    /// Decodes the fixture, lets `f` change it, encodes it again.
    fn mutate(f: impl FnOnce(&mut SignedData)) -> Vec<u8> {
        let ci = ContentInfo::from_der(&token()).unwrap();
        let mut sd: SignedData = ci.content.decode_as().unwrap();
        f(&mut sd);
        ContentInfo {
            content_type: ci.content_type,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn mutate_signer_info(f: impl FnOnce(&mut SignerInfo)) -> Vec<u8> {
        mutate(|sd| {
            let mut infos = sd.signer_infos.0.clone().into_vec();
            f(&mut infos[0]);
            sd.signer_infos.0 = SetOfVec::try_from(infos).unwrap();
        })
    }

    fn mutate_attrs(f: impl FnOnce(&mut Vec<Attribute>)) -> Vec<u8> {
        mutate_signer_info(|si| {
            let mut attrs = si.signed_attrs.take().unwrap().into_vec();
            f(&mut attrs);
            si.signed_attrs = Some(SetOfVec::try_from(attrs).unwrap());
        })
    }

    /// Changes the TSA certificate (the one with an extended key usage) the token carries.
    fn mutate_signer_cert(f: impl FnOnce(&mut Certificate)) -> Vec<u8> {
        mutate(|sd| {
            let set = sd.certificates.take().unwrap();
            let mut certs = set.0.into_vec();
            let tsa = certs.iter_mut().find_map(|choice| match choice {
                cms::cert::CertificateChoices::Certificate(c)
                    if c.tbs_certificate
                        .extensions
                        .iter()
                        .flatten()
                        .any(|e| e.extn_id == ID_CE_EXT_KEY_USAGE) =>
                {
                    Some(c)
                }
                _ => None,
            });
            f(tsa.unwrap());
            sd.certificates = Some(cms::signed_data::CertificateSet(
                SetOfVec::try_from(certs).unwrap(),
            ));
        })
    }

    fn mutate_eku(f: impl FnOnce(&mut Vec<x509_cert::ext::Extension>)) -> Vec<u8> {
        mutate_signer_cert(|c| f(c.tbs_certificate.extensions.as_mut().unwrap()))
    }

    #[test]
    fn request_encoding_is_openssl_query_with_cert_req() {
        // `openssl ts -query` for "abc" (x509-tsp's vector), plus certReq TRUE (0101ff).
        let req =
            build_request(&imprint("abc"), &hex::decode("314CFCE4E0651827").unwrap()).unwrap();
        assert_eq!(
            hex::encode(req),
            "30430201013031300d060960864801650304020105000420ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0208314cfce4e06518270101ff"
        );
    }

    #[test]
    fn request_nonce_is_a_positive_integer() {
        let req = build_request(&imprint(BODY), &nonce()).unwrap();
        let parsed = TimeStampReq::from_der(&req).unwrap();
        assert_eq!(
            hex::encode(parsed.nonce.unwrap().as_bytes()),
            format!("00{NONCE}")
        );
        assert!(parsed.cert_req);
        let zeros = build_request(&imprint(BODY), &[0, 0, 1]).unwrap();
        let parsed = TimeStampReq::from_der(&zeros).unwrap();
        assert_eq!(parsed.nonce.unwrap().as_bytes(), [1]);
        assert_eq!(
            build_request(&imprint(BODY), &[]),
            Err(Rfc3161Error::Request("empty nonce".into()))
        );
    }

    #[test]
    fn rejection_names_status_text_and_fail_info() {
        // `openssl ts -reply` to a SHA-256 query with `digests = sha1`.
        let err = parse_response(&hex::decode(REJECTION_HEX).unwrap()).unwrap_err();
        assert_eq!(
            err,
            Rfc3161Error::Rejected {
                status: "rejection (2)".into(),
                text: "Message digest algorithm is not supported.".into(),
                fail_info: "badAlg".into(),
            }
        );
    }

    #[test]
    fn granted_response_yields_the_token_bytes() {
        let token = token();
        let mut resp = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        resp.extend_from_slice(&token);
        let mut der = vec![0x30, 0x82];
        der.extend_from_slice(&u16::try_from(resp.len()).unwrap().to_be_bytes());
        der.extend_from_slice(&resp);
        assert_eq!(parse_response(&der).unwrap(), token);
        assert_eq!(
            parse_response(&hex::decode("30053003020101").unwrap()),
            Err(Rfc3161Error::NoToken)
        );
        assert!(matches!(
            parse_response(b"not DER"),
            Err(Rfc3161Error::Malformed { .. })
        ));
    }

    #[test]
    fn fixture_token_checks_against_its_ca() {
        let facts = check(&token()).unwrap();
        assert_eq!(facts.gen_time.to_string(), "2026-11-30T16:22:26.095Z");
        assert_eq!(facts.serial, "03");
        assert_eq!(facts.policy, "1.3.6.1.4.1.99999.1");
        assert_eq!(
            facts.tsa_name,
            "CN=Consentry Test TSA\\, EC,O=Consentry Tests,C=FR"
        );
        assert_eq!(
            facts.chain,
            TsaChain::Trusted {
                ca: "CN=Consentry Test EC Root,O=Consentry Tests".into()
            }
        );
    }

    #[test]
    fn without_ca_the_chain_is_not_checked() {
        let facts = check_token(&token(), &imprint(BODY), None, &[]).unwrap();
        assert_eq!(facts.chain, TsaChain::NotChecked);
    }

    #[test]
    fn a_ca_with_the_same_name_and_another_key_is_not_trusted() {
        let other = pem_certificates(OTHER_CA_PEM).unwrap();
        let err = check_token(&token(), &imprint(BODY), None, &other).unwrap_err();
        assert_eq!(
            err,
            Rfc3161Error::Untrusted {
                signer: "CN=Consentry Test TSA\\, EC,O=Consentry Tests,C=FR".into()
            }
        );
        // One good CA among several is enough.
        let both = [other, ca()].concat();
        assert!(check_token(&token(), &imprint(BODY), None, &both).is_ok());
    }

    #[test]
    fn a_trusted_ca_that_is_not_a_certificate_is_reported() {
        let err = check_token(&token(), &imprint(BODY), None, &[b"junk".to_vec()]).unwrap_err();
        assert!(matches!(err, Rfc3161Error::BadTrustedCa { index: 0, .. }));
    }

    #[test]
    fn another_body_is_an_imprint_mismatch() {
        let err = check_token(
            &token(),
            &imprint("example.org/log\n43\nAAAA\n"),
            None,
            &ca(),
        )
        .unwrap_err();
        assert!(matches!(err, Rfc3161Error::ImprintMismatch { .. }), "{err}");
    }

    #[test]
    fn nonce_is_compared_as_an_unsigned_integer() {
        let mut padded = vec![0, 0];
        padded.extend_from_slice(&nonce());
        assert!(check_token(&token(), &imprint(BODY), Some(&padded), &ca()).is_ok());
        let err = check_token(&token(), &imprint(BODY), Some(&[1, 2, 3]), &ca()).unwrap_err();
        assert_eq!(
            err,
            Rfc3161Error::NonceMismatch {
                expected: "010203".into(),
                found: NONCE.into()
            }
        );
    }

    #[test]
    fn the_fixture_survives_reencoding() {
        // The mutation helpers re-encode, which sorts the certificate SET (OpenSSL sends
        // it unsorted, signer first): nothing signed changes, so the token still checks.
        let reencoded = mutate(|_| {});
        assert_ne!(reencoded, token());
        assert_eq!(reencoded.len(), token().len());
        assert_eq!(check(&reencoded), check(&token()));
    }

    #[test]
    fn tampered_signature_is_rejected() {
        let t = mutate_signer_info(|si| {
            let mut sig = si.signature.as_bytes().to_vec();
            let last = sig.len() - 3;
            sig[last] ^= 1;
            si.signature = OctetString::new(sig).unwrap();
        });
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::BadSignature);
    }

    #[test]
    fn tampered_tst_info_breaks_the_message_digest() {
        let t = mutate(|sd| {
            let econtent = sd.encap_content_info.econtent.take().unwrap();
            let mut tst = econtent.decode_as::<OctetString>().unwrap().into_bytes();
            // The serial number: INTEGER 03, right after the 32-byte imprint.
            let at = tst.windows(32).position(|w| w == imprint(BODY)).unwrap() + 32;
            assert_eq!(&tst[at..at + 3], [2, 1, 3]);
            tst[at + 2] = 4;
            sd.encap_content_info.econtent =
                Some(Any::encode_from(&OctetString::new(tst).unwrap()).unwrap());
        });
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::MessageDigestMismatch);
    }

    #[test]
    fn a_single_signer_is_required() {
        let t = mutate(|sd| {
            let mut infos = sd.signer_infos.0.clone().into_vec();
            let mut second = infos[0].clone();
            second.signature = OctetString::new(vec![1, 2, 3]).unwrap();
            infos.push(second);
            sd.signer_infos.0 = SetOfVec::try_from(infos).unwrap();
        });
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::SignerCount(2));
    }

    #[test]
    fn signed_attributes_are_required() {
        let t = mutate_signer_info(|si| si.signed_attrs = None);
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::NoSignedAttributes);
        let t = mutate_attrs(|attrs| attrs.retain(|a| a.oid != ID_CONTENT_TYPE));
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::ContentTypeAttribute);
        let t = mutate_attrs(|attrs| attrs.retain(|a| a.oid != ID_MESSAGE_DIGEST));
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::MessageDigestMissing);
    }

    #[test]
    fn content_type_attribute_must_be_tst_info() {
        let t = mutate_attrs(|attrs| {
            for a in attrs.iter_mut().filter(|a| a.oid == ID_CONTENT_TYPE) {
                a.values =
                    SetOfVec::try_from(vec![Any::encode_from(&ID_SIGNED_DATA).unwrap()]).unwrap();
            }
        });
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::ContentTypeAttribute);
    }

    #[test]
    fn signing_certificate_attribute_must_name_the_signer() {
        let t = mutate_attrs(|attrs| {
            let a = attrs
                .iter_mut()
                .find(|a| a.oid == ID_AA_SIGNING_CERTIFICATE)
                .unwrap();
            let mut der = a.values.get(0).unwrap().to_der().unwrap();
            // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING (20 bytes) …: flip the hash.
            let at = der.windows(2).position(|w| w == [0x04, 0x14]).unwrap() + 2;
            der[at] ^= 0xff;
            a.values = SetOfVec::try_from(vec![Any::from_der(&der).unwrap()]).unwrap();
        });
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::SigningCertificateMismatch {
                attribute: "ESSCertID",
                detail: "certificate hash differs".into()
            }
        );
    }

    #[test]
    fn the_signer_certificate_must_be_found() {
        let t = mutate(|sd| sd.certificates = None);
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::SignerCertificateNotFound
        );
    }

    #[test]
    fn time_stamping_usage_must_be_critical_and_alone() {
        let t = mutate_eku(|exts| {
            for e in exts.iter_mut().filter(|e| e.extn_id == ID_CE_EXT_KEY_USAGE) {
                e.critical = false;
            }
        });
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::TimeStampingUsageNotCritical
        );

        let t = mutate_eku(|exts| exts.retain(|e| e.extn_id != ID_CE_EXT_KEY_USAGE));
        // The signer is now the certificate without EKU; none remains to tell the TSA apart.
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::NoTimeStampingUsage);

        let t = mutate_eku(|exts| {
            for e in exts.iter_mut().filter(|e| e.extn_id == ID_CE_EXT_KEY_USAGE) {
                let usage = ExtendedKeyUsage(vec![
                    ID_KP_TIME_STAMPING,
                    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4"),
                ]);
                e.extn_value = OctetString::new(usage.to_der().unwrap()).unwrap();
            }
        });
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::NotTimeStampingOnly("1.3.6.1.5.5.7.3.8, 1.3.6.1.5.5.7.3.4".into())
        );
    }

    #[test]
    fn gen_time_must_be_within_the_signer_certificate_validity() {
        let t = mutate_signer_cert(|c| {
            c.tbs_certificate.validity.not_before = x509_cert::time::Time::GeneralTime(
                der::asn1::GeneralizedTime::from_unix_duration(core::time::Duration::from_secs(
                    4_102_444_800,
                ))
                .unwrap(),
            );
        });
        assert!(matches!(
            check(&t).unwrap_err(),
            Rfc3161Error::GenTimeOutsideValidity {
                not_before: 4_102_444_800,
                ..
            }
        ));
    }

    #[test]
    fn a_changed_signer_certificate_no_longer_chains_to_the_ca() {
        // Same key, same issuer and serial, but not what the CA signed.
        let t = mutate_signer_cert(|c| {
            c.tbs_certificate.validity.not_after = x509_cert::time::Time::GeneralTime(
                der::asn1::GeneralizedTime::from_unix_duration(core::time::Duration::from_secs(
                    4_102_444_800,
                ))
                .unwrap(),
            );
        });
        // The ESS attribute catches it first (the hash of the certificate changed).
        assert!(matches!(
            check(&t).unwrap_err(),
            Rfc3161Error::SigningCertificateMismatch { .. }
        ));
        let t2 = {
            let ci = ContentInfo::from_der(&t).unwrap();
            let mut sd: SignedData = ci.content.decode_as().unwrap();
            let mut infos = sd.signer_infos.0.clone().into_vec();
            let mut attrs = infos[0].signed_attrs.take().unwrap().into_vec();
            attrs.retain(|a| a.oid != ID_AA_SIGNING_CERTIFICATE);
            infos[0].signed_attrs = Some(SetOfVec::try_from(attrs).unwrap());
            sd.signer_infos.0 = SetOfVec::try_from(infos).unwrap();
            ContentInfo {
                content_type: ci.content_type,
                content: Any::encode_from(&sd).unwrap(),
            }
            .to_der()
            .unwrap()
        };
        // Without it, the signature over the attributes breaks (they were signed with it).
        assert_eq!(check(&t2).unwrap_err(), Rfc3161Error::BadSignature);
    }

    #[test]
    fn digest_and_signature_algorithms_are_restricted() {
        let t = mutate_signer_info(|si| si.digest_alg.oid = ID_SHA1);
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::UnsupportedDigest(ID_SHA1.to_string())
        );
        let t = mutate_signer_info(|si| {
            si.signature_algorithm.oid = ObjectIdentifier::new_unwrap("1.3.101.112")
        });
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::UnsupportedSignature("signature algorithm 1.3.101.112".into())
        );
        // An RSA signature claimed for an EC key.
        let t = mutate_signer_info(|si| si.signature_algorithm.oid = SHA256_WITH_RSA);
        assert!(matches!(
            check(&t).unwrap_err(),
            Rfc3161Error::UnsupportedSignature(_)
        ));
    }

    #[test]
    fn envelope_types_are_checked() {
        let ci = ContentInfo::from_der(&token()).unwrap();
        let other = ContentInfo {
            content_type: ID_CT_TST_INFO,
            content: ci.content.clone(),
        }
        .to_der()
        .unwrap();
        assert_eq!(
            check(&other).unwrap_err(),
            Rfc3161Error::NotSignedData(ID_CT_TST_INFO.to_string())
        );
        let t = mutate(|sd| sd.encap_content_info.econtent_type = ID_SIGNED_DATA);
        assert_eq!(
            check(&t).unwrap_err(),
            Rfc3161Error::NotTstInfo(ID_SIGNED_DATA.to_string())
        );
        let t = mutate(|sd| sd.encap_content_info.econtent = None);
        assert_eq!(check(&t).unwrap_err(), Rfc3161Error::NoTstInfo);
        assert!(matches!(
            check(b"\x30\x00").unwrap_err(),
            Rfc3161Error::Malformed { .. }
        ));
        let mut truncated = token();
        truncated.truncate(truncated.len() - 1);
        assert!(matches!(
            check(&truncated).unwrap_err(),
            Rfc3161Error::Malformed { .. }
        ));
    }

    fn anchor() -> serde_json::Map<String, serde_json::Value> {
        let facts = check(&token()).unwrap();
        anchor_object("https://tsa.example/", &token(), &facts)
    }

    #[test]
    fn anchor_object_round_trips() {
        let a = anchor();
        assert_eq!(a["kind"], "rfc3161");
        assert_eq!(a["gen_time"], "2026-11-30T16:22:26.095Z");
        assert_eq!(a["serial"], "03");
        let facts = check_rfc3161_anchor(&a, BODY, &ca()).unwrap();
        assert_eq!(facts.serial, "03");
        assert!(matches!(
            check_rfc3161_anchor(&a, "example.org/log\n43\nAAAA\n", &ca()),
            Err(Rfc3161Error::ImprintMismatch { .. })
        ));
    }

    #[test]
    fn anchor_object_members_are_checked() {
        let with = |name: &str, value: serde_json::Value| {
            let mut a = anchor();
            a.insert(name.into(), value);
            check_rfc3161_anchor(&a, BODY, &ca()).unwrap_err()
        };
        assert_eq!(
            with("kind", "evm".into()),
            Rfc3161Error::AnchorKind("evm".into())
        );
        assert_eq!(
            with("gen_time", "2026-11-30T16:22:27.095Z".into()),
            Rfc3161Error::GenTimeMismatch {
                anchor: "2026-11-30T16:22:27.095Z".into(),
                token: "2026-11-30T16:22:26.095Z".into()
            }
        );
        assert_eq!(
            with("serial", "3".into()),
            Rfc3161Error::SerialMismatch {
                anchor: "3".into(),
                token: "03".into()
            }
        );
        assert_eq!(
            with("token", "not base64!".into()),
            Rfc3161Error::AnchorTokenEncoding
        );
        assert_eq!(with("tsa", 5.into()), Rfc3161Error::AnchorMember("tsa"));
        assert_eq!(
            with("qualified", true.into()),
            Rfc3161Error::AnchorUnknownMember("qualified".into())
        );
        let mut a = anchor();
        a.remove("serial");
        assert_eq!(
            check_rfc3161_anchor(&a, BODY, &ca()).unwrap_err(),
            Rfc3161Error::AnchorMember("serial")
        );
    }

    #[test]
    fn gen_time_forms() {
        let t = |s: &str| parse_gen_time(s).map(|t| t.to_string());
        assert_eq!(
            t("20261130230001Z").as_deref(),
            Some("2026-11-30T23:00:01.000Z")
        );
        assert_eq!(
            t("20261130230001.5Z").as_deref(),
            Some("2026-11-30T23:00:01.500Z")
        );
        assert_eq!(
            t("20261130230001.123456Z").as_deref(),
            Some("2026-11-30T23:00:01.123Z")
        );
        for bad in [
            "20261130230001",
            "20261130230001.Z",
            "20261130230001,5Z",
            "20261331230001Z",
            "2026113023000Z",
            "20261130230001.5+0100",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn serials_are_minimal_lowercase_hex() {
        assert_eq!(uint_hex(&[0, 0, 0xAB, 1]), "ab01");
        assert_eq!(uint_hex(&[0]), "00");
        assert_eq!(uint_hex(&[]), "00");
    }

    #[test]
    fn rfc4514_escapes_special_characters() {
        assert_eq!(rfc4514_escape("#a, b+c "), "\\#a\\, b\\+c\\ ");
        assert_eq!(rfc4514_escape(" x"), "\\ x");
    }

    #[test]
    fn pem_files_are_read_strictly() {
        let two = format!("{CA_PEM}\nsome comment\n{OTHER_CA_PEM}");
        assert_eq!(pem_certificates(&two).unwrap().len(), 2);
        assert_eq!(
            pem_certificates("nothing"),
            Err(Rfc3161Error::Pem("no CERTIFICATE block".into()))
        );
        let broken = CA_PEM.replace("-----END CERTIFICATE-----", "");
        assert!(
            matches!(pem_certificates(&broken), Err(Rfc3161Error::Pem(m)) if m.contains("no END line"))
        );
        let not_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            matches!(pem_certificates(not_cert), Err(Rfc3161Error::Pem(m)) if m.contains("not an X.509"))
        );
    }
}
