//! RFC 3161 anchoring against a real TSA: OpenSSL's (`openssl ts -reply`) behind HTTP,
//! with test PKIs made by `openssl` (RSA with an intermediate CA; ECDSA P-384/P-256).
//! The tokens Consentry stores are also checked by an independent verifier,
//! `openssl ts -verify`, and tokens OpenSSL makes on its own are checked by Consentry's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod tsa;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use consentry_anchor::rfc3161::{TsaAnchor, TsaConfig};
use consentry_anchor::{Anchor, AnchorError, AnchorObject, Progress, Recheck};
use consentry_core::anchor::rfc3161::{Rfc3161Error, TsaChain, check_rfc3161_anchor, check_token};
use der::Decode as _;
use sha2::Digest as _;
use tsa::{Alg, Pki, TsaServer, canned_server, http_reply, openssl, openssl_status};

/// A checkpoint body as the log writes it (C2SP tlog-checkpoint, no signature lines).
const BODY: &str = "consentry.test/log\n7\nOGdtRFZb5iYDeuOQzNWW0k1A7WsdG4cJQLd1e+uN9eg=\n";
const OTHER_BODY: &str = "consentry.test/log\n8\nOGdtRFZb5iYDeuOQzNWW0k1A7WsdG4cJQLd1e+uN9eg=\n";

fn imprint(body: &str) -> [u8; 32] {
    sha2::Sha256::digest(body.as_bytes()).into()
}

fn config(url: &str, pki: &Pki, ca: Option<&str>) -> TsaConfig {
    TsaConfig {
        url: url.into(),
        ca_file: ca.map(|name| pki.path(name)),
        timeout: Duration::from_secs(20),
    }
}

async fn anchor_body(anchor: &TsaAnchor, body: &str) -> Result<AnchorObject, AnchorError> {
    let intent = anchor.prepare(body).await?;
    match anchor.advance(body, &intent).await? {
        Progress::Anchored(object) => Ok(object),
        other => panic!("an RFC 3161 anchor completes in one step, got {other:?}"),
    }
}

fn token_of(object: &AnchorObject) -> Vec<u8> {
    B64.decode(object["token"].as_str().unwrap()).unwrap()
}

fn with_token(object: &AnchorObject, token: &[u8]) -> AnchorObject {
    let mut changed = object.clone();
    changed.insert("token".into(), B64.encode(token).into());
    changed
}

