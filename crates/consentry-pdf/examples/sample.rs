//! Writes sample proof and certificate PDFs, in French and English, to a folder, to look
//! at the layout: `cargo run -p consentry-pdf --example sample -- /tmp/consentry-pdf`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use consentry_pdf::{
    AnchorLine, Attachment, CertificateSummary, Language, ProofSummary, SealIdentity, Sealing,
    certificate_pdf, proof_pdf,
};
use std::path::PathBuf;

/// A self-issued seal (made once), sealing at a fixed time with one attachment.
fn sealing() -> Sealing<'static> {
    static ID: std::sync::OnceLock<SealIdentity> = std::sync::OnceLock::new();
    let identity = ID.get_or_init(|| {
        SealIdentity::self_issued("consentry.example/log", 1_796_677_200, &[5; 64])
            .expect("a self-issued seal")
    });
    Sealing {
        identity,
        sealed_at_unix: 1_796_677_200,
        attachments: vec![Attachment {
            file_name: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X.json",
            description: "The sealed proof",
            media_type: "application/json",
            bytes: b"{\"proof\":1}",
        }],
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/pdf-samples".into()),
    );
    std::fs::create_dir_all(&dir)?;
    for (language, tag) in [(Language::Fr, "fr"), (Language::En, "en")] {
        let proof = ProofSummary {
            language,
            sender_name: "Boulangerie Dupré & Fils".to_owned(),
            subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".to_owned(),
            purpose: "Lettre d’information mensuelle et offres de la boulangerie".to_owned(),
            decision: "granted".to_owned(),
            method: "delegated".to_owned(),
            recorded_at_utc: "2026-11-23T19:04:05.123Z".to_owned(),
            recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".to_owned(),
            given_at_local: None,
            proof_id: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X".to_owned(),
            log_index: 4242,
            log_origin: "consentry.example/log".to_owned(),
            seal_key_fingerprint:
                "3fa1c2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90".to_owned(),
            leaf_hash: "a7b8c9d0e1f20314253647586970a1b2c3d4e5f6a7b8c9d0e1f2031425364758"
                .to_owned(),
            verify_url: "https://consentry.example/verify?proof=prf_01JD2K3M4N5P6Q7R8S9T0V1W2X"
                .to_owned(),
        };
        std::fs::write(
            dir.join(format!("proof-{tag}.pdf")),
            proof_pdf(&proof, &sealing())?,
        )?;
        let certificate = CertificateSummary {
            proof,
            checkpoint_size: 4300,
            checkpoint_root: "Zq7Wm1t4cX0bq2yV9kQe3Jr8H5nL6pS1dF0gA2hK4jM=".to_owned(),
            anchors: vec![
                AnchorLine {
                    kind: "Ethereum (chain 1)".to_owned(),
                    reference: "0x5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5"
                        .to_owned(),
                    detail: "block 21000123, 2026-11-24T00:00:12Z".to_owned(),
                },
                AnchorLine {
                    kind: "RFC 3161 TSA".to_owned(),
                    reference: "serial 0x1A2B3C4D5E6F".to_owned(),
                    detail: "2026-11-24T00:00:03Z".to_owned(),
                },
            ],
        };
        std::fs::write(
            dir.join(format!("certificate-{tag}.pdf")),
            certificate_pdf(&certificate, &sealing())?,
        )?;

        // A stress case: long free text, a name outside Latin-1, three anchors, a
        // revocation; this one needs the compact density.
        let mut long = certificate.clone();
        long.proof.decision = "revoked".to_owned();
        long.proof.method = "portal".to_owned();
        long.proof.sender_name =
            "Łódź Spółka Piekarnicza z o.o., établissement secondaire de Lyon".to_owned();
        long.proof.purpose = "Envoi d’offres commerciales personnalisées par courrier \
            électronique, SMS et téléphone, au sujet des produits de la boulangerie et de ses \
            partenaires. "
            .repeat(5);
        long.anchors.push(AnchorLine {
            kind: "Hyperledger Besu (chain 1337)".to_owned(),
            reference: "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                .to_owned(),
            detail: "block 88, 2026-11-24T00:00:05Z".to_owned(),
        });
        std::fs::write(
            dir.join(format!("certificate-{tag}-long.pdf")),
            certificate_pdf(&long, &sealing())?,
        )?;
    }
    println!("{}", dir.display());
    Ok(())
}
