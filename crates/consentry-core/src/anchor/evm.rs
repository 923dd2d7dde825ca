//! EVM anchors: a checkpoint written as the calldata of a transaction on an EVM chain, with
//! the evidence that lets anyone check it offline, years later.
//!
//! The anchor object a certificate carries names the chain, the transaction and its block
//! (`chain_id`, `tx_hash`, `block_number`, `block_hash`, `from`), and brings its own
//! `evidence`: the block header, the transaction and its receipt, each with the
//! Merkle-Patricia proof that puts it in that header's transactions or receipts trie.
//! Nodes prune old blocks' bodies and receipts (EIP-4444), but a block hash stays easy to
//! look up for as long as the chain lives (any node keeps headers; explorers and the
//! beacon chain keep them too), so the evidence turns "trust the node that still has the
//! transaction" into "compare one 32-byte hash".
//!
//! [`check_evm_anchor`] trusts nothing in the object but `block_hash` (which the verifier
//! compares with the chain out of band): it hashes the header to that hash, walks both
//! proofs from the header's roots, decodes the transaction and checks that its calldata is
//! exactly the checkpoint body, that its receipt says it succeeded, that it was signed for
//! `chain_id` and by `from`. Every check has its own [`EvmAnchorError`] variant, so a
//! report says which one failed and what it expected.
//!
//! Encoding: numbers are JSON numbers; byte strings are `0x`-prefixed **lowercase** hex
//! (one spelling, so two certificates of one anchor are byte-identical); `from` is the
//! EIP-55 checksummed address. Unknown members are refused, at the top and in `evidence`:
//! a member this verifier does not check must not look checked.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Eip658Value, Header, ReceiptEnvelope, Transaction, TxEnvelope, TxReceipt};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::proof::{ProofRetainer, verify_proof};
use alloy_trie::root::adjust_index_for_rlp;
use alloy_trie::{HashBuilder, Nibbles};
use serde::{Deserialize, Serialize};

/// The `kind` member of EVM anchor objects.
pub const KIND: &str = "evm";

/// An EVM anchor object as it appears in a certificate's `anchors`, members as written
/// (hex strings stay strings, so that serializing it again gives the same bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmAnchorObject {
    /// Always `"evm"`.
    pub kind: String,
    /// The chain the transaction was signed for (EIP-155), e.g. 1 for Ethereum mainnet.
    pub chain_id: u64,
    /// Keccak-256 of the transaction's EIP-2718 encoding, `0x` + 64 lowercase hex digits.
    pub tx_hash: String,
    /// The number of the block that includes the transaction.
    pub block_number: u64,
    /// Keccak-256 of that block's RLP header: the one value to compare with the chain.
    pub block_hash: String,
    /// The anchoring address, EIP-55 checksummed, recovered from the transaction's
    /// signature (so a reader can tell the operator's anchors from anyone else's).
    pub from: String,
    /// What makes the anchor checkable without a node that still keeps the block body.
    pub evidence: EvmEvidence,
}

/// The offline evidence of an EVM anchor: the header, the transaction and its receipt,
/// each with its Merkle-Patricia proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmEvidence {
    /// The block header, RLP-encoded exactly as hashed into the block hash.
    pub header: String,
    /// The transaction's position in the block; its trie key is `rlp(transaction_index)`.
    pub transaction_index: u64,
    /// The transaction's EIP-2718 encoding, as stored in the transactions trie.
    pub transaction: String,
    /// The trie nodes from the transactions root down to the transaction's leaf, root first.
    pub transaction_proof: Vec<String>,
    /// The receipt's EIP-2718 encoding, as stored in the receipts trie.
    pub receipt: String,
    /// The trie nodes from the receipts root down to the receipt's leaf, root first.
    pub receipt_proof: Vec<String>,
}

impl EvmAnchorObject {
    /// The object as the JSON map a certificate's `anchors` holds.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            // A struct of strings, numbers and lists always serializes to an object.
            _ => serde_json::Map::new(),
        }
    }
}

