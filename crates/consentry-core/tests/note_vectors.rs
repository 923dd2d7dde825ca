//! Published signed-note, checkpoint, cosignature and tlog-proof examples, run through the
//! `signed_note` 0.2 and `tlog_tiles` 0.2 crates that Consentry builds on.
//!
//! Every key, text and signature below is copied from a published source, named next to it:
//!
//! * `[GO-NOTE]`   golang/mod `sumdb/note/note_test.go` (`TestNewVerifier`, `TestNewSigner`,
//!   `TestSign`, `TestVerifierList`, `TestOpen`) and the package doc example in
//!   golang/mod `sumdb/note/note.go`.
//! * `[TD-FORMATS]` transparency-dev/formats `log/note_test.go` (`TestSumDBNoteParsing`): a
//!   real sum.golang.org signed tree head and the sum.golang.org verifier key.
//! * `[C2SP-NOTE]` C2SP/C2SP `signed-note.md` (the example note and the key ID rule).
//! * `[C2SP-CP]`   C2SP/C2SP `tlog-checkpoint.md` (the example checkpoint).
//! * `[C2SP-COSIG]` C2SP/C2SP `tlog-cosignature.md` (the example cosigned checkpoint and the
//!   example Ed25519 cosignature signed message).
//! * `[C2SP-PROOF]` C2SP/C2SP `tlog-proof.md` (the example `c2sp.org/tlog-proof@v1` file).
//!
//! NOTE: the `PRIVATE+KEY+PeterNeumann+…` signer key as published ends in `…iUvxdXHKDFz`.
//! (A copy ending in `…iUvxEXUg5+Z` does not derive the published public key.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use signed_note::{
    Note, NoteError, Signature, Signer, SignerError, StandardSigner, StandardVerifier,
    VerificationError, Verifier, VerifierError, VerifierList, Verifiers, key_id,
};
use std::io::Cursor;
use tlog_tiles::Checkpoint;

// ---------------------------------------------------------------------------------------
// Self-contained decoding helper.
// ---------------------------------------------------------------------------------------

/// Standard (RFC 4648 §4) padded base64.
fn unbase64(s: &str) -> Vec<u8> {
    fn val(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 character {:?}", c as char),
        }
    }
    let bytes = s.as_bytes();
    assert!(
        bytes.len().is_multiple_of(4),
        "base64 length not a multiple of 4: {s:?}"
    );
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        assert!(pad <= 2, "bad base64 padding: {s:?}");
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n <<= 6;
            if i < 4 - pad {
                n |= val(c);
            }
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Published keys and notes.
// ---------------------------------------------------------------------------------------

/// [GO-NOTE] `TestNewVerifier`, `TestVerifierList`, `TestOpen`; note.go doc example.
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// [GO-NOTE] `TestNewSigner`, `TestSign`; note.go doc example.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
/// [GO-NOTE] `TestVerifierList`, `TestOpen`.
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

/// [GO-NOTE] `TestSign` / `TestOpen` text.
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
/// [GO-NOTE] `TestOpen` `peterSig` (signature line, with its newline).
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
/// [GO-NOTE] `TestOpen` `enochSig`.
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
/// [GO-NOTE] `TestSign` `want`: the signed note.
const SIGNED: &str = "If you think cryptography is the answer to your problem,\n\
                      then you don't know what your problem is.\n\
                      \n\
                      — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
/// The base64 signature of `PETER_SIG` (4-byte key ID ‖ 64-byte Ed25519 signature).
const PETER_SIG_B64: &str =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

/// [TD-FORMATS] `TestSumDBNoteParsing` verifier key (sum.golang.org's published key).
const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
/// [TD-FORMATS] `TestSumDBNoteParsing` `noteString`: a sum.golang.org tree head.
const SUMDB_NOTE: &str = "go.sum database tree\n\
                          6476701\n\
                          mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\
                          \n\
                          — sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";

/// [C2SP-NOTE] the example note. Its public key is not published, so it can only be parsed.
const C2SP_NOTE_EXAMPLE: &str = "Ognuno sta solo sul cuor della terra\n\
                                 trafitto da un raggio di sole:\n\
                                 \n\
                                 ed è subito sera.\n\
                                 \n\
                                 — quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

