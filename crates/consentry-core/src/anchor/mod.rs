//! Offline checks of the anchors a certificate carries: the evidence that a checkpoint
//! existed by some time. Both kinds anchor the checkpoint **body** (the C2SP
//! tlog-checkpoint text without signature lines): an EVM transaction carries it as
//! calldata, an RFC 3161 time-stamp token carries SHA-256 of it as its message imprint.
//!
//! These checks trust nothing but what the caller supplies: for EVM, the block hash
//! (anyone can compare it with any node or explorer); for RFC 3161, the TSA's CA
//! certificates if given (otherwise the signature is checked against the certificate
//! the token carries and the report says the chain was not checked).

pub mod evm;
pub mod rfc3161;

use serde_json::{Map, Value};

/// The kinds of anchor this build checks. An anchor object names its kind in its `kind`
/// member; code dispatches on this type, never on the member's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnchorKind {
    /// A transaction on an EVM chain carrying the checkpoint body as calldata.
    Evm,
    /// An RFC 3161 time-stamp token over SHA-256 of the checkpoint body.
    Rfc3161,
}

impl AnchorKind {
    /// Every kind.
    pub const ALL: [AnchorKind; 2] = [AnchorKind::Evm, AnchorKind::Rfc3161];

    /// The `kind` member's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            AnchorKind::Evm => evm::KIND,
            AnchorKind::Rfc3161 => rfc3161::KIND,
        }
    }

    /// Parses a `kind` value; `None` for a kind this build does not know.
    pub fn parse(s: &str) -> Option<AnchorKind> {
        AnchorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind an anchor object names: `Err` with the member's text (or `None` when it
    /// has no string `kind`) for one this build does not know.
    pub fn of(anchor: &Map<String, Value>) -> Result<AnchorKind, Option<String>> {
        match anchor.get("kind").and_then(Value::as_str) {
            Some(k) => AnchorKind::parse(k).ok_or_else(|| Some(k.to_owned())),
            None => Err(None),
        }
    }
}

impl std::fmt::Display for AnchorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_objects_name_theirs() {
        for k in AnchorKind::ALL {
            assert_eq!(AnchorKind::parse(k.as_str()), Some(k));
        }
        let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            AnchorKind::of(&obj(serde_json::json!({"kind": "evm"}))),
            Ok(AnchorKind::Evm)
        );
        assert_eq!(
            AnchorKind::of(&obj(serde_json::json!({"kind": "ots"}))),
            Err(Some("ots".to_owned()))
        );
        assert_eq!(
            AnchorKind::of(&obj(serde_json::json!({"kind": 1}))),
            Err(None)
        );
        assert_eq!(AnchorKind::of(&obj(serde_json::json!({}))), Err(None));
    }
}