/// What a valid EVM anchor establishes: the checkpoint body was on chain `chain_id` in
/// block `block_number` (hash `block_hash`, time `block_time`), sent by `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmFacts {
    /// The chain the transaction was signed for.
    pub chain_id: u64,
    /// The including block's number.
    pub block_number: u64,
    /// The including block's hash, `0x` + lowercase hex: compare it with the chain.
    pub block_hash: String,
    /// The header's timestamp (Unix seconds): the checkpoint existed by then.
    pub block_time: u64,
    /// The transaction's hash, `0x` + lowercase hex.
    pub tx_hash: String,
    /// The signer of the transaction, EIP-55 checksummed.
    pub from: String,
}

/// Why an EVM anchor does not check out: one variant per check, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmAnchorError {
    /// The object does not have the EVM anchor shape: a member is missing, has the wrong
    /// JSON type, or is unknown.
    #[error("EVM anchor shape: {0}")]
    Shape(String),
    /// `kind` is not `"evm"`.
    #[error("EVM anchor kind: expected \"evm\", found {found:?}")]
    Kind {
        /// The `kind` found.
        found: String,
    },
    /// A byte-string member is not `0x`-prefixed lowercase hex of the right length.
    #[error("EVM anchor member {field}: {reason}")]
    Hex {
        /// The member's path, e.g. `evidence.transaction_proof[2]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `from` is not an EIP-55 checksummed address.
    #[error("EVM anchor member from: {reason}")]
    From {
        /// What is wrong with it.
        reason: String,
    },
    /// `evidence.header` is not an RLP block header.
    #[error("EVM anchor header: not an RLP block header: {0}")]
    HeaderDecode(String),
    /// Keccak-256 of `evidence.header` is not `block_hash`: the evidence is for another block.
    #[error("EVM anchor block hash: the header hashes to {found}, the anchor names {expected}")]
    BlockHash {
        /// `block_hash` as the anchor states it.
        expected: String,
        /// Keccak-256 of the header.
        found: String,
    },
    /// The header's number is not `block_number`.
    #[error(
        "EVM anchor block number: the header is block {found}, the anchor names block {expected}"
    )]
    BlockNumber {
        /// `block_number` as the anchor states it.
        expected: u64,
        /// The header's number.
        found: u64,
    },
    /// `evidence.transaction` is not an EIP-2718 transaction.
    #[error("EVM anchor transaction: not an EIP-2718 transaction: {0}")]
    TransactionDecode(String),
    /// Keccak-256 of `evidence.transaction` is not `tx_hash`.
    #[error(
        "EVM anchor transaction hash: the transaction hashes to {found}, the anchor names {expected}"
    )]
    TxHash {
        /// `tx_hash` as the anchor states it.
        expected: String,
        /// Keccak-256 of the transaction bytes.
        found: String,
    },
    /// The transaction proof does not lead from the header's transactions root to the
    /// transaction at `transaction_index`.
    #[error(
        "EVM anchor transaction proof: it does not prove transaction {index} under transactions root {root}: {reason}"
    )]
    TransactionProof {
        /// `evidence.transaction_index`.
        index: u64,
        /// The header's transactions root.
        root: String,
        /// What the proof walk found.
        reason: String,
    },
    /// `evidence.receipt` is not an EIP-2718 receipt.
    #[error("EVM anchor receipt: not an EIP-2718 receipt: {0}")]
    ReceiptDecode(String),
    /// The receipt proof does not lead from the header's receipts root to the receipt at
    /// `transaction_index`.
    #[error(
        "EVM anchor receipt proof: it does not prove receipt {index} under receipts root {root}: {reason}"
    )]
    ReceiptProof {
        /// `evidence.transaction_index`.
        index: u64,
        /// The header's receipts root.
        root: String,
        /// What the proof walk found.
        reason: String,
    },
    /// The receipt says the transaction failed (or, before EIP-658, says nothing).
    #[error("EVM anchor receipt status: expected success (status 1), found {found}")]
    ReceiptStatus {
        /// The status found.
        found: String,
    },
    /// The transaction's calldata is not the checkpoint body: it anchors something else.
    #[error(
        "EVM anchor calldata: expected the checkpoint body ({expected_len} bytes, {expected_start:?}…), found {found_len} bytes ({found_start:?}…)"
    )]
    Calldata {
        /// Length of the checkpoint body.
        expected_len: usize,
        /// The body's first bytes, for the report.
        expected_start: String,
        /// Length of the calldata.
        found_len: usize,
        /// The calldata's first bytes (lossy UTF-8), for the report.
        found_start: String,
    },
    /// The transaction was signed for another chain, or (a pre-EIP-155 legacy
    /// transaction) for none.
    #[error(
        "EVM anchor chain ID: the anchor names chain {expected}, the transaction was signed for {found}"
    )]
    ChainId {
        /// `chain_id` as the anchor states it.
        expected: u64,
        /// The transaction's chain ID, or `no chain (pre-EIP-155)`.
        found: String,
    },
    /// No address can be recovered from the transaction's signature.
    #[error("EVM anchor signature: no signer can be recovered: {0}")]
    Signature(String),
    /// The transaction was signed by another address than `from`.
    #[error(
        "EVM anchor signer: the anchor names {expected}, the transaction was signed by {found}"
    )]
    Signer {
        /// `from` as the anchor states it.
        expected: String,
        /// The recovered signer, EIP-55 checksummed.
        found: String,
    },
}