/// [C2SP-CP] the example checkpoint (also the first four lines of [C2SP-COSIG]'s example).
const C2SP_CHECKPOINT_EXAMPLE: &str = "example.com/behind-the-sofa\n\
                                       20852163\n\
                                       CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                                       \n\
                                       — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

/// [C2SP-COSIG] the example checkpoint with a witness cosignature.
const C2SP_COSIGNED_EXAMPLE: &str = "example.com/behind-the-sofa\n\
                                     20852163\n\
                                     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                                     \n\
                                     — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
                                     — witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

/// [C2SP-COSIG] "Ed25519 signed message" example.
const C2SP_COSIGNATURE_MESSAGE_EXAMPLE: &str = "cosignature/v1\n\
                                                time 1679315147\n\
                                                example.com/behind-the-sofa\n\
                                                20852163\n\
                                                CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

/// [C2SP-PROOF] the example proof, verbatim. The log and witness signatures are elided
/// (`[...]`) in the spec, and the five proof hashes are illustrative: an RFC 9162 inclusion
/// proof for index 73894 in a tree of 109482 leaves has 17 hashes, not 5.
const C2SP_TLOG_PROOF_EXAMPLE: &str = "c2sp.org/tlog-proof@v1\n\
                                       extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
                                       index 73894\n\
                                       gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
                                       B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
                                       EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
                                       RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
                                       AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
                                       \n\
                                       example.com/fancylog\n\
                                       109482\n\
                                       sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\
                                       \n\
                                       — example.com/fancylog hI2DJw[...]1roloI=\n\
                                       — witness1.example mJirIklj[...]qY9v2B/5bg==\n\
                                       — witness2.example TnKKVHLX[...]xwYwrSjgow==\n\
                                       — witness3.example S4X82uH5[...]3oEcROGLFQ==\n";

fn peter() -> StandardVerifier {
    StandardVerifier::new(PETER_VKEY).unwrap()
}

fn enoch() -> StandardVerifier {
    StandardVerifier::new(ENOCH_VKEY).unwrap()
}

fn sig(line: &str) -> Signature {
    Signature::from_bytes(line.trim_end_matches('\n').as_bytes()).unwrap()
}

/// [GO-NOTE] `fixedVerifier`: answers every lookup with the same verifier.
struct FixedVerifier(StandardVerifier);