/// The whole story for one PKI: anchor through HTTP, check the object every way, and
/// have `openssl ts -verify` accept what was stored.
async fn anchor_and_verify(alg: Alg, root_subject: &str, tsa_subject: &str) {
    let pki = Pki::new(alg);
    let server = TsaServer::start(&pki.config);
    let anchor = TsaAnchor::new(config(&server.url, &pki, Some("root.pem"))).unwrap();
    assert_eq!(anchor.kind(), consentry_anchor::AnchorKind::Rfc3161);
    let object = anchor_body(&anchor, BODY).await.unwrap();

    let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["gen_time", "kind", "serial", "token", "tsa"]);
    assert_eq!(object["kind"], "rfc3161");
    assert_eq!(object["tsa"], server.url.as_str());

    let root = pki.certs("root.pem");
    let facts = check_rfc3161_anchor(&object, BODY, &root).unwrap();
    assert_eq!(
        facts.chain,
        TsaChain::Trusted {
            ca: root_subject.into()
        }
    );
    assert_eq!(facts.tsa_name, tsa_subject);
    assert_eq!(facts.policy, "1.3.6.1.4.1.99999.1");
    assert_eq!(object["gen_time"], facts.gen_time.to_string().as_str());
    assert_eq!(object["serial"], facts.serial.as_str());

    // No CA: the signature is still checked, the chain is not.
    assert_eq!(
        check_rfc3161_anchor(&object, BODY, &[]).unwrap().chain,
        TsaChain::NotChecked
    );
    // A CA with the same name and another key.
    let err = check_rfc3161_anchor(&object, BODY, &pki.certs("other-root.pem")).unwrap_err();
    assert_eq!(
        err,
        Rfc3161Error::Untrusted {
            signer: tsa_subject.into()
        }
    );
    // Another checkpoint.
    let err = check_rfc3161_anchor(&object, OTHER_BODY, &root).unwrap_err();
    assert!(matches!(err, Rfc3161Error::ImprintMismatch { .. }), "{err}");

    // The setups exercise what they claim: ESSCertIDv2 and a carried intermediate for
    // RSA; ESSCertID (SHA-1) and the signer certificate sent twice for EC.
    let token = token_of(&object);
    let has = |needle: &[u8]| token.windows(needle.len()).filter(|w| *w == needle).count();
    let ess_v1 = [
        0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
    ];
    let ess_v2 = [
        0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
    ];
    let tsa_cert = pki.certs("tsa.pem").remove(0);
    match alg {
        Alg::Rsa => {
            assert_eq!((has(&ess_v1), has(&ess_v2), has(&tsa_cert)), (0, 1, 1));
            assert_eq!(has(&pki.certs("int.pem")[0]), 1);
        }
        Alg::Ec => assert_eq!((has(&ess_v1), has(&ess_v2), has(&tsa_cert)), (1, 0, 2)),
    }

    // Tampering. The signature is the token's last field (no unsigned attributes).
    let mut bad_sig = token.clone();
    *bad_sig.last_mut().unwrap() ^= 0x01;
    let err = check_rfc3161_anchor(&with_token(&object, &bad_sig), BODY, &root).unwrap_err();
    assert_eq!(err, Rfc3161Error::BadSignature);
    // The policy OID inside the signed TSTInfo: 1.3.6.1.4.1.99999.1 becomes ….2.
    let policy = [
        0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01,
    ];
    let at = token
        .windows(policy.len())
        .position(|w| w == policy)
        .unwrap()
        + policy.len()
        - 1;
    let mut bad_policy = token.clone();
    bad_policy[at] = 0x02;
    let err = check_rfc3161_anchor(&with_token(&object, &bad_policy), BODY, &root).unwrap_err();
    assert_eq!(err, Rfc3161Error::MessageDigestMismatch);

    // The independent verifier accepts the stored token, both ways an auditor runs it.
    let d = pki.dir.path();
    std::fs::write(d.join("token.der"), &token).unwrap();
    std::fs::write(d.join("body.txt"), BODY).unwrap();
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "body.txt",
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(out.contains("Verification: OK"), "{out}");
    let digest = hex::encode(imprint(BODY));
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-digest",
            &digest,
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(out.contains("Verification: OK"), "{out}");
    // … and refuses it for another body or another CA, as ours does.
    std::fs::write(d.join("other.txt"), OTHER_BODY).unwrap();
    let (ok, _) = openssl_status(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "other.txt",
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(!ok);
    let (ok, _) = openssl_status(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "body.txt",
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            "other-root.pem",
        ],
    );
    assert!(!ok);

    assert_eq!(anchor.recheck(&object).await.unwrap(), Recheck::Valid);
    eprintln!(
        "{alg:?} token: {} bytes DER, anchor object {} bytes JSON",
        token.len(),
        serde_json::to_string(&object).unwrap().len()
    );
}

#[tokio::test]
async fn rsa_tsa_with_an_intermediate_ca_anchors_and_verifies() {
    anchor_and_verify(
        Alg::Rsa,
        "CN=Consentry Test RSA Root,O=Consentry Tests",
        "CN=Consentry Test TSA\\, RSA,O=Consentry Tests,C=FR",
    )
    .await;
}

#[tokio::test]
async fn ec_tsa_anchors_and_verifies() {
    anchor_and_verify(
        Alg::Ec,
        "CN=Consentry Test EC Root,O=Consentry Tests",
        "CN=Consentry Test TSA\\, EC,O=Consentry Tests,C=FR",
    )
    .await;
}

/// The nonce `openssl ts -query -text` prints, as bytes.
fn query_nonce(pki: &Pki, query: &str) -> Vec<u8> {
    let text = openssl(pki.dir.path(), &["ts", "-query", "-in", query, "-text"]);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Nonce: 0x"))
        .unwrap();
    hex::decode(if line.len() % 2 == 1 {
        format!("0{line}")
    } else {
        line.to_owned()
    })
    .unwrap()
}

