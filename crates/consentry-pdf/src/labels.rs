//! The page's wording in French and English.
//!
//! All words live in one struct per language so a translation is reviewed in one place and
//! a missing one is a compile error, not an English word on a French page. French follows
//! French typography where it matters to a reader: accents on capitals ("Décision"), a
//! no-break space (U+00A0) before ":" and ";" so they never start a line, the typographic
//! apostrophe. The `consentry verify` command is plain ASCII with ordinary spaces, set on a
//! line of its own, so that it can be copied from the PDF into a terminal as it is.
//! Decisions and methods are translated from their wire spelling; an unknown spelling is
//! an error, since a proof page must not print a word the proof does not say.

use crate::{Language, PdfError};

/// Every fixed text of a page in one language.
pub(crate) struct Labels {
    /// The language tag written in the PDF catalog (`/Lang`), for screen readers.
    pub lang_tag: &'static str,
    pub title_proof: &'static str,
    pub title_certificate: &'static str,
    pub intro_proof: &'static str,
    pub intro_certificate: &'static str,
    pub scan_to_verify: &'static str,
    pub section_consent: &'static str,
    pub section_ledger: &'static str,
    pub section_anchoring: &'static str,
    /// Title of a disclosure.
    pub title_disclosure: &'static str,
    /// What a disclosure is.
    pub intro_disclosure: &'static str,
    /// The disclosure's section.
    pub section_disclosure: &'static str,
    /// The disclosed address.
    pub disclosed_address: &'static str,
    /// The ground.
    pub disclosure_ground: &'static str,
    /// The evidence row.
    pub disclosure_evidence: &'static str,
    /// When.
    pub disclosed_at: &'static str,
    /// The log event recording it.
    pub disclosure_event: &'static str,
    /// Said of identity data that no commitment binds.
    pub asserted_note: &'static str,
    /// Said when the evidence file is opened too.
    pub evidence_disclosed: &'static str,
    pub section_verify: &'static str,
    pub sender: &'static str,
    pub subject: &'static str,
    pub purpose: &'static str,
    pub decision: &'static str,
    pub method: &'static str,
    pub recorded_utc: &'static str,
    pub recorded_local: &'static str,
    /// The date the person gave the decision, when the proof states it.
    pub given_local: &'static str,
    pub proof_id: &'static str,
    pub log_index: &'static str,
    pub log_origin: &'static str,
    pub seal_key: &'static str,
    pub leaf_hash: &'static str,
    pub checkpoint_size: &'static str,
    pub checkpoint_root: &'static str,
    pub anchor: &'static str,
    pub no_anchor: &'static str,
    pub verify_proof: &'static str,
    pub verify_certificate: &'static str,
    pub command_proof: &'static str,
    pub command_certificate: &'static str,
    pub footer: &'static str,
    /// Before the seal holder's name.
    pub sealed_by: &'static str,
    /// Said when the seal certificate claims to be qualified.
    pub seal_qualified: &'static str,
    /// Said otherwise (a self-issued seal, or a certificate without the qualified claim).
    pub seal_not_qualified: &'static str,
    /// Banner text for granted, refused, revoked.
    pub headline: [&'static str; 3],
    /// Table value for granted, refused, revoked.
    pub decision_word: [&'static str; 3],
    /// Table value for manual, delegated, portal.
    pub method_word: [&'static str; 3],
}

const FR: Labels = Labels {
    lang_tag: "fr-FR",
    title_proof: "Preuve de consentement",
    title_certificate: "Certificat de consentement",
    intro_proof: "Décision de consentement scellée au moment de son enregistrement et inscrite \
        dans le journal de transparence Consentry, vérifiable par tous.",
    intro_certificate: "Preuve de consentement scellée, inscrite dans le journal de \
        transparence Consentry et ancrée\u{a0}: elle existait, inchangée, au plus tard au moment \
        de l’ancrage.",
    scan_to_verify: "Scanner pour vérifier",
    section_consent: "Consentement",
    section_ledger: "Journal et scellement",
    section_anchoring: "Ancrage",
    title_disclosure: "Divulgation d’une preuve de consentement",
    intro_disclosure: "L’adresse à laquelle la preuve scellée s’engage, avec l’ouverture qui \
        permet à chacun de recalculer cet engagement\u{a0}: qui a consenti, pour un litige.",
    section_disclosure: "Divulgation",
    disclosed_address: "Adresse (ouvre l’engagement de la preuve)",
    disclosure_ground: "Motif",
    disclosure_evidence: "Justificatif",
    disclosed_at: "Divulguée le",
    disclosure_event: "Événement du journal",
    asserted_note: "déclaré par l’expéditeur, sans engagement dans la preuve",
    evidence_disclosed: "Le fichier justificatif est joint et ouvre son engagement.",
    section_verify: "Comment vérifier",
    sender: "Expéditeur",
    subject: "Destinataire (pseudonyme)",
    purpose: "Finalité",
    decision: "Décision",
    method: "Mode de recueil",
    recorded_utc: "Enregistré le (UTC)",
    recorded_local: "Enregistré le (heure locale)",
    given_local: "Consentement donné le (heure locale)",
    proof_id: "Identifiant de la preuve",
    log_index: "Position dans le journal",
    log_origin: "Origine du journal",
    seal_key: "Empreinte de la clé de scellement",
    leaf_hash: "Empreinte de la feuille",
    checkpoint_size: "Point de contrôle\u{a0}: taille",
    checkpoint_root: "Point de contrôle\u{a0}: racine",
    anchor: "Ancre",
    no_anchor: "Aucun ancrage",
    verify_proof: "Cette page est une copie lisible\u{a0}; la preuve elle-même est le document \
        JSON scellé. Chacun peut la vérifier sans faire confiance à l’opérateur, avec la \
        commande ci-dessous appliquée à ce document, ou sur la page de vérification (que le \
        code QR ouvre aussi)\u{a0}:",
    verify_certificate: "Cette page est une copie lisible\u{a0}; le certificat lui-même est \
        le document JSON (preuve scellée, chemin d’inclusion, point de contrôle signé et \
        ancrages). Chacun peut le vérifier sans faire confiance à l’opérateur, avec la \
        commande ci-dessous appliquée à ce document, ou sur la page de vérification (que le \
        code QR ouvre aussi)\u{a0}:",
    command_proof: "consentry verify preuve.json",
    command_certificate: "consentry verify certificat.json",
    footer: "Les documents JSON scellés sont joints à ce PDF ; eux seuls font foi.",
    sealed_by: "PDF scellé par",
    seal_qualified: "Le certificat du cachet se déclare qualifié (eIDAS) ; votre liste de confiance le confirme.",
    seal_not_qualified: "Ce n’est pas un cachet électronique qualifié (eIDAS).",
    headline: [
        "Consentement accordé",
        "Consentement refusé",
        "Consentement révoqué",
    ],
    decision_word: ["Accordé", "Refusé", "Révoqué"],
    method_word: [
        "Manuel\u{a0}: enregistré par l’expéditeur",
        "Délégué\u{a0}: recueilli par Consentry auprès du destinataire",
        "Portail\u{a0}: donné par le destinataire dans son espace personnel",
    ],
};

const EN: Labels = Labels {
    lang_tag: "en",
    title_proof: "Consent proof",
    title_certificate: "Consent certificate",
    intro_proof: "A consent decision, sealed when it was recorded and entered in the Consentry \
        transparency log, verifiable by anyone.",
    intro_certificate: "A sealed consent proof, entered in the Consentry transparency log and \
        anchored: it existed, unaltered, no later than the time of the anchor.",
    scan_to_verify: "Scan to verify",
    section_consent: "Consent",
    section_ledger: "Log and seal",
    section_anchoring: "Anchoring",
    title_disclosure: "Disclosure of a consent proof",
    intro_disclosure: "The address the sealed proof commits to, with the opening that lets \
        anyone recompute that commitment: who consented, for a dispute.",
    section_disclosure: "Disclosure",
    disclosed_address: "Address (opens the proof’s commitment)",
    disclosure_ground: "Ground",
    disclosure_evidence: "Evidence",
    disclosed_at: "Disclosed at",
    disclosure_event: "Log event",
    asserted_note: "stated by the sender, not committed in the proof",
    evidence_disclosed: "The evidence file is attached and opens its commitment.",
    section_verify: "How to verify",
    sender: "Sender",
    subject: "Recipient (pseudonym)",
    purpose: "Purpose",
    decision: "Decision",
    method: "Method",
    recorded_utc: "Recorded at (UTC)",
    recorded_local: "Recorded at (local time)",
    given_local: "Given on (local time)",
    proof_id: "Proof ID",
    log_index: "Log index",
    log_origin: "Log origin",
    seal_key: "Seal key fingerprint",
    leaf_hash: "Leaf hash",
    checkpoint_size: "Checkpoint tree size",
    checkpoint_root: "Checkpoint root hash",
    anchor: "Anchor",
    no_anchor: "No anchor",
    verify_proof: "This page is a readable copy; the proof itself is the sealed JSON document. \
        Anyone can verify it without trusting the operator, with the command below run on \
        that document, or on the verify page (which the QR code also opens):",
    verify_certificate: "This page is a readable copy; the certificate itself is the JSON \
        document (sealed proof, inclusion path, signed checkpoint and anchors). Anyone can \
        verify it without trusting the operator, with the command below run on that document, \
        or on the verify page (which the QR code also opens):",
    command_proof: "consentry verify proof.json",
    command_certificate: "consentry verify certificate.json",
    footer: "The sealed JSON documents are attached to this PDF; only they are authoritative.",
    sealed_by: "PDF sealed by",
    seal_qualified: "The seal certificate claims to be qualified (eIDAS); your trust list confirms it.",
    seal_not_qualified: "This is not a qualified electronic seal (eIDAS).",
    headline: ["Consent granted", "Consent refused", "Consent revoked"],
    decision_word: ["Granted", "Refused", "Revoked"],
    method_word: [
        "Manual: recorded by the sender",
        "Delegated: collected by Consentry from the recipient",
        "Portal: given by the recipient in their self-service portal",
    ],
};

/// The wording for `language`.
pub(crate) fn labels(language: Language) -> &'static Labels {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// The decision's position in [`Labels::headline`] and [`Labels::decision_word`].
pub(crate) fn decision_index(decision: &str) -> Result<usize, PdfError> {
    match decision {
        "granted" => Ok(0),
        "refused" => Ok(1),
        "revoked" => Ok(2),
        other => Err(PdfError::UnknownDecision(other.to_owned())),
    }
}

/// The method's position in [`Labels::method_word`].
pub(crate) fn method_index(method: &str) -> Result<usize, PdfError> {
    match method {
        "manual" => Ok(0),
        "delegated" => Ok(1),
        "portal" => Ok(2),
        other => Err(PdfError::UnknownMethod(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_decisions_carry_their_accents() {
        assert_eq!(FR.decision_word, ["Accordé", "Refusé", "Révoqué"]);
        assert_eq!(FR.decision, "Décision");
    }

    #[test]
    fn unknown_wire_spellings_are_refused() {
        assert!(matches!(
            decision_index("Granted"),
            Err(PdfError::UnknownDecision(_))
        ));
        assert!(matches!(
            method_index("email"),
            Err(PdfError::UnknownMethod(_))
        ));
        assert_eq!(decision_index("revoked").unwrap(), 2);
        assert_eq!(method_index("portal").unwrap(), 2);
    }
}