/// Reads an anchor object into its typed form, checking the shape only (members, JSON
/// types, `kind`); [`check_evm_anchor`] does the rest.
pub fn anchor_from_json(
    anchor: &serde_json::Map<String, serde_json::Value>,
) -> Result<EvmAnchorObject, EvmAnchorError> {
    match anchor.get("kind") {
        Some(serde_json::Value::String(kind)) if kind == KIND => {}
        Some(serde_json::Value::String(kind)) => {
            return Err(EvmAnchorError::Kind {
                found: kind.clone(),
            });
        }
        Some(other) => {
            return Err(EvmAnchorError::Kind {
                found: other.to_string(),
            });
        }
        None => return Err(EvmAnchorError::Shape("missing member `kind`".into())),
    }
    serde_json::from_value(serde_json::Value::Object(anchor.clone()))
        .map_err(|e| EvmAnchorError::Shape(e.to_string()))
}

/// Checks an EVM anchor object offline against `checkpoint_body` (the C2SP tlog-checkpoint
/// text without signature lines). On success, returns what the anchor establishes; the
/// caller still has to compare [`EvmFacts::block_hash`] with the chain (any node, an
/// explorer) — that comparison is the one thing the evidence cannot do for itself.
pub fn check_evm_anchor(
    anchor: &serde_json::Map<String, serde_json::Value>,
    checkpoint_body: &str,
) -> Result<EvmFacts, EvmAnchorError> {
    let object = anchor_from_json(anchor)?;
    check_evm_anchor_object(&object, checkpoint_body)
}

