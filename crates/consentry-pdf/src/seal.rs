//! The PAdES seal (ETSI EN 319 142-1, baseline B-B and B-T) of a written PDF.
//!
//! The page writer leaves a signature dictionary with two placeholders of fixed width: the
//! `/ByteRange` array and the `/Contents` string. [`sign`] fills the byte range (the whole
//! file but the `/Contents` string), digests those bytes with SHA-256 and writes a
//! detached CMS `SignedData` (`/SubFilter /ETSI.CAdES.detached`) over them into
//! `/Contents`, hex-encoded and padded with zeros: the file keeps its length, so nothing
//! else moves.
//!
//! B-B's signed attributes are exactly what EN 319 142-1 asks: `content-type`,
//! `message-digest` and `signing-certificate-v2` (which binds the seal certificate to the
//! signature); no `signing-time` (the claimed time is the dictionary's `/M`). B-T adds the
//! unsigned `signature-time-stamp` attribute: an RFC 3161 token over the signature value.
//! Unsigned attributes are outside what the signature covers and `/Contents` is outside
//! the byte range, so a seal made while the time-stamping authority was down is upgraded
//! from B-B to B-T later by [`add_signature_timestamp`] in place: the same bytes, one
//! attribute more, exactly the document it would have been had the TSA answered at once.

use crate::identity::{IdentityError, SealIdentity};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// Bytes reserved for the CMS structure: a seal certificate and two CA certificates of
/// RSA 4096 bits, with a time-stamp token carrying its own chain, fit.
pub(crate) const CONTENTS_BYTES: usize = 16 * 1024;
/// What the page writer puts as `/ByteRange` value, replaced by [`sign`].
pub(crate) const BYTE_RANGE_PLACEHOLDER: [i32; 4] =
    [0, 1_000_000_000, 1_000_000_000, 1_000_000_000];
const BYTE_RANGE_TEXT: &[u8] = b"/ByteRange [0 1000000000 1000000000 1000000000]";

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-aa-signingCertificateV2 (RFC 5035).
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken (RFC 3161, appendix A).
const ID_SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// Why a PDF could not be sealed, read or upgraded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The PDF has no signature placeholder or signature of this crate's layout.
    #[error("the PDF has no Consentry seal ({0})")]
    NotSealed(&'static str),
    /// The CMS structure could not be encoded or read.
    #[error("CMS: {0}")]
    Cms(String),
    /// The CMS structure is larger than the space reserved for it.
    #[error("the seal needs {needed} bytes and {reserved} are reserved")]
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// Bytes reserved.
        reserved: usize,
    },
    /// The seal key could not sign.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

fn cms_error(e: impl std::fmt::Display) -> SealError {
    SealError::Cms(e.to_string())
}

/// The PAdES level of a sealed PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// A signature with its signing certificate bound: no trusted time.
    BB,
    /// B-B with a time-stamp token over the signature value.
    BT,
}

/// Where the signature sits in a sealed (or ready to seal) file.
struct Slot {
    /// Offset of `/ByteRange [`'s value (the `[`) and the length of the text there.
    range_at: usize,
    range_len: usize,
    /// Offsets of the `/Contents` string: its opening delimiter and one past its closing.
    contents_start: usize,
    contents_end: usize,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Finds the placeholders the page writer left.
fn placeholder_slot(pdf: &[u8]) -> Result<Slot, SealError> {
    let at = find(pdf, BYTE_RANGE_TEXT).ok_or(SealError::NotSealed("no byte range placeholder"))?;
    let range_at = at + b"/ByteRange ".len();
    let range_len = BYTE_RANGE_TEXT.len() - b"/ByteRange ".len();
    let mut contents = Vec::with_capacity(CONTENTS_BYTES * 2 + 12);
    contents.extend_from_slice(b"/Contents (");
    contents.resize(contents.len() + CONTENTS_BYTES * 2, b'0');
    contents.push(b')');
    let at = find(pdf, &contents).ok_or(SealError::NotSealed("no contents placeholder"))?;
    let contents_start = at + b"/Contents ".len();
    Ok(Slot {
        range_at,
        range_len,
        contents_start,
        contents_end: at + contents.len(),
    })
}

/// Finds the signature of a sealed file and checks that its byte range is this layout's:
/// the whole file but the `/Contents` string.
fn sealed_slot(pdf: &[u8]) -> Result<Slot, SealError> {
    let at = find(pdf, b"/ByteRange [").ok_or(SealError::NotSealed("no byte range"))?;
    let range_at = at + b"/ByteRange ".len();
    let end = pdf[range_at..]
        .iter()
        .position(|&b| b == b']')
        .ok_or(SealError::NotSealed("unterminated byte range"))?;
    let text = std::str::from_utf8(&pdf[range_at + 1..range_at + end])
        .map_err(|_| SealError::NotSealed("byte range is not text"))?;
    let numbers: Vec<usize> = text
        .split_ascii_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| SealError::NotSealed("byte range is not four numbers"))?;
    let [0, a, b, c] = numbers[..] else {
        return Err(SealError::NotSealed(
            "byte range is not four numbers from 0",
        ));
    };
    if b <= a
        || b.checked_add(c) != Some(pdf.len())
        || pdf.get(a) != Some(&b'<')
        || pdf.get(b - 1) != Some(&b'>')
    {
        return Err(SealError::NotSealed("byte range does not cover the file"));
    }
    Ok(Slot {
        range_at,
        range_len: end + 1,
        contents_start: a,
        contents_end: b,
    })
}