impl Verifiers for FixedVerifier {
    fn verifier(&self, _name: &str, _id: u32) -> Result<&dyn Verifier, VerificationError> {
        Ok(&self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Keys.
// ---------------------------------------------------------------------------------------

#[test]
fn published_verifier_keys_parse_with_their_key_ids() {
    let v = peter();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f_20a3);
    // [C2SP-NOTE] key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)[:4];
    // the vkey's key material is already `0x01 ‖ public key`.
    assert_eq!(
        key_id(
            "PeterNeumann",
            &unbase64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        ),
        0xc74f_20a3
    );

    let e = enoch();
    assert_eq!((e.name(), e.key_id()), ("EnochRoot", 0xaf0c_fe78));
    assert_eq!(
        key_id(
            "EnochRoot",
            &unbase64("ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")
        ),
        0xaf0c_fe78
    );

    // [TD-FORMATS]: the key material itself contains '+', which must not split the vkey.
    let s = StandardVerifier::new(SUMDB_VKEY).unwrap();
    assert_eq!((s.name(), s.key_id()), ("sum.golang.org", 0x033d_e0ae));
}

#[test]
fn published_signer_key_parses() {
    let s = StandardSigner::new(PETER_SKEY).unwrap();
    assert_eq!((s.name(), s.key_id()), ("PeterNeumann", 0xc74f_20a3));
}

/// [GO-NOTE] `TestNewVerifier`: every proper substring and every single-byte increment of
/// the published verifier key is refused; so are the two adjusted-hash bad keys.
#[test]
fn verifier_key_manglings_are_refused() {
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i != 0 || j != b.len() {
                let k = &PETER_VKEY[i..j];
                assert!(
                    StandardVerifier::new(k).is_err(),
                    "substring {k:?} accepted"
                );
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let k = String::from_utf8(m).unwrap();
        assert!(StandardVerifier::new(&k).is_err(), "mangled {k:?} accepted");
    }
    // "wrong length key, with adjusted key hash"
    assert!(matches!(
        StandardVerifier::new(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(VerifierError::Format)
    ));
    // "unknown algorithm, with adjusted key hash"
    assert!(matches!(
        StandardVerifier::new("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(VerifierError::Alg)
    ));
}

/// [GO-NOTE] `TestNewSigner`: every proper substring and every single-byte increment of the
/// published signer key is refused.
#[test]
fn signer_key_manglings_are_refused() {
    let b = PETER_SKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let k = &PETER_SKEY[i..j];
            assert!(StandardSigner::new(k).is_err(), "substring {k:?} accepted");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let k = String::from_utf8(m).unwrap();
        let r: Result<StandardSigner, SignerError> = StandardSigner::new(&k);
        assert!(r.is_err(), "mangled {k:?} accepted");
    }
}

// ---------------------------------------------------------------------------------------
// Signing and verifying the published note.
// ---------------------------------------------------------------------------------------

/// [GO-NOTE] `TestSign`: Ed25519 is deterministic, so signing the published text with the
/// published key gives the published note byte for byte.
#[test]
fn signing_the_published_text_reproduces_the_published_signature() {
    let signer = StandardSigner::new(PETER_SKEY).unwrap();
    let mut n = Note::new(TEXT.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&signer]).unwrap();
    assert_eq!(String::from_utf8(n.to_bytes()).unwrap(), SIGNED);

    // The raw signature: 4-byte big-endian key ID, then the 64-byte Ed25519 signature.
    let published = unbase64(PETER_SIG_B64);
    assert_eq!(published.len(), 68);
    assert_eq!(published[..4], [0xc7, 0x4f, 0x20, 0xa3]);
    let raw = signer.sign(TEXT.as_bytes()).unwrap();
    assert_eq!(raw, published[4..]);

    // "Check that existing signature is replaced by new one." (Go used Base64 "BADSIGN=".)
    let stale = Signature::new("PeterNeumann".into(), 0xc74f_20a3, unbase64("BADSIGN=")).unwrap();
    let mut n = Note::new(TEXT.as_bytes(), &[stale]).unwrap();
    n.add_sigs(&[&signer]).unwrap();
    assert_eq!(String::from_utf8(n.to_bytes()).unwrap(), SIGNED);

    // "Sign with short text": a text without a final newline is malformed.
    assert!(matches!(
        Note::new(b"abc", &[]),
        Err(NoteError::MalformedNote)
    ));
    // "Sign with bad name".
    assert!(matches!(
        Signature::new("a+b".into(), 0, vec![]),
        Err(NoteError::MalformedNote)
    ));
}

/// [GO-NOTE] package doc example and `TestOpen`.
#[test]
fn the_published_note_verifies() {
    let n = Note::from_bytes(SIGNED.as_bytes()).unwrap();
    assert_eq!(n.text(), TEXT.as_bytes());
    let (verified, unverified) = n
        .verify(&VerifierList::new(vec![Box::new(peter())]))
        .unwrap();
    assert_eq!(verified, vec![sig(PETER_SIG)]);
    assert!(unverified.is_empty());
    assert_eq!(
        format!("{} ({:08x})", verified[0].name(), verified[0].id()),
        "PeterNeumann (c74f20a3)"
    );
    assert_eq!(verified[0].signature(), &unbase64(PETER_SIG_B64)[4..]);

    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let n = Note::from_bytes(both.as_bytes()).unwrap();
    // "Check one signature verified, one not."
    let (verified, unverified) = n
        .verify(&VerifierList::new(vec![Box::new(peter())]))
        .unwrap();
    assert_eq!(verified, vec![sig(PETER_SIG)]);
    assert_eq!(unverified, vec![sig(ENOCH_SIG)]);
    // "Check both verified."
    let (verified, unverified) = n
        .verify(&VerifierList::new(vec![
            Box::new(peter()),
            Box::new(enoch()),
        ]))
        .unwrap();
    assert_eq!(verified, vec![sig(PETER_SIG), sig(ENOCH_SIG)]);
    assert!(unverified.is_empty());
    // "Check both unverified."
    let err = n.verify(&VerifierList::new(vec![])).unwrap_err();
    assert!(matches!(err, NoteError::UnverifiedNote), "{err}");
    assert_eq!(err.to_string(), "note has no verifiable signatures");
}

#[test]
fn a_tampered_note_fails() {
    let list = VerifierList::new(vec![Box::new(peter())]);
    // The published text with one character changed, under the published signature.
    let tampered = SIGNED.replacen("answer", "Answer", 1);
    let err = Note::from_bytes(tampered.as_bytes())
        .unwrap()
        .verify(&list)
        .unwrap_err();
    assert!(matches!(err, NoteError::InvalidSignature { .. }), "{err}");
    // [GO-NOTE] TestOpen "Invalid signature": "ABCD" spliced into the signature at byte 60.
    let bad_sig = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let err = Note::from_bytes(format!("{TEXT}\n{bad_sig}").as_bytes())
        .unwrap()
        .verify(&list)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );
}

/// [GO-NOTE] `TestOpen` "Invalid encoded message syntax" (all seven) and "Check too many
/// signatures" (101 copies).
#[test]
fn malformed_notes_are_refused() {
    let bad: Vec<Vec<u8>> = vec![
        TEXT.as_bytes().to_vec(),
        format!("{TEXT}\n").into_bytes(),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]).into_bytes(),
        format!("\x01{TEXT}\n{PETER_SIG}").into_bytes(),
        [&[0xff_u8][..], format!("{TEXT}\n{PETER_SIG}").as_bytes()].concat(),
        format!("{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=").into_bytes(),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n").into_bytes(),
        format!("{TEXT}\n{}", PETER_SIG.repeat(101)).into_bytes(),
    ];
    for msg in bad {
        let r = Note::from_bytes(&msg);
        assert!(
            matches!(r, Err(NoteError::MalformedNote)),
            "{:?} -> {r:?}",
            String::from_utf8_lossy(&msg)
        );
    }
}