/// [`check_evm_anchor`] on an already typed object.
pub fn check_evm_anchor_object(
    object: &EvmAnchorObject,
    checkpoint_body: &str,
) -> Result<EvmFacts, EvmAnchorError> {
    let evidence = &object.evidence;
    let tx_hash = B256::from(hex_array::<32>("tx_hash", &object.tx_hash)?);
    let block_hash = B256::from(hex_array::<32>("block_hash", &object.block_hash)?);
    let from = parse_checksummed(&object.from)?;
    let header_bytes = hex_bytes("evidence.header", &evidence.header)?;
    let tx_bytes = hex_bytes("evidence.transaction", &evidence.transaction)?;
    let receipt_bytes = hex_bytes("evidence.receipt", &evidence.receipt)?;
    let tx_proof = hex_list("evidence.transaction_proof", &evidence.transaction_proof)?;
    let receipt_proof = hex_list("evidence.receipt_proof", &evidence.receipt_proof)?;

    // The header: it is the block named, and it carries the two roots the proofs start at.
    let header = decode_exact::<Header>(&header_bytes).map_err(EvmAnchorError::HeaderDecode)?;
    let header_hash = keccak256(&header_bytes);
    if header_hash != block_hash {
        return Err(EvmAnchorError::BlockHash {
            expected: object.block_hash.clone(),
            found: hex0x(header_hash.as_slice()),
        });
    }
    if header.number != object.block_number {
        return Err(EvmAnchorError::BlockNumber {
            expected: object.block_number,
            found: header.number,
        });
    }

    // The transaction: the one named, at its index in this block.
    let tx = TxEnvelope::decode_2718_exact(&tx_bytes)
        .map_err(|e| EvmAnchorError::TransactionDecode(e.to_string()))?;
    let found_tx_hash = keccak256(&tx_bytes);
    if found_tx_hash != tx_hash {
        return Err(EvmAnchorError::TxHash {
            expected: object.tx_hash.clone(),
            found: hex0x(found_tx_hash.as_slice()),
        });
    }
    let key = trie_key(evidence.transaction_index);
    verify_proof(
        header.transactions_root,
        key,
        Some(tx_bytes.clone()),
        &tx_proof,
    )
    .map_err(|e| EvmAnchorError::TransactionProof {
        index: evidence.transaction_index,
        root: hex0x(header.transactions_root.as_slice()),
        reason: e.to_string(),
    })?;

    // Its receipt, at the same index: it succeeded.
    let receipt = ReceiptEnvelope::decode_2718_exact(&receipt_bytes)
        .map_err(|e| EvmAnchorError::ReceiptDecode(e.to_string()))?;
    verify_proof(
        header.receipts_root,
        key,
        Some(receipt_bytes.clone()),
        &receipt_proof,
    )
    .map_err(|e| EvmAnchorError::ReceiptProof {
        index: evidence.transaction_index,
        root: hex0x(header.receipts_root.as_slice()),
        reason: e.to_string(),
    })?;
    match receipt.status_or_post_state() {
        Eip658Value::Eip658(true) => {}
        Eip658Value::Eip658(false) => {
            return Err(EvmAnchorError::ReceiptStatus {
                found: "failure (status 0)".into(),
            });
        }
        Eip658Value::PostState(root) => {
            return Err(EvmAnchorError::ReceiptStatus {
                found: format!("a pre-EIP-658 post-state root {}", hex0x(root.as_slice())),
            });
        }
    }

    // What it says: the checkpoint body, for this chain, from this address.
    let input = tx.input();
    if input.as_ref() != checkpoint_body.as_bytes() {
        return Err(EvmAnchorError::Calldata {
            expected_len: checkpoint_body.len(),
            expected_start: preview(checkpoint_body.as_bytes()),
            found_len: input.len(),
            found_start: preview(input),
        });
    }
    match tx.chain_id() {
        Some(id) if id == object.chain_id => {}
        Some(id) => {
            return Err(EvmAnchorError::ChainId {
                expected: object.chain_id,
                found: format!("chain {id}"),
            });
        }
        None => {
            return Err(EvmAnchorError::ChainId {
                expected: object.chain_id,
                found: "no chain (a pre-EIP-155 legacy transaction)".into(),
            });
        }
    }
    let signer = tx
        .recover_signer()
        .map_err(|e| EvmAnchorError::Signature(e.to_string()))?;
    if signer != from {
        return Err(EvmAnchorError::Signer {
            expected: object.from.clone(),
            found: signer.to_checksum(None),
        });
    }

    Ok(EvmFacts {
        chain_id: object.chain_id,
        block_number: header.number,
        block_hash: hex0x(block_hash.as_slice()),
        block_time: header.timestamp,
        tx_hash: hex0x(tx_hash.as_slice()),
        from: signer.to_checksum(None),
    })
}

/// The key of item `index` in a block's transactions and receipts tries: the nibbles of
/// `rlp(index)` (so index 0 is key `0x80`, and 1..=127 are single bytes).
pub fn trie_key(index: u64) -> Nibbles {
    Nibbles::unpack(alloy_rlp::encode(index))
}