#[test]
fn tokens_made_by_openssl_alone_check() {
    for alg in [Alg::Rsa, Alg::Ec] {
        let pki = Pki::new(alg);
        let d = pki.dir.path();
        std::fs::write(d.join("body.txt"), BODY).unwrap();
        let cfg = pki.config.to_str().unwrap();
        openssl(
            d,
            &[
                "ts", "-query", "-data", "body.txt", "-sha256", "-cert", "-out", "q.tsq",
            ],
        );
        openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                cfg,
                "-queryfile",
                "q.tsq",
                "-token_out",
                "-out",
                "t.der",
            ],
        );
        let token = std::fs::read(d.join("t.der")).unwrap();
        let nonce = query_nonce(&pki, "q.tsq");
        let root = pki.certs("root.pem");
        let facts = check_token(&token, &imprint(BODY), Some(&nonce), &root).unwrap();
        assert!(matches!(facts.chain, TsaChain::Trusted { .. }));
        // The nonce binds the token to its request.
        let err = check_token(&token, &imprint(BODY), Some(&[0x12, 0x34]), &root).unwrap_err();
        assert_eq!(
            err,
            Rfc3161Error::NonceMismatch {
                expected: "1234".into(),
                found: hex::encode(&nonce).trim_start_matches("00").into()
            }
        );

        // A query without a nonce: no token nonce to compare.
        openssl(
            d,
            &[
                "ts",
                "-query",
                "-data",
                "body.txt",
                "-sha256",
                "-cert",
                "-no_nonce",
                "-out",
                "q2.tsq",
            ],
        );
        openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                cfg,
                "-queryfile",
                "q2.tsq",
                "-token_out",
                "-out",
                "t2.der",
            ],
        );
        let token = std::fs::read(d.join("t2.der")).unwrap();
        assert_eq!(
            check_token(&token, &imprint(BODY), Some(&nonce), &root).unwrap_err(),
            Rfc3161Error::NonceMissing
        );
        assert!(check_token(&token, &imprint(BODY), None, &root).is_ok());

        // A query without certReq: the token carries no signer certificate (the RSA one
        // carries the intermediate only); found if configured as trusted.
        openssl(
            d,
            &[
                "ts", "-query", "-data", "body.txt", "-sha256", "-out", "q3.tsq",
            ],
        );
        openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                cfg,
                "-queryfile",
                "q3.tsq",
                "-token_out",
                "-out",
                "t3.der",
            ],
        );
        let token = std::fs::read(d.join("t3.der")).unwrap();
        let nonce = query_nonce(&pki, "q3.tsq");
        if alg == Alg::Rsa {
            assert_eq!(
                check_token(&token, &imprint(BODY), Some(&nonce), &root).unwrap_err(),
                Rfc3161Error::SignerCertificateNotFound
            );
            let tsa = pki.certs("tsa.pem");
            let facts = check_token(&token, &imprint(BODY), Some(&nonce), &tsa).unwrap();
            assert_eq!(
                facts.chain,
                TsaChain::Trusted {
                    ca: facts.tsa_name.clone()
                }
            );
        }
    }
}

/// Extracts the DER TSTInfo from a token, to have it signed some other way.
fn tst_info(token: &[u8]) -> Vec<u8> {
    let ci = cms::content_info::ContentInfo::from_der(token).unwrap();
    let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let econtent = sd.encap_content_info.econtent.unwrap();
    econtent
        .decode_as::<der::asn1::OctetString>()
        .unwrap()
        .into_bytes()
}