/// [GO-NOTE] `TestVerifierList`, and `TestOpen`'s duplicated-verifier, duplicated-signature
/// and wrong-verifier cases.
#[test]
fn verifier_lookups_and_duplicates() {
    let list = VerifierList::new(vec![
        Box::new(peter()),
        Box::new(enoch()),
        Box::new(enoch()),
    ]);
    let Ok(v) = list.verifier("PeterNeumann", 0xc74f_20a3) else {
        panic!("PeterNeumann+c74f20a3 must be known");
    };
    assert_eq!((v.name(), v.key_id()), ("PeterNeumann", 0xc74f_20a3));
    let err = |name: &str, id: u32| list.verifier(name, id).err().map(|e| e.to_string());
    assert_eq!(
        err("PeterNeumann", 0xc74f_20a4).as_deref(),
        Some("unknown key PeterNeumann+c74f20a4")
    );
    assert_eq!(
        err("PeterNeuman", 0xc74f_20a3).as_deref(),
        Some("unknown key PeterNeuman+c74f20a3")
    );
    assert_eq!(
        err("EnochRoot", 0xaf0c_fe78).as_deref(),
        Some("ambiguous key EnochRoot+af0cfe78")
    );

    // "Check duplicated verifier."
    let dup = || {
        VerifierList::new(vec![
            Box::new(enoch()),
            Box::new(peter()),
            Box::new(enoch()),
        ])
    };
    let e = Note::from_bytes(format!("{TEXT}\n{ENOCH_SIG}").as_bytes())
        .unwrap()
        .verify(&dup())
        .unwrap_err();
    assert_eq!(e.to_string(), "ambiguous key EnochRoot+af0cfe78");
    // "Check unused duplicated verifier."
    Note::from_bytes(format!("{TEXT}\n{PETER_SIG}").as_bytes())
        .unwrap()
        .verify(&dup())
        .unwrap();

    // "Duplicated verified and unverified signatures."
    let enoch_abcd = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    let msg = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{enoch_abcd}");
    let (verified, unverified) = Note::from_bytes(msg.as_bytes())
        .unwrap()
        .verify(&VerifierList::new(vec![Box::new(peter())]))
        .unwrap();
    assert_eq!(verified, vec![sig(PETER_SIG)]);
    let want_abcd = sig(
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=",
    );
    assert_eq!(unverified, vec![sig(ENOCH_SIG), want_abcd]);

    // "Verifiers returns a Verifier for the wrong name or hash."
    let misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego");
    let e = Note::from_bytes(format!("{TEXT}\n{misnamed}").as_bytes())
        .unwrap()
        .verify(&FixedVerifier(peter()))
        .unwrap_err();
    assert!(matches!(e, NoteError::MismatchedVerifier), "{e}");
    let wrong_hash = PETER_SIG.replace("x08g", "xxxx");
    let e = Note::from_bytes(format!("{TEXT}\n{wrong_hash}").as_bytes())
        .unwrap()
        .verify(&FixedVerifier(peter()))
        .unwrap_err();
    assert!(matches!(e, NoteError::MismatchedVerifier), "{e}");
}