/// Seals `pdf`, a file written with this crate's signature placeholders, with `identity`.
pub(crate) fn sign(mut pdf: Vec<u8>, identity: &SealIdentity) -> Result<Vec<u8>, SealError> {
    let slot = placeholder_slot(&pdf)?;
    let range = format!(
        "[0 {} {} {}]",
        slot.contents_start,
        slot.contents_end,
        pdf.len() - slot.contents_end
    );
    let padded = format!("{range:<width$}", width = slot.range_len);
    pdf[slot.range_at..slot.range_at + slot.range_len].copy_from_slice(padded.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(&pdf[..slot.contents_start]);
    hasher.update(&pdf[slot.contents_end..]);
    let digest: [u8; 32] = hasher.finalize().into();
    let cms = signed_data(&digest, identity)?;
    write_contents(&mut pdf, &slot, &cms)?;
    Ok(pdf)
}

fn write_contents(pdf: &mut [u8], slot: &Slot, cms: &[u8]) -> Result<(), SealError> {
    let reserved = (slot.contents_end - slot.contents_start - 2) / 2;
    if cms.len() > reserved {
        return Err(SealError::TooLarge {
            needed: cms.len(),
            reserved,
        });
    }
    let mut text = Vec::with_capacity(slot.contents_end - slot.contents_start);
    text.push(b'<');
    text.extend_from_slice(hex::encode_upper(cms).as_bytes());
    text.resize(slot.contents_end - slot.contents_start - 1, b'0');
    text.push(b'>');
    pdf[slot.contents_start..slot.contents_end].copy_from_slice(&text);
    Ok(())
}

/// The detached CMS `SignedData` over `digest`, DER.
fn signed_data(digest: &[u8; 32], identity: &SealIdentity) -> Result<Vec<u8>, SealError> {
    let seal = identity.seal_certificate();
    let seal_der = &identity.chain_der()[0];
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    };
    let attribute = |oid, value: Any| -> Result<Attribute, SealError> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(cms_error)?,
        })
    };
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(seal_der).to_vec()).map_err(cms_error)?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    seal.tbs_certificate.issuer.clone(),
                )],
                serial_number: seal.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(cms_error)?,
        )?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(cms_error)?)
                .map_err(cms_error)?,
        )?,
        attribute(
            ID_SIGNING_CERTIFICATE_V2,
            Any::encode_from(&signing_certificate).map_err(cms_error)?,
        )?,
    ])
    .map_err(cms_error)?;
    // RFC 5652 §5.4: the signature is over the DER of the attributes as a SET OF.
    let to_sign = signed_attrs.to_der().map_err(cms_error)?;
    let signature = identity.sign(&to_sign)?;
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: seal.tbs_certificate.issuer.clone(),
            serial_number: seal.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: identity.signature_algorithm(),
        signature: OctetString::new(signature).map_err(cms_error)?,
        unsigned_attrs: None,
    };
    let certificates = identity
        .chain_der()
        .iter()
        .map(|der| {
            x509_cert::Certificate::from_der(der)
                .map(CertificateChoices::Certificate)
                .map_err(cms_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(cms_error)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(certificates).map_err(cms_error)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(cms_error)?),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(cms_error)?,
    }
    .to_der()
    .map_err(cms_error)
}