#[test]
fn rsa_pss_and_critical_usage_with_tokens_signed_by_openssl_cms() {
    // OpenSSL's TSA signs with PKCS#1 v1.5 only; `openssl cms -sign` makes the same
    // SignedData around a TSTInfo with RSA-PSS, or with a certificate the TSA refuses.
    let pki = Pki::new(Alg::Rsa);
    let d = pki.dir.path();
    std::fs::write(d.join("body.txt"), BODY).unwrap();
    let cfg = pki.config.to_str().unwrap();
    openssl(
        d,
        &[
            "ts", "-query", "-data", "body.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    openssl(
        d,
        &[
            "ts",
            "-reply",
            "-config",
            cfg,
            "-queryfile",
            "q.tsq",
            "-token_out",
            "-out",
            "t.der",
        ],
    );
    std::fs::write(
        d.join("tst.der"),
        tst_info(&std::fs::read(d.join("t.der")).unwrap()),
    )
    .unwrap();
    let sign = |cert: &str, key: &str, out: &str, pss: bool| {
        let mut args = vec![
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "tst.der",
            "-outform",
            "DER",
            "-econtent_type",
            "1.2.840.113549.1.9.16.1.4",
            "-signer",
            cert,
            "-inkey",
            key,
            "-certfile",
            "int.pem",
            "-md",
            "sha384",
            "-out",
            out,
        ];
        if pss {
            args.extend([
                "-keyopt",
                "rsa_padding_mode:pss",
                "-keyopt",
                "rsa_pss_saltlen:48",
            ]);
        }
        openssl(d, &args);
        std::fs::read(d.join(out)).unwrap()
    };
    let root = pki.certs("root.pem");

    let pss = sign("tsa.pem", "tsa.key", "pss.der", true);
    let facts = check_token(&pss, &imprint(BODY), None, &root).unwrap();
    assert!(matches!(facts.chain, TsaChain::Trusted { .. }));
    let mut tampered = pss.clone();
    *tampered.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        check_token(&tampered, &imprint(BODY), None, &root).unwrap_err(),
        Rfc3161Error::BadSignature
    );

    pki.issue_tsa_cert("lax", "v3_tsa_noncritical");
    let lax = sign("lax.pem", "lax.key", "lax.der", false);
    assert_eq!(
        check_token(&lax, &imprint(BODY), None, &root).unwrap_err(),
        Rfc3161Error::TimeStampingUsageNotCritical
    );
    // OpenSSL's verifier refuses it too.
    let (ok, out) = openssl_status(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "body.txt",
            "-in",
            "lax.der",
            "-token_in",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "int.pem",
        ],
    );
    assert!(!ok, "{out}");
}

#[tokio::test]
async fn a_replayed_answer_is_invalid() {
    // An answer OpenSSL made for another request over the same body: right imprint, right
    // TSA, wrong nonce.
    let pki = Pki::new(Alg::Ec);
    let d = pki.dir.path();
    std::fs::write(d.join("body.txt"), BODY).unwrap();
    openssl(
        d,
        &[
            "ts", "-query", "-data", "body.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    openssl(
        d,
        &[
            "ts",
            "-reply",
            "-config",
            pki.config.to_str().unwrap(),
            "-queryfile",
            "q.tsq",
            "-out",
            "r.tsr",
        ],
    );
    let url = canned_server(Some(http_reply(&std::fs::read(d.join("r.tsr")).unwrap()))).await;
    let anchor = TsaAnchor::new(config(&url, &pki, Some("root.pem"))).unwrap();
    let err = anchor_body(&anchor, BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Invalid(m) if m.contains("nonce")),
        "{err}"
    );
    // The same answer for another body: the imprint does not match either.
    let err = anchor_body(&anchor, OTHER_BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Invalid(m) if m.contains("imprint")),
        "{err}"
    );
}

#[tokio::test]
async fn a_tsa_that_is_down_is_unreachable() {
    let pki = Pki::new(Alg::Ec);
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let anchor = TsaAnchor::new(config(
        &format!("http://127.0.0.1:{port}/"),
        &pki,
        Some("root.pem"),
    ))
    .unwrap();
    let err = anchor_body(&anchor, BODY).await.unwrap_err();
    assert!(matches!(err, AnchorError::Unreachable(_)), "{err}");
}

#[tokio::test]
async fn a_tsa_that_hangs_times_out_as_unreachable() {
    let pki = Pki::new(Alg::Ec);
    let url = canned_server(None).await;
    let mut cfg = config(&url, &pki, Some("root.pem"));
    cfg.timeout = Duration::from_secs(1);
    let anchor = TsaAnchor::new(cfg).unwrap();
    let err = anchor_body(&anchor, BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Unreachable(m) if m.contains("timed out")),
        "{err}"
    );
}