// ---------------------------------------------------------------------------------------
// Checkpoints.
// ---------------------------------------------------------------------------------------

/// [TD-FORMATS] `TestSumDBNoteParsing`: a real sum.golang.org checkpoint verifies under the
/// published sum.golang.org key, and its body parses as a C2SP checkpoint.
#[test]
fn sum_golang_org_checkpoint_verifies_and_parses() {
    let n = Note::from_bytes(SUMDB_NOTE.as_bytes()).unwrap();
    let (verified, _) = n
        .verify(&VerifierList::new(vec![Box::new(
            StandardVerifier::new(SUMDB_VKEY).unwrap(),
        )]))
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(
        (verified[0].name(), verified[0].id()),
        ("sum.golang.org", 0x033d_e0ae)
    );

    let cp = Checkpoint::from_bytes(n.text()).unwrap();
    assert_eq!(cp.origin(), "go.sum database tree");
    assert_eq!(cp.size(), 6_476_701);
    assert_eq!(
        cp.hash().0.to_vec(),
        unbase64("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    );
    assert_eq!(cp.extension(), "");
    // The body round-trips byte for byte.
    assert_eq!(cp.to_bytes(), n.text());
}

/// [C2SP-CP]: the example checkpoint body parses with `tlog_tiles`, and the whole example
/// parses as a signed note.
#[test]
fn c2sp_checkpoint_example_parses() {
    let (body, _) = C2SP_CHECKPOINT_EXAMPLE.split_once("\n\n").unwrap();
    let body = format!("{body}\n");
    let cp = Checkpoint::from_bytes(body.as_bytes()).unwrap();
    assert_eq!(cp.origin(), "example.com/behind-the-sofa");
    assert_eq!(cp.size(), 20_852_163);
    assert_eq!(
        cp.hash().0.to_vec(),
        unbase64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    );
    assert_eq!(cp.extension(), "");
    assert_eq!(cp.to_bytes(), body.as_bytes());

    let n = Note::from_bytes(C2SP_CHECKPOINT_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(n.text(), body.as_bytes());
    // The example's key ID bytes happen to be sum.golang.org's (033de0ae), under a different
    // key name, and no public key is published for it: a verifier that knows only
    // sum.golang.org must treat it as an unknown key and reject the note ([C2SP-NOTE]:
    // "If no signature from a known key verifies successfully, clients MUST reject").
    let err = n
        .verify(&VerifierList::new(vec![Box::new(
            StandardVerifier::new(SUMDB_VKEY).unwrap(),
        )]))
        .unwrap_err();
    assert!(matches!(err, NoteError::UnverifiedNote), "{err}");
}

/// [C2SP-COSIG]: the cosigned example parses; the witness signature is 4-byte key ID ‖
/// 8-byte big-endian timestamp ‖ 64-byte Ed25519 signature, and its timestamp and the
/// checkpoint body rebuild the spec's example "Ed25519 signed message" exactly.
#[test]
fn c2sp_cosignature_example_parses() {
    let n = Note::from_bytes(C2SP_COSIGNED_EXAMPLE.as_bytes()).unwrap();
    let (body, _) = C2SP_COSIGNED_EXAMPLE.split_once("\n\n").unwrap();
    assert_eq!(n.text(), format!("{body}\n").as_bytes());

    let sigs: Vec<Signature> = C2SP_COSIGNED_EXAMPLE
        .split_once("\n\n")
        .unwrap()
        .1
        .lines()
        .map(sig)
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_eq!(
        (sigs[0].name(), sigs[0].id()),
        ("example.com/behind-the-sofa", 0x033d_e0ae)
    );
    assert_eq!(sigs[0].signature().len(), 64);
    assert_eq!(
        (sigs[1].name(), sigs[1].id()),
        ("witness.example.com/w1", 0x8d66_cf3f)
    );
    let cosig = sigs[1].signature();
    assert_eq!(
        cosig.len(),
        8 + 64,
        "timestamped_signature: u64 timestamp ‖ ed25519_signature[64]"
    );
    let timestamp = u64::from_be_bytes(cosig[..8].try_into().unwrap());
    assert_eq!(timestamp, 1_679_315_147);

    let message = format!("cosignature/v1\ntime {timestamp}\n{body}\n");
    assert_eq!(message, C2SP_COSIGNATURE_MESSAGE_EXAMPLE);
}

/// [C2SP-NOTE]: the example note (whose text contains an empty line) splits at the *last*
/// blank line. Its public key is not published, so it is only parsed.
#[test]
fn c2sp_signed_note_example_parses() {
    let n = Note::from_bytes(C2SP_NOTE_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        n.text(),
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
            .as_bytes()
    );
    let s = sig(C2SP_NOTE_EXAMPLE.lines().last().unwrap());
    assert_eq!(
        (s.name(), s.id(), s.signature().len()),
        ("quasimodo.example/salvatore", 0x367b_a04b, 64)
    );
}

/// [C2SP-PROOF]: the example proof follows the layout the spec defines — header line,
/// optional `extra <base64>`, `index <decimal>`, zero or more base64 SHA-256 hashes, an
/// empty line, then the checkpoint verbatim.
#[test]
fn c2sp_tlog_proof_example_layout() {
    let (head, checkpoint) = C2SP_TLOG_PROOF_EXAMPLE.split_once("\n\n").unwrap();
    let lines: Vec<&str> = head.split('\n').collect();
    assert_eq!(lines[0], "c2sp.org/tlog-proof@v1");
    let extra = lines[1].strip_prefix("extra ").unwrap();
    assert!(unbase64(extra).starts_with(b"age-v1.2.1-darwin-arm64.tar.gz"));
    let index = lines[2].strip_prefix("index ").unwrap();
    assert!(!index.starts_with('0') || index == "0", "no leading zeroes");
    assert_eq!(index.parse::<u64>().unwrap(), 73_894);
    let hashes = &lines[3..];
    assert_eq!(hashes.len(), 5);
    for h in hashes {
        assert_eq!(unbase64(h).len(), 32, "{h}");
    }

    // The checkpoint body, read up to its blank line.
    let cp = Checkpoint::from_reader(&mut Cursor::new(checkpoint.as_bytes()), false).unwrap();
    assert_eq!(cp.origin(), "example.com/fancylog");
    assert_eq!(cp.size(), 109_482);
    assert_eq!(
        cp.hash().0.to_vec(),
        unbase64("sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=")
    );
    // The spec elides the signatures ("[...]"), so the example is not a complete note.
    assert!(matches!(
        Note::from_bytes(checkpoint.as_bytes()),
        Err(NoteError::MalformedNote)
    ));
}