/// Builds a block's transactions or receipts trie from its items (EIP-2718 encodings, in
/// block order) and returns its root with the proof of item `index`, root node first — the
/// form [`EvmEvidence`] stores. `None` when `index` is past the end. The anchoring backend
/// uses it to make evidence; it lives here, beside the check, so both agree on the keys.
pub fn block_trie_proof<T: AsRef<[u8]>>(items: &[T], index: usize) -> Option<(B256, Vec<Bytes>)> {
    if index >= items.len() {
        return None;
    }
    let target = trie_key(index as u64);
    let mut builder = HashBuilder::default().with_proof_retainer(ProofRetainer::new(vec![target]));
    // Leaves must be added in key order: rlp(1..=127) sort before rlp(0) = 0x80, which sorts
    // before rlp(128..) = 0x81…; `adjust_index_for_rlp` walks the indices in that order.
    for i in 0..items.len() {
        let item = adjust_index_for_rlp(i, items.len());
        builder.add_leaf(trie_key(item as u64), items.get(item)?.as_ref());
    }
    let root = builder.root();
    let proof = builder
        .take_proof_nodes()
        .matching_nodes_sorted(&target)
        .into_iter()
        .map(|(_, node)| node)
        .collect();
    Some((root, proof))
}

/// `0x` + lowercase hex: the spelling of every byte string in the anchor object.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn decode_exact<T: Decodable>(bytes: &[u8]) -> Result<T, String> {
    let mut rest = bytes;
    let value = T::decode(&mut rest).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} bytes left over after the header", rest.len()));
    }
    Ok(value)
}

fn hex_bytes(field: &str, text: &str) -> Result<Vec<u8>, EvmAnchorError> {
    let err = |reason: String| EvmAnchorError::Hex {
        field: field.to_owned(),
        reason,
    };
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| err("does not start with 0x".into()))?;
    if let Some(bad) = digits.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(err(format!("{bad:?} is not a lowercase hex digit")));
    }
    if digits.len() % 2 != 0 {
        return Err(err(format!("odd number of hex digits ({})", digits.len())));
    }
    hex::decode(digits).map_err(|e| err(e.to_string()))
}

fn hex_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], EvmAnchorError> {
    let bytes = hex_bytes(field, text)?;
    let len = bytes.len();
    bytes.try_into().map_err(|_| EvmAnchorError::Hex {
        field: field.to_owned(),
        reason: format!("expected {N} bytes, found {len}"),
    })
}

fn hex_list(field: &str, items: &[String]) -> Result<Vec<Bytes>, EvmAnchorError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| hex_bytes(&format!("{field}[{i}]"), item).map(Bytes::from))
        .collect()
}

fn parse_checksummed(text: &str) -> Result<Address, EvmAnchorError> {
    Address::parse_checksummed(text, None).map_err(|e| EvmAnchorError::From {
        reason: format!("{text:?} is not an EIP-55 checksummed address ({e})"),
    })
}

