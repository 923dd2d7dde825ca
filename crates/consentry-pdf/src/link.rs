//! The link a proof PDF's QR code opens: the verify page with the proof itself in the
//! URL's fragment, `…/verify#proof=` followed by the proof's JSON (the log entry's exact
//! bytes) compressed with raw DEFLATE (RFC 1951) and written in unpadded base64url
//! (RFC 4648 §5). The page decompresses and verifies it in the browser; a fragment never
//! reaches a server, so the link needs no route that serves proofs by ID (there is none,
//! by design: a proof names a pseudonym and a purpose, and only its holder shares it).
//!
//! Size: a proof is about 800 bytes of JSON, some 550 deflated, some 750 characters of
//! base64url: with the page's address, a link of 800–850 bytes, a QR code of version 22
//! or so at level M. A link longer than [`MAX_LINK_BYTES`] (a proof with a very long
//! notice URL or version label) is not put in the code: the code then opens the plain
//! page, where the proof JSON attached to the PDF can be dropped. The whole proof or
//! nothing — never a part, which the page could not verify.

use base64::Engine as _;

/// The longest link a QR code carries, in bytes: a QR code of version 27 at level M holds
/// 1,273 bytes; beyond about 1,200 the modules of a 100-point code get smaller than a
/// quarter of a millimetre, which phone cameras read badly.
pub const MAX_LINK_BYTES: usize = 1200;

/// The link for `proof_json` on the page at `verify_page` (no fragment of its own), or the
/// page alone when the link would be longer than [`MAX_LINK_BYTES`].
pub fn verify_link(verify_page: &str, proof_json: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(proof_json, 9);
    let link = format!(
        "{verify_page}#proof={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
    );
    if link.len() <= MAX_LINK_BYTES {
        link
    } else {
        verify_page.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROOF: &str = r#"{"decision":"granted","id":"prf_0kx3m9q2v7w4e8r1t6y5u0i","log":"consentry.example/log","log_index":41,"method":"delegated","notice":{"language":"fr","sha256":"06fbc4c9399feb33dc5259aa623524d800bf52525c3aaeea17df8f283d6d5693","version":"2026-11"},"purpose":"newsletter","recipient":{"address_commitment":"a140cc6dc9490ed79844084ec59fad7b427d731d2f98f3da967d9c66928b0bd0","category":"private"},"recorded_at":"2026-11-23T19:04:05.123Z","request":"req_7h2k9d3f","seal":{"alg":"Ed25519","key_id":"8b81c862681b712b","public_key":"gUZkDwJJOvT7xU/jM4jnXcLJN64LdyfMKyr7G3UZmj4=","signature":"g9OAKwGiohQWAnlCeHdq2eP2Q5oBW5Ko08suugHuSCGDkaDDEBqx2jru8sY9KwLNJrNGhyKfR3o6w0BhLXJYDA=="},"subject":"sub_4f1c9e2a7b3d","tenant":"ten_acme","type":"consentry.proof/v1","valid_until":"2029-11-23T19:04:05.123Z"}"#;

    #[test]
    fn a_proof_travels_whole_in_the_fragment_and_comes_back_byte_for_byte() {
        let link = verify_link("https://consentry.example/verify", PROOF.as_bytes());
        let b64 = link
            .strip_prefix("https://consentry.example/verify#proof=")
            .expect("the proof in the fragment");
        assert!(
            b64.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "base64url without padding: {b64}"
        );
        let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .unwrap();
        let back = miniz_oxide::inflate::decompress_to_vec(&packed).unwrap();
        assert_eq!(back, PROOF.as_bytes());
        assert!(link.len() < 900, "{}", link.len());
        // It fits a QR code at the level the PDF draws.
        let code = crate::qr::encode(&link).unwrap();
        assert!(
            code.width() <= 4 * 27 + 17,
            "version {}",
            (code.width() - 17) / 4
        );
    }

    #[test]
    fn a_proof_too_long_for_a_qr_code_leaves_the_plain_page() {
        let long = PROOF.replace("2026-11", &"v".repeat(3000));
        // Made of one letter, it would compress well: make it incompressible.
        let noisy: String = (0..3000u32)
            .map(|i| char::from(b'a' + ((i.wrapping_mul(2_654_435_761) >> 13) % 26) as u8))
            .collect();
        let long = long.replace(&"v".repeat(3000), &noisy);
        assert_eq!(
            verify_link("https://consentry.example/verify", long.as_bytes()),
            "https://consentry.example/verify"
        );
    }
}