#[tokio::test]
async fn a_tsa_answering_http_500_is_unreachable() {
    // OpenSSL cannot sign with a configuration that does not exist: the server answers 500.
    let pki = Pki::new(Alg::Ec);
    let server = TsaServer::start(&pki.path("missing.cnf"));
    let anchor = TsaAnchor::new(config(&server.url, &pki, Some("root.pem"))).unwrap();
    let err = anchor_body(&anchor, BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Unreachable(m) if m.contains("500")),
        "{err}"
    );
}

#[tokio::test]
async fn a_tsa_rejection_is_refused_with_its_reason() {
    // A TSA that accepts SHA-1 imprints only answers `rejection` with failInfo badAlg.
    let pki = Pki::new(Alg::Ec);
    let sha1_only = pki.write_ts_config("sha1-only.cnf", |c| {
        c.replace("digests = sha256, sha384, sha512", "digests = sha1")
    });
    let server = TsaServer::start(&sha1_only);
    let anchor = TsaAnchor::new(config(&server.url, &pki, Some("root.pem"))).unwrap();
    let err = anchor_body(&anchor, BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Refused(m) if m.contains("rejection") && m.contains("badAlg")),
        "{err}"
    );
}

#[tokio::test]
async fn prepare_makes_a_request_openssl_reads_without_touching_the_network() {
    let pki = Pki::new(Alg::Ec);
    // Nothing listens here; prepare must not care.
    let anchor = TsaAnchor::new(config("http://127.0.0.1:9/", &pki, None)).unwrap();
    let first = anchor.prepare(BODY).await.unwrap();
    let second = anchor.prepare(BODY).await.unwrap();
    let nonce = first["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 16);
    assert_ne!(first["nonce"], second["nonce"]);
    std::fs::write(
        pki.path("req.tsq"),
        B64.decode(first["request"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let text = openssl(pki.dir.path(), &["ts", "-query", "-in", "req.tsq", "-text"]);
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(text.contains("Certificate required: yes"), "{text}");
    let imprint_hex: String = hex::encode(imprint(BODY));
    let dumped: String = text
        .lines()
        .filter(|l| l.trim_start().starts_with("00"))
        .flat_map(|l| {
            l.split(" - ")
                .nth(1)
                .map(|h| h.split("  ").next().unwrap_or("").replace(['-', ' '], ""))
        })
        .collect();
    assert_eq!(dumped, imprint_hex, "{text}");
    assert_eq!(
        query_nonce(&pki, "req.tsq"),
        hex::decode(nonce)
            .unwrap()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn ca_files_are_checked_when_loaded() {
    let pki = Pki::new(Alg::Ec);
    let url = "http://127.0.0.1:9/";
    let err = TsaAnchor::new(config(url, &pki, Some("missing.pem"))).unwrap_err();
    assert!(
        matches!(&err, AnchorError::Config(m) if m.contains("missing.pem")),
        "{err}"
    );
    std::fs::write(
        pki.path("junk.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TsaAnchor::new(config(url, &pki, Some("junk.pem"))).unwrap_err();
    assert!(
        matches!(&err, AnchorError::Config(m) if m.contains("not an X.509")),
        "{err}"
    );
    std::fs::write(pki.path("junk.der"), b"\x30\x03\x02\x01\x00").unwrap();
    assert!(matches!(
        TsaAnchor::new(config(url, &pki, Some("junk.der"))),
        Err(AnchorError::Config(_))
    ));

    // A DER CA file works as well as PEM.
    let der = pki.certs("root.pem").remove(0);
    std::fs::write(pki.path("root.der"), &der).unwrap();
    let server = TsaServer::start(&pki.config);
    let anchor = TsaAnchor::new(config(&server.url, &pki, Some("root.der"))).unwrap();
    let object = anchor_body(&anchor, BODY).await.unwrap();
    assert!(matches!(
        check_rfc3161_anchor(&object, BODY, &[der]).unwrap().chain,
        TsaChain::Trusted { .. }
    ));
    // A TSA whose tokens do not chain to the configured CA: nothing is returned.
    let wrong = TsaAnchor::new(config(&server.url, &pki, Some("other-root.pem"))).unwrap();
    let err = anchor_body(&wrong, BODY).await.unwrap_err();
    assert!(
        matches!(&err, AnchorError::Invalid(m) if m.contains("not issued by any trusted CA")),
        "{err}"
    );
}