fn preview(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(48)];
    String::from_utf8_lossy(shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Receipt, ReceiptWithBloom};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_rlp::Encodable;
    use serde_json::{Map, Value, json};

    /// Recorded from a real anvil node by `crates/consentry-anchor/tests/evm.rs`
    /// (`CONSENTRY_RECORD_EVM_FIXTURE`): `{"body": …, "anchor": …}`.
    const FIXTURE: &str = include_str!("../../tests/vectors/evm_anchor.json");

    fn fixture() -> (Map<String, Value>, String) {
        let doc: Value = serde_json::from_str(FIXTURE).unwrap();
        let anchor = doc["anchor"].as_object().unwrap().clone();
        let body = doc["body"].as_str().unwrap().to_owned();
        (anchor, body)
    }

    fn with(anchor: &Map<String, Value>, path: &[&str], value: Value) -> Map<String, Value> {
        let mut doc = Value::Object(anchor.clone());
        let mut at = &mut doc;
        for key in path {
            at = if let Ok(i) = key.parse::<usize>() {
                &mut at[i]
            } else {
                &mut at[*key]
            };
        }
        *at = value;
        doc.as_object().unwrap().clone()
    }

    /// Flips the last hex digit of a `0x…` string.
    /// Changes the hex digit in the middle of a `0x…` string: for the header, the
    /// transaction and the receipt of the fixture that is inside the logs bloom or the
    /// calldata, so the bytes still decode and only the hash or proof check can notice.
    fn flip_middle(text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == '0' { '1' } else { '0' };
        chars.into_iter().collect()
    }

    fn flip_last(text: &str) -> String {
        let mut s = text.to_owned();
        let last = s.pop().unwrap();
        s.push(if last == '0' { '1' } else { '0' });
        s
    }

    fn get(anchor: &Map<String, Value>, path: &[&str]) -> String {
        let doc = Value::Object(anchor.clone());
        let mut at = &doc;
        for key in path {
            at = if let Ok(i) = key.parse::<usize>() {
                &at[i]
            } else {
                &at[*key]
            };
        }
        at.as_str().unwrap().to_owned()
    }

    #[test]
    fn recorded_anvil_anchor_verifies() {
        let (anchor, body) = fixture();
        let facts = check_evm_anchor(&anchor, &body).unwrap();
        assert_eq!(facts.chain_id, 31337);
        assert_eq!(Value::from(facts.block_number), anchor["block_number"]);
        assert_eq!(facts.block_hash, anchor["block_hash"].as_str().unwrap());
        assert_eq!(facts.tx_hash, anchor["tx_hash"].as_str().unwrap());
        assert_eq!(facts.from, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert!(facts.block_time > 1_600_000_000);
        // The typed form round-trips to the same members.
        assert_eq!(anchor_from_json(&anchor).unwrap().to_map(), anchor);
    }

    #[test]
    fn another_checkpoint_body_is_not_this_anchor() {
        let (anchor, body) = fixture();
        let other = body.replacen('\n', "\n1", 1);
        assert!(matches!(
            check_evm_anchor(&anchor, &other),
            Err(EvmAnchorError::Calldata { .. })
        ));
        assert!(
            matches!(check_evm_anchor(&anchor, ""), Err(EvmAnchorError::Calldata { found_len, .. }) if found_len == body.len())
        );
    }

    #[test]
    fn each_tampered_member_fails_its_own_check() {
        let (anchor, body) = fixture();
        let check = |a: &Map<String, Value>| check_evm_anchor(a, &body).unwrap_err();

        assert!(matches!(
            check(&with(&anchor, &["kind"], json!("rfc3161"))),
            EvmAnchorError::Kind { .. }
        ));
        let chain = anchor["chain_id"].as_u64().unwrap();
        assert_eq!(
            check(&with(&anchor, &["chain_id"], json!(chain + 1))),
            EvmAnchorError::ChainId {
                expected: chain + 1,
                found: format!("chain {chain}")
            }
        );
        assert!(matches!(
            check(&with(
                &anchor,
                &["tx_hash"],
                json!(flip_last(&get(&anchor, &["tx_hash"])))
            )),
            EvmAnchorError::TxHash { .. }
        ));
        let number = anchor["block_number"].as_u64().unwrap();
        assert_eq!(
            check(&with(&anchor, &["block_number"], json!(number + 1))),
            EvmAnchorError::BlockNumber {
                expected: number + 1,
                found: number
            }
        );
        assert!(matches!(
            check(&with(
                &anchor,
                &["block_hash"],
                json!(flip_last(&get(&anchor, &["block_hash"])))
            )),
            EvmAnchorError::BlockHash { .. }
        ));
        // Another valid address (anvil's second dev account), checksummed.
        assert!(matches!(
            check(&with(
                &anchor,
                &["from"],
                json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
            )),
            EvmAnchorError::Signer { .. }
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["from"],
                json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266")
            )),
            EvmAnchorError::From { .. }
        ));
        // A header with one byte changed in its last field: still decodes, hashes elsewhere.
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "header"],
                json!(flip_middle(&get(&anchor, &["evidence", "header"])))
            )),
            EvmAnchorError::BlockHash { .. }
        ));
        assert!(matches!(
            check(&with(&anchor, &["evidence", "header"], json!("0xc0"))),
            EvmAnchorError::HeaderDecode(_)
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "transaction"],
                json!(flip_middle(&get(&anchor, &["evidence", "transaction"])))
            )),
            EvmAnchorError::TxHash { .. }
        ));
        assert!(matches!(
            check(&with(&anchor, &["evidence", "transaction"], json!("0x02"))),
            EvmAnchorError::TransactionDecode(_)
        ));
        assert!(matches!(
            check(&with(&anchor, &["evidence", "receipt"], json!("0x02c0"))),
            EvmAnchorError::ReceiptDecode(_)
        ));
        assert!(matches!(
            check(&with(&anchor, &["evidence", "transaction_index"], json!(1))),
            EvmAnchorError::TransactionProof { index: 1, .. }
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "transaction_proof", "0"],
                json!(flip_last(&get(
                    &anchor,
                    &["evidence", "transaction_proof", "0"]
                )))
            )),
            EvmAnchorError::TransactionProof { .. }
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "transaction_proof"],
                json!([])
            )),
            EvmAnchorError::TransactionProof { .. }
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "receipt"],
                json!(flip_middle(&get(&anchor, &["evidence", "receipt"])))
            )),
            EvmAnchorError::ReceiptProof { .. }
        ));
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "receipt_proof", "0"],
                json!(flip_last(&get(
                    &anchor,
                    &["evidence", "receipt_proof", "0"]
                )))
            )),
            EvmAnchorError::ReceiptProof { .. }
        ));
        // The receipt proof offered as the transaction proof, and the reverse.
        let receipt_proof = anchor["evidence"]["receipt_proof"].clone();
        assert!(matches!(
            check(&with(
                &anchor,
                &["evidence", "transaction_proof"],
                receipt_proof
            )),
            EvmAnchorError::TransactionProof { .. }
        ));
    }

    #[test]
    fn bad_shapes_and_hex_are_named() {
        let (anchor, body) = fixture();
        let check = |a: &Map<String, Value>| check_evm_anchor(a, &body).unwrap_err();
        let mut extra = anchor.clone();
        extra.insert("note".into(), json!("unchecked"));
        assert!(matches!(check(&extra), EvmAnchorError::Shape(m) if m.contains("note")));
        let extra = with(&anchor, &["evidence", "logs_bloom"], json!("0x00"));
        assert!(matches!(check(&extra), EvmAnchorError::Shape(m) if m.contains("logs_bloom")));
        let mut missing = anchor.clone();
        missing.remove("evidence");
        assert!(matches!(check(&missing), EvmAnchorError::Shape(m) if m.contains("evidence")));
        let mut no_kind = anchor.clone();
        no_kind.remove("kind");
        assert!(matches!(check(&no_kind), EvmAnchorError::Shape(_)));
        assert!(matches!(
            check(&with(&anchor, &["block_number"], json!("12"))),
            EvmAnchorError::Shape(_)
        ));

        let upper = get(&anchor, &["tx_hash"])
            .to_uppercase()
            .replacen("0X", "0x", 1);
        assert!(
            matches!(check(&with(&anchor, &["tx_hash"], json!(upper))), EvmAnchorError::Hex { field, .. } if field == "tx_hash")
        );
        let no_prefix = get(&anchor, &["block_hash"])
            .trim_start_matches("0x")
            .to_owned();
        assert!(
            matches!(check(&with(&anchor, &["block_hash"], json!(no_prefix))), EvmAnchorError::Hex { field, .. } if field == "block_hash")
        );
        assert!(
            matches!(check(&with(&anchor, &["tx_hash"], json!("0xabcd"))), EvmAnchorError::Hex { reason, .. } if reason.contains("32 bytes"))
        );
        assert!(matches!(
            check(&with(&anchor, &["evidence", "receipt_proof", "0"], json!("0xabc"))),
            EvmAnchorError::Hex { field, .. } if field == "evidence.receipt_proof[0]"
        ));
        assert!(matches!(
            check(&with(&anchor, &["evidence", "transaction"], json!("0xzz"))),
            EvmAnchorError::Hex { field, .. } if field == "evidence.transaction"
        ));
    }

    /// A block built here around the recorded transaction, with `count` items per trie and
    /// ours at `index`, so that keys past 0x7f and deep tries are covered too.
    fn synthetic(count: usize, index: usize, receipt_ok: bool) -> (Map<String, Value>, String) {
        let (recorded, body) = fixture();
        let object = anchor_from_json(&recorded).unwrap();
        let tx = hex_bytes("t", &object.evidence.transaction).unwrap();
        let receipt = ReceiptEnvelope::Eip1559(ReceiptWithBloom::new(
            Receipt {
                status: Eip658Value::Eip658(receipt_ok),
                cumulative_gas_used: 30_000,
                logs: vec![],
            },
            Default::default(),
        ))
        .encoded_2718();
        let mut txs: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("other transaction {i}").into_bytes())
            .collect();
        let mut receipts: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("other receipt {i}").into_bytes())
            .collect();
        txs[index] = tx.clone();
        receipts[index] = receipt.clone();
        let (tx_root, tx_proof) = block_trie_proof(&txs, index).unwrap();
        let (receipt_root, receipt_proof) = block_trie_proof(&receipts, index).unwrap();
        let header = Header {
            number: 4242,
            timestamp: 1_700_000_000,
            transactions_root: tx_root,
            receipts_root: receipt_root,
            base_fee_per_gas: Some(7),
            ..Default::default()
        };
        let mut header_bytes = Vec::new();
        header.encode(&mut header_bytes);
        let anchor = EvmAnchorObject {
            block_number: 4242,
            block_hash: hex0x(keccak256(&header_bytes).as_slice()),
            evidence: EvmEvidence {
                header: hex0x(&header_bytes),
                transaction_index: index as u64,
                transaction: hex0x(&tx),
                transaction_proof: tx_proof.iter().map(|n| hex0x(n)).collect(),
                receipt: hex0x(&receipt),
                receipt_proof: receipt_proof.iter().map(|n| hex0x(n)).collect(),
            },
            ..object
        };
        (anchor.to_map(), body)
    }

    #[test]
    fn proofs_in_larger_blocks_verify_at_every_kind_of_key() {
        for (count, index) in [
            (1, 0),
            (2, 0),
            (2, 1),
            (130, 0),
            (130, 1),
            (130, 127),
            (130, 128),
            (300, 299),
            (300, 200),
        ] {
            let (anchor, body) = synthetic(count, index, true);
            let facts = check_evm_anchor(&anchor, &body)
                .unwrap_or_else(|e| panic!("{count} items, index {index}: {e}"));
            assert_eq!(
                (facts.block_number, facts.block_time),
                (4242, 1_700_000_000)
            );
            // The same proof does not prove a neighbour's slot.
            let neighbour = if index + 1 < count {
                index + 1
            } else {
                index.saturating_sub(1)
            };
            if neighbour != index {
                let moved = with(
                    &anchor,
                    &["evidence", "transaction_index"],
                    json!(neighbour),
                );
                assert!(matches!(
                    check_evm_anchor(&moved, &body),
                    Err(EvmAnchorError::TransactionProof { .. })
                ));
            }
        }
    }

    #[test]
    fn a_failed_transaction_is_no_anchor() {
        let (anchor, body) = synthetic(3, 1, false);
        assert_eq!(
            check_evm_anchor(&anchor, &body).unwrap_err(),
            EvmAnchorError::ReceiptStatus {
                found: "failure (status 0)".into()
            }
        );
    }

    #[test]
    fn trie_keys_are_rlp_of_the_index() {
        assert_eq!(trie_key(0), Nibbles::unpack([0x80]));
        assert_eq!(trie_key(1), Nibbles::unpack([0x01]));
        assert_eq!(trie_key(127), Nibbles::unpack([0x7f]));
        assert_eq!(trie_key(128), Nibbles::unpack([0x81, 0x80]));
        assert_eq!(trie_key(256), Nibbles::unpack([0x82, 0x01, 0x00]));
    }
}