/// ESS `SigningCertificateV2` (RFC 5035), with its one certificate. The hash algorithm is
/// SHA-256, the DEFAULT, so DER leaves it out.
#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

#[derive(Clone, Debug, der::Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Clone, Debug, der::Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// The one signer of a sealed file's CMS, and the CMS around it.
fn read_cms(pdf: &[u8]) -> Result<(Slot, SignedData), SealError> {
    let slot = sealed_slot(pdf)?;
    let hex_text = &pdf[slot.contents_start + 1..slot.contents_end - 1];
    let bytes = hex::decode(hex_text).map_err(|_| SealError::NotSealed("contents is not hex"))?;
    // The DER structure ends where its own length says; the rest is zero padding.
    let mut reader = der::SliceReader::new(&bytes).map_err(cms_error)?;
    let info: ContentInfo = der::Decode::decode(&mut reader).map_err(cms_error)?;
    let used = usize::try_from(der::Reader::position(&reader)).map_err(cms_error)?;
    if bytes[used..].iter().any(|&b| b != 0) {
        return Err(SealError::NotSealed("bytes after the CMS structure"));
    }
    if info.content_type != ID_SIGNED_DATA {
        return Err(SealError::NotSealed("contents is not CMS SignedData"));
    }
    let signed = info.content.decode_as::<SignedData>().map_err(cms_error)?;
    if signed.signer_infos.0.len() != 1 {
        return Err(SealError::NotSealed("not exactly one signer"));
    }
    Ok((slot, signed))
}

/// The SHA-256 imprint a signature time-stamp token must carry: the hash of the seal's
/// signature value (RFC 3161, appendix A).
///
/// # Errors
/// [`SealError::NotSealed`] when `pdf` is not a PDF sealed by this crate.
pub fn signature_timestamp_imprint(pdf: &[u8]) -> Result<[u8; 32], SealError> {
    let (_, signed) = read_cms(pdf)?;
    let signer = signed
        .signer_infos
        .0
        .get(0)
        .ok_or(SealError::NotSealed("no signer"))?;
    Ok(Sha256::digest(signer.signature.as_bytes()).into())
}

/// The PAdES level of a sealed PDF.
///
/// # Errors
/// [`SealError::NotSealed`] when `pdf` is not a PDF sealed by this crate.
pub fn level(pdf: &[u8]) -> Result<Level, SealError> {
    let (_, signed) = read_cms(pdf)?;
    let stamped = signed.signer_infos.0.iter().any(|s| {
        s.unsigned_attrs
            .iter()
            .flat_map(|a| a.iter())
            .any(|a| a.oid == ID_SIGNATURE_TIME_STAMP)
    });
    Ok(if stamped { Level::BT } else { Level::BB })
}

/// Upgrades a B-B seal to B-T with `token`, an RFC 3161 `TimeStampToken` (DER) whose
/// imprint is [`signature_timestamp_imprint`]; the caller checks the token against the
/// TSA's roots before. The file keeps its length and every byte the seal covers.
///
/// # Errors
/// [`SealError::NotSealed`] for a file this crate did not seal, [`SealError::Cms`] for a
/// token that is not DER, [`SealError::TooLarge`] when the token does not fit the space
/// reserved.
pub fn add_signature_timestamp(pdf: &[u8], token: &[u8]) -> Result<Vec<u8>, SealError> {
    let (slot, mut signed) = read_cms(pdf)?;
    let token = Any::from_der(token).map_err(cms_error)?;
    let mut signers: Vec<SignerInfo> = signed.signer_infos.0.into_vec();
    for signer in &mut signers {
        let mut attributes: Vec<Attribute> = signer
            .unsigned_attrs
            .take()
            .map(SetOfVec::into_vec)
            .unwrap_or_default();
        attributes.retain(|a| a.oid != ID_SIGNATURE_TIME_STAMP);
        attributes.push(Attribute {
            oid: ID_SIGNATURE_TIME_STAMP,
            values: SetOfVec::try_from(vec![token.clone()]).map_err(cms_error)?,
        });
        signer.unsigned_attrs = Some(SetOfVec::try_from(attributes).map_err(cms_error)?);
    }
    signed.signer_infos = SignerInfos(SetOfVec::try_from(signers).map_err(cms_error)?);
    let cms = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(cms_error)?,
    }
    .to_der()
    .map_err(cms_error)?;
    let mut out = pdf.to_vec();
    write_contents(&mut out, &slot, &cms)?;
    Ok(out)
}
