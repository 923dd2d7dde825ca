//! EVM anchoring: the checkpoint body becomes the calldata of an EIP-1559 transaction the
//! operator's key sends (to itself by default, value 0), on any EVM chain with a JSON-RPC
//! node — Ethereum, an L2, a consortium chain.
//!
//! The steps follow [`Anchor`]: [`EvmAnchor::prepare`] reads the chain ID, nonce and fees
//! from the node, checks the balance and *signs* the transaction, but sends nothing; the
//! caller stores the signed bytes. [`EvmAnchor::advance`] (re)broadcasts exactly those bytes
//! — re-sending one signed transaction can only ever include it once — and waits for its
//! receipt and confirmations. Once confirmed it fetches the block and all its receipts,
//! rebuilds both tries to make the Merkle-Patricia proofs, and runs the core's offline check
//! ([`consentry_core::anchor::evm::check_evm_anchor`]) on the object before returning it:
//! nothing leaves this module that a verifier would reject.
//!
//! If the nonce is taken by another transaction (a replacement, or a drop and reuse),
//! `advance` says [`Progress::Restart`]: the intent can never complete and a fresh one must
//! be prepared. [`EvmAnchor::recheck`] tells whether the block is still canonical, and
//! [`check_online`] is what `consentry verify --rpc URL` asks a node.
//!
//! Errors: transport failures (connection refused, timeouts, HTTP 5xx/429) are
//! [`AnchorError::Unreachable`]; the node's JSON-RPC refusals (insufficient funds,
//! underpriced) are [`AnchorError::Refused`]; answers that do not check out are
//! [`AnchorError::Invalid`]. Messages never carry the RPC URL (providers put API keys in
//! it) nor anything of the key.

use std::path::Path;
use std::time::Duration;

use alloy::consensus::{SignableTransaction, Transaction as _, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::{Decodable2718, Encodable2718};
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::client::RpcClient;
use alloy::rpc::types::{TransactionInput, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::{Http, reqwest};
use alloy::transports::{RpcError, TransportErrorKind};
use consentry_core::anchor::evm::{
    EvmAnchorObject, EvmEvidence, KIND, anchor_from_json, block_trie_proof, check_evm_anchor, hex0x,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Anchor, AnchorError, AnchorObject, BoxFuture, Progress, Recheck};

/// How long one JSON-RPC request may take unless configured otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the EVM anchor needs: a node, a funded key, and how sure to be.
pub struct EvmConfig {
    /// The JSON-RPC endpoint (`http://` or `https://`). It may hold an API key, so it is
    /// never printed whole.
    pub rpc_url: String,
    /// The anchoring key; its address pays the gas and signs every anchor.
    pub key: PrivateKeySigner,
    /// How many blocks (the including one counted) must exist before an anchor is final:
    /// 1 trusts the newest block; more guards against reorganisations.
    pub confirmations: u64,
    /// Where the transaction goes; `None` sends it to the anchoring address itself, so no
    /// contract and no third party is involved.
    pub to: Option<Address>,
    /// How long one JSON-RPC request may take before the node counts as unreachable.
    pub request_timeout: Duration,
}

impl EvmConfig {
    /// A configuration with the defaults: 1 confirmation, sent to self,
    /// [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn new(rpc_url: impl Into<String>, key: PrivateKeySigner) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            key,
            confirmations: 1,
            to: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// Reads the anchoring key from a file holding its 32 bytes as hex (`0x` optional,
    /// surrounding whitespace ignored). The file's bytes are wiped from memory once read,
    /// and no error message quotes them.
    pub fn key_from_file(path: &Path) -> Result<PrivateKeySigner, AnchorError> {
        let shown = path.display();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            AnchorError::Config(format!("EVM key file {shown}: cannot read it: {e}"))
        })?);
        warn_if_readable_by_others(path);
        parse_key(&text)
            .map_err(|reason| AnchorError::Config(format!("EVM key file {shown}: {reason}")))
    }

    /// Reads the anchoring key from hex text, as [`EvmConfig::key_from_file`] reads a file's
    /// content: for a key passed in the environment (`CONSENTRY_ANCHOR_EVM_KEY`), where no
    /// file can be kept. No error message quotes it.
    pub fn key_from_hex(text: &str) -> Result<PrivateKeySigner, AnchorError> {
        parse_key(text).map_err(|reason| AnchorError::Config(format!("EVM key: {reason}")))
    }
}

/// A secp256k1 private key from 64 hex digits; the error never contains the text.
fn parse_key(text: &str) -> Result<PrivateKeySigner, String> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "expected a private key as 64 hex digits (optionally 0x-prefixed), found {} characters that are not",
            digits.len()
        ));
    }
    let bytes = Zeroizing::new(hex::decode(digits).map_err(|_| "not hex".to_owned())?);
    PrivateKeySigner::from_slice(&bytes).map_err(|_| "not a valid secp256k1 private key".to_owned())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the EVM key file is readable by other users: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

impl std::fmt::Debug for EvmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvmConfig")
            .field("rpc_url", &redact_url(&self.rpc_url))
            .field(
                "key",
                &format_args!("<secret key of {}>", self.key.address()),
            )
            .field("confirmations", &self.confirmations)
            .field("to", &self.to)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// The URL's scheme and host only: paths and query strings often carry API keys.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let rest = if parsed.path() == "/" && parsed.query().is_none() {
                ""
            } else {
                "/…"
            };
            format!(
                "{}://{}{port}{rest}",
                parsed.scheme(),
                parsed.host_str().unwrap_or("?")
            )
        }
        Err(_) => "<unparsable URL>".into(),
    }
}

/// The EVM anchoring backend (see the module documentation).
pub struct EvmAnchor {
    provider: RootProvider,
    signer: PrivateKeySigner,
    confirmations: u64,
    to: Address,
    chain_id: tokio::sync::OnceCell<u64>,
}

impl std::fmt::Debug for EvmAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvmAnchor")
            .field("address", &self.signer.address())
            .field("confirmations", &self.confirmations)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// What [`EvmAnchor::prepare`] returns and [`EvmAnchor::advance`] takes: the signed
/// transaction and what it was signed with.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Intent {
    /// The signed transaction, EIP-2718, `0x` hex.
    raw: String,
    tx_hash: String,
    nonce: u64,
    from: String,
    chain_id: u64,
}

impl EvmAnchor {
    /// Sets the backend up; talks to no node yet (the chain ID is read on first use).
    pub fn new(cfg: EvmConfig) -> Result<Self, AnchorError> {
        if cfg.confirmations == 0 {
            return Err(AnchorError::Config(
                "EVM confirmations must be at least 1".into(),
            ));
        }
        let provider = connect(&cfg.rpc_url, cfg.request_timeout)?;
        let to = cfg.to.unwrap_or_else(|| cfg.key.address());
        Ok(Self {
            provider,
            signer: cfg.key,
            confirmations: cfg.confirmations,
            to,
            chain_id: tokio::sync::OnceCell::new(),
        })
    }

    /// The anchoring address: it signs the anchors and must hold the gas money.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The node's chain ID, read once: a node never changes chains under a running
    /// process, and every transaction must be signed for it.
    pub async fn chain_id(&self) -> Result<u64, AnchorError> {
        self.chain_id
            .get_or_try_init(|| async {
                self.provider
                    .get_chain_id()
                    .await
                    .map_err(|e| rpc_error("eth_chainId", e))
            })
            .await
            .copied()
    }

    async fn prepare_inner(&self, body: &str) -> Result<serde_json::Value, AnchorError> {
        let chain_id = self.chain_id().await?;
        let from = self.address();
        let nonce = self
            .provider
            .get_transaction_count(from)
            .pending()
            .await
            .map_err(|e| rpc_error("eth_getTransactionCount", e))?;
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| rpc_error("eth_feeHistory", e))?;
        let input = Bytes::copy_from_slice(body.as_bytes());
        // Estimated with no fee fields, so the node does not refuse on the balance: the
        // balance check below says it more usefully.
        let request = TransactionRequest {
            from: Some(from),
            to: Some(TxKind::Call(self.to)),
            value: Some(U256::ZERO),
            input: TransactionInput::new(input.clone()),
            ..Default::default()
        };
        let gas_limit = self
            .provider
            .estimate_gas(request)
            .await
            .map_err(|e| rpc_error("eth_estimateGas", e))?;
        let balance = self
            .provider
            .get_balance(from)
            .await
            .map_err(|e| rpc_error("eth_getBalance", e))?;
        let needed = U256::from(gas_limit) * U256::from(fees.max_fee_per_gas);
        if balance < needed {
            return Err(AnchorError::Refused(format!(
                "insufficient funds: {} holds {balance} wei, anchoring needs up to {needed} wei ({gas_limit} gas at up to {} wei per gas) on chain {chain_id}",
                from.to_checksum(None),
                fees.max_fee_per_gas
            )));
        }
        let mut tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            to: TxKind::Call(self.to),
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        };
        let signature = self
            .signer
            .sign_transaction_sync(&mut tx)
            .map_err(|e| AnchorError::Config(format!("signing the anchor transaction: {e}")))?;
        let envelope = TxEnvelope::from(tx.into_signed(signature));
        let intent = Intent {
            raw: hex0x(&envelope.encoded_2718()),
            tx_hash: hex0x(envelope.tx_hash().as_slice()),
            nonce,
            from: from.to_checksum(None),
            chain_id,
        };
        serde_json::to_value(&intent).map_err(|e| AnchorError::Invalid(format!("EVM intent: {e}")))
    }

    async fn advance_inner(
        &self,
        body: &str,
        intent: &serde_json::Value,
    ) -> Result<Progress, AnchorError> {
        let intent: Intent = serde_json::from_value(intent.clone()).map_err(|e| {
            AnchorError::Invalid(format!("EVM intent: not an intent of this backend: {e}"))
        })?;
        let raw = decode_hex(&intent.raw)
            .ok_or_else(|| AnchorError::Invalid("EVM intent: raw is not 0x hex".into()))?;
        let tx = TxEnvelope::decode_2718_exact(&raw).map_err(|e| {
            AnchorError::Invalid(format!("EVM intent: raw is not a transaction: {e}"))
        })?;
        let tx_hash = keccak256(&raw);
        if hex0x(tx_hash.as_slice()) != intent.tx_hash {
            return Err(AnchorError::Invalid(
                "EVM intent: tx_hash is not the hash of raw".into(),
            ));
        }
        if tx.input().as_ref() != body.as_bytes() {
            return Err(AnchorError::Invalid(format!(
                "EVM intent: transaction {} does not carry this checkpoint body",
                intent.tx_hash
            )));
        }
        let chain_id = self.chain_id().await?;
        if tx.chain_id() != Some(chain_id) {
            return Err(AnchorError::Config(format!(
                "EVM intent: transaction {} was signed for chain {:?}, the node serves chain {chain_id}",
                intent.tx_hash,
                tx.chain_id()
            )));
        }
        let from =
            alloy::consensus::transaction::SignerRecoverable::recover_signer(&tx).map_err(|e| {
                AnchorError::Invalid(format!("EVM intent: no signer can be recovered: {e}"))
            })?;

        let mut receipt = self.receipt(tx_hash).await?;
        if receipt.is_none() {
            let broadcast = self.broadcast(&raw).await?;
            receipt = self.receipt(tx_hash).await?;
            if receipt.is_none() {
                let mined_nonce = self
                    .provider
                    .get_transaction_count(from)
                    .latest()
                    .await
                    .map_err(|e| rpc_error("eth_getTransactionCount", e))?;
                if mined_nonce <= intent.nonce {
                    return Ok(Progress::Waiting(match broadcast {
                        Broadcast::Sent => format!(
                            "transaction {} is in the mempool (nonce {})",
                            intent.tx_hash, intent.nonce
                        ),
                        Broadcast::NonceContested(why) => format!(
                            "transaction {} is not in the mempool (the node said: {why}); nonce {} is still unused, waiting for the transaction that takes it",
                            intent.tx_hash, intent.nonce
                        ),
                    }));
                }
                // The nonce is used; unless ours was mined just now, another took it.
                receipt = self.receipt(tx_hash).await?;
                if receipt.is_none() {
                    return Ok(Progress::Restart(format!(
                        "nonce {} of {} was used by another transaction: {} was replaced or dropped",
                        intent.nonce,
                        from.to_checksum(None),
                        intent.tx_hash
                    )));
                }
            }
        }
        let Some(receipt) = receipt else {
            return Ok(Progress::Waiting(format!(
                "transaction {} has no receipt yet",
                intent.tx_hash
            )));
        };
        let block_number = receipt
            .block_number
            .ok_or_else(|| AnchorError::Invalid("the node's receipt names no block".into()))?;
        if !receipt.status() {
            return Ok(Progress::Restart(format!(
                "transaction {} failed (status 0) in block {block_number}",
                intent.tx_hash
            )));
        }
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| rpc_error("eth_blockNumber", e))?;
        let confirmations = (head + 1).saturating_sub(block_number);
        if confirmations < self.confirmations {
            return Ok(Progress::Waiting(format!(
                "{confirmations} of {} confirmations (transaction {} in block {block_number})",
                self.confirmations, intent.tx_hash
            )));
        }
        self.assemble(&receipt, body).await
    }

    async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, AnchorError> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| rpc_error("eth_getTransactionReceipt", e))
    }

    async fn broadcast(&self, raw: &[u8]) -> Result<Broadcast, AnchorError> {
        match self.provider.send_raw_transaction(raw).await {
            Ok(_) => Ok(Broadcast::Sent),
            Err(RpcError::ErrorResp(payload)) => {
                let message = payload.message.to_lowercase();
                if message.contains("already known")
                    || message.contains("known transaction")
                    || message.contains("already imported")
                    || message.contains("already exists")
                {
                    Ok(Broadcast::Sent)
                } else if message.contains("nonce too low")
                    || message.contains("underpriced")
                    || message.contains("replacement")
                    || message.contains("nonce")
                {
                    Ok(Broadcast::NonceContested(payload.message.to_string()))
                } else {
                    Err(AnchorError::Refused(format!(
                        "eth_sendRawTransaction: the node refused: {} (code {})",
                        payload.message, payload.code
                    )))
                }
            }
            Err(e) => Err(rpc_error("eth_sendRawTransaction", e)),
        }
    }

    /// Builds the anchor object of a confirmed, successful receipt and checks it.
    async fn assemble(
        &self,
        receipt: &TransactionReceipt,
        body: &str,
    ) -> Result<Progress, AnchorError> {
        let missing =
            |what: &str| AnchorError::Invalid(format!("the node's receipt has no {what}"));
        let block_hash = receipt.block_hash.ok_or_else(|| missing("block hash"))?;
        let block_number = receipt
            .block_number
            .ok_or_else(|| missing("block number"))?;
        let index = receipt
            .transaction_index
            .ok_or_else(|| missing("transaction index"))?;
        let index_usize =
            usize::try_from(index).map_err(|_| missing("usable transaction index"))?;

        let Some(block) = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(block_number))
            .full()
            .await
            .map_err(|e| match e {
                RpcError::DeserError { err, .. } => AnchorError::Invalid(format!(
                    "block {block_number}: its transactions are not all of Ethereum's types ({err}); \
                     blocks with chain-specific transactions (OP-stack deposits, Arbitrum system \
                     transactions) cannot be proven by this backend yet"
                )),
                e => rpc_error("eth_getBlockByNumber", e),
            })?
        else {
            return Ok(Progress::Waiting(format!(
                "block {block_number} is not served by the node (yet)"
            )));
        };
        if block.header.hash != block_hash {
            return Ok(Progress::Waiting(format!(
                "block {block_number} is now {}, not the receipt's {}: a reorganisation is under way",
                hex0x(block.header.hash.as_slice()),
                hex0x(block_hash.as_slice())
            )));
        }
        let header = alloy_rlp::encode(&block.header.inner);
        if keccak256(&header) != block_hash {
            return Err(AnchorError::Invalid(format!(
                "block {block_number}: its header, RLP-encoded as Ethereum's, does not hash to its block hash {}; this chain's blocks cannot be proven with Ethereum headers",
                hex0x(block_hash.as_slice())
            )));
        }
        let transactions = block.transactions.as_transactions().ok_or_else(|| {
            AnchorError::Invalid(format!(
                "block {block_number}: the node returned hashes, not full transactions"
            ))
        })?;
        let encoded_txs: Vec<Vec<u8>> = transactions
            .iter()
            .map(|tx| tx.inner.inner().encoded_2718())
            .collect();
        let receipts = self
            .block_receipts(
                block_hash,
                transactions.iter().map(|tx| *tx.inner.inner().tx_hash()),
            )
            .await?;
        if receipts.len() != encoded_txs.len() {
            return Err(AnchorError::Invalid(format!(
                "block {block_number}: {} transactions but {} receipts",
                encoded_txs.len(),
                receipts.len()
            )));
        }
        let encoded_receipts: Vec<Vec<u8>> = receipts
            .into_iter()
            .map(|r| r.inner.into_primitives_receipt().encoded_2718())
            .collect();

        let root_mismatch = |which: &str, built: B256, header: B256| {
            AnchorError::Invalid(format!(
                "block {block_number}: the {which} root rebuilt from the node's answers is {}, the header says {}",
                hex0x(built.as_slice()),
                hex0x(header.as_slice())
            ))
        };
        let out_of_range =
            || AnchorError::Invalid(format!("block {block_number} has no transaction {index}"));
        let (tx_root, tx_proof) =
            block_trie_proof(&encoded_txs, index_usize).ok_or_else(out_of_range)?;
        if tx_root != block.header.inner.transactions_root {
            return Err(root_mismatch(
                "transactions",
                tx_root,
                block.header.inner.transactions_root,
            ));
        }
        let (receipt_root, receipt_proof) =
            block_trie_proof(&encoded_receipts, index_usize).ok_or_else(out_of_range)?;
        if receipt_root != block.header.inner.receipts_root {
            return Err(root_mismatch(
                "receipts",
                receipt_root,
                block.header.inner.receipts_root,
            ));
        }
        let transaction = encoded_txs.get(index_usize).ok_or_else(out_of_range)?;
        let receipt_bytes = encoded_receipts.get(index_usize).ok_or_else(out_of_range)?;
        let tx = TxEnvelope::decode_2718_exact(transaction).map_err(|e| {
            AnchorError::Invalid(format!("block {block_number}, transaction {index}: {e}"))
        })?;
        let signer = alloy::consensus::transaction::SignerRecoverable::recover_signer(&tx)
            .map_err(|e| {
                AnchorError::Invalid(format!("block {block_number}, transaction {index}: {e}"))
            })?;

        let object = EvmAnchorObject {
            kind: KIND.into(),
            chain_id: self.chain_id().await?,
            tx_hash: hex0x(keccak256(transaction).as_slice()),
            block_number,
            block_hash: hex0x(block_hash.as_slice()),
            from: signer.to_checksum(None),
            evidence: EvmEvidence {
                header: hex0x(&header),
                transaction_index: index,
                transaction: hex0x(transaction),
                transaction_proof: tx_proof.iter().map(|node| hex0x(node)).collect(),
                receipt: hex0x(receipt_bytes),
                receipt_proof: receipt_proof.iter().map(|node| hex0x(node)).collect(),
            },
        };
        let anchor = object.to_map();
        check_evm_anchor(&anchor, body).map_err(|e| {
            AnchorError::Invalid(format!("the assembled EVM anchor does not verify: {e}"))
        })?;
        Ok(Progress::Anchored(anchor))
    }

    /// All receipts of a block, in transaction order: `eth_getBlockReceipts` where the node
    /// has it, one `eth_getTransactionReceipt` per transaction where it does not.
    async fn block_receipts(
        &self,
        block_hash: B256,
        tx_hashes: impl Iterator<Item = B256>,
    ) -> Result<Vec<TransactionReceipt>, AnchorError> {
        let mut receipts = match self
            .provider
            .get_block_receipts(BlockId::hash(block_hash))
            .await
        {
            Ok(Some(receipts)) => receipts,
            Ok(None) => {
                return Err(AnchorError::Invalid(format!(
                    "eth_getBlockReceipts: the node has no receipts for block {}",
                    hex0x(block_hash.as_slice())
                )));
            }
            Err(RpcError::ErrorResp(payload))
                if payload.code == -32601 || payload.code == -32600 =>
            {
                let mut receipts = Vec::new();
                for hash in tx_hashes {
                    let receipt = self.receipt(hash).await?.ok_or_else(|| {
                        AnchorError::Invalid(format!(
                            "the node has no receipt for {}",
                            hex0x(hash.as_slice())
                        ))
                    })?;
                    receipts.push(receipt);
                }
                receipts
            }
            Err(e) => return Err(rpc_error("eth_getBlockReceipts", e)),
        };
        receipts.sort_by_key(|r| r.transaction_index);
        if let Some(stray) = receipts.iter().find(|r| r.block_hash != Some(block_hash)) {
            return Err(AnchorError::Invalid(format!(
                "the node answered a receipt of another block for {}",
                hex0x(stray.transaction_hash.as_slice())
            )));
        }
        Ok(receipts)
    }

    async fn recheck_inner(&self, anchor: &AnchorObject) -> Result<Recheck, AnchorError> {
        let object = anchor_from_json(anchor).map_err(|e| AnchorError::Invalid(e.to_string()))?;
        let chain_id = self.chain_id().await?;
        if object.chain_id != chain_id {
            return Err(AnchorError::Config(format!(
                "the anchor is on chain {}, the node serves chain {chain_id}: it cannot be rechecked here",
                object.chain_id
            )));
        }
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(object.block_number))
            .await
            .map_err(|e| rpc_error("eth_getBlockByNumber", e))?;
        Ok(match block {
            // Conservative: a node that lags looks the same as a chain reorganised to a
            // shorter one, and anchoring again costs only gas.
            None => Recheck::Invalid(format!(
                "block {} is no longer on the chain (the node's head is {}): it was reorganised away, or the node lags (anchored in {})",
                object.block_number,
                self.provider
                    .get_block_number()
                    .await
                    .map_err(|e| rpc_error("eth_blockNumber", e))?,
                object.block_hash
            )),
            Some(block) if hex0x(block.header.hash.as_slice()) != object.block_hash => {
                Recheck::Invalid(format!(
                    "block {} was reorganised: now {}, the anchor's was {}",
                    object.block_number,
                    hex0x(block.header.hash.as_slice()),
                    object.block_hash
                ))
            }
            Some(_) => Recheck::Valid,
        })
    }
}

enum Broadcast {
    /// The node took the transaction (or already had it).
    Sent,
    /// The node refused it over its nonce (too low, or a pending transaction of that
    /// nonce pays more); the nonce check decides what that means.
    NonceContested(String),
}

impl Anchor for EvmAnchor {
    fn kind(&self) -> crate::AnchorKind {
        crate::AnchorKind::Evm
    }

    /// The anchoring address, and the chain ID once the node was asked (`null` before).
    fn public_info(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": KIND,
            "address": self.address().to_checksum(None),
            "chain_id": self.chain_id.get().copied(),
        })
    }

    fn prepare<'a>(
        &'a self,
        body: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, AnchorError>> {
        Box::pin(self.prepare_inner(body))
    }

    fn advance<'a>(
        &'a self,
        body: &'a str,
        intent: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<Progress, AnchorError>> {
        Box::pin(self.advance_inner(body, intent))
    }

    fn recheck<'a>(
        &'a self,
        anchor: &'a AnchorObject,
    ) -> BoxFuture<'a, Result<Recheck, AnchorError>> {
        Box::pin(self.recheck_inner(anchor))
    }
}

/// What a node says about an EVM anchor, for `consentry verify --rpc URL`: the online half
/// of the check, next to the offline evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineCheck {
    /// The node serves the anchor's chain.
    pub chain_id_matches: bool,
    /// The node has the transaction and its input is the checkpoint body. False also
    /// when the node no longer serves the transaction (EIP-4444 pruning): `detail` says
    /// which, and the offline evidence still covers the calldata.
    pub calldata_matches: bool,
    /// The node's block at `block_number` is `block_hash` (and, when it has the
    /// transaction, places it in that block): the anchor is on the canonical chain.
    pub block_hash_matches: bool,
    /// Blocks on top of the anchor's, its own counted; 0 unless `block_hash_matches`.
    pub confirmations: u64,
    /// One line per finding, for the report.
    pub detail: String,
}

/// Asks the node at `rpc_url` whether `anchor` is on its chain and carries
/// `checkpoint_body`. A node that is down is an error; a node that disagrees is an
/// [`OnlineCheck`] with `false` in it.
pub async fn check_online(
    rpc_url: &str,
    anchor: &AnchorObject,
    checkpoint_body: &str,
) -> Result<OnlineCheck, AnchorError> {
    let object = anchor_from_json(anchor).map_err(|e| AnchorError::Invalid(e.to_string()))?;
    let tx_hash = decode_hex(&object.tx_hash)
        .filter(|b| b.len() == 32)
        .map(|b| B256::from_slice(&b))
        .ok_or_else(|| AnchorError::Invalid("tx_hash is not 32 bytes of hex".into()))?;
    let provider = connect(rpc_url, DEFAULT_REQUEST_TIMEOUT)?;
    let mut detail = Vec::new();

    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| rpc_error("eth_chainId", e))?;
    let chain_id_matches = chain_id == object.chain_id;
    detail.push(if chain_id_matches {
        format!("the node serves chain {chain_id}")
    } else {
        format!(
            "the node serves chain {chain_id}, the anchor is on chain {}",
            object.chain_id
        )
    });

    let tx = provider
        .get_transaction_by_hash(tx_hash)
        .await
        .map_err(|e| rpc_error("eth_getTransactionByHash", e))?;
    let (calldata_matches, tx_block_ok) = match &tx {
        None => {
            detail.push(format!(
                "the node does not serve transaction {} (unknown, or pruned history)",
                object.tx_hash
            ));
            (false, true)
        }
        Some(tx) => {
            let input_ok = tx.inner.input().as_ref() == checkpoint_body.as_bytes();
            detail.push(if input_ok {
                "the transaction's input is the checkpoint body".to_owned()
            } else {
                format!(
                    "the transaction's input is not the checkpoint body ({} bytes)",
                    tx.inner.input().len()
                )
            });
            let in_block = tx.block_hash.map(|h| hex0x(h.as_slice()));
            let block_ok = in_block.as_deref() == Some(object.block_hash.as_str());
            if !block_ok {
                detail.push(match in_block {
                    Some(h) => format!(
                        "the node places the transaction in block {h}, not {}",
                        object.block_hash
                    ),
                    None => "the node has the transaction but in no block (pending)".to_owned(),
                });
            }
            (input_ok, block_ok)
        }
    };

    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(object.block_number))
        .await
        .map_err(|e| rpc_error("eth_getBlockByNumber", e))?;
    let canonical = match &block {
        Some(b) if hex0x(b.header.hash.as_slice()) == object.block_hash => {
            detail.push(format!(
                "block {} is {}",
                object.block_number, object.block_hash
            ));
            true
        }
        Some(b) => {
            detail.push(format!(
                "block {} is {}, not the anchor's {}",
                object.block_number,
                hex0x(b.header.hash.as_slice()),
                object.block_hash
            ));
            false
        }
        None => {
            detail.push(format!("the node has no block {}", object.block_number));
            false
        }
    };
    let block_hash_matches = canonical && tx_block_ok;
    let confirmations = if block_hash_matches {
        let head = provider
            .get_block_number()
            .await
            .map_err(|e| rpc_error("eth_blockNumber", e))?;
        (head + 1).saturating_sub(object.block_number)
    } else {
        0
    };
    if block_hash_matches {
        detail.push(format!("{confirmations} confirmations"));
    }
    Ok(OnlineCheck {
        chain_id_matches,
        calldata_matches,
        block_hash_matches,
        confirmations,
        detail: detail.join("; "),
    })
}

/// An HTTP JSON-RPC provider whose every request gives up after `timeout`.
fn connect(rpc_url: &str, timeout: Duration) -> Result<RootProvider, AnchorError> {
    let url = reqwest::Url::parse(rpc_url)
        .map_err(|e| AnchorError::Config(format!("EVM RPC URL {}: {e}", redact_url(rpc_url))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AnchorError::Config(format!(
            "EVM RPC URL {}: only http:// and https:// are supported",
            redact_url(rpc_url)
        )));
    }
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| AnchorError::Config(format!("HTTP client for the EVM node: {e}")))?;
    let transport = Http::with_client(client, url);
    let is_local = transport.guess_local();
    Ok(RootProvider::new(RpcClient::new(transport, is_local)))
}

/// Sorts a JSON-RPC failure into the [`AnchorError`] the caller acts on.
fn rpc_error(method: &str, error: RpcError<TransportErrorKind>) -> AnchorError {
    match error {
        RpcError::Transport(TransportErrorKind::HttpError(http))
        | RpcError::Transport(TransportErrorKind::HttpErrorWithRetryAfter {
            error: http, ..
        }) => {
            let body: String = http.body.chars().take(200).collect();
            let message = format!("{method}: HTTP {} from the node: {body}", http.status);
            if http.status >= 500 || http.status == 429 || http.status == 408 {
                AnchorError::Unreachable(message)
            } else {
                AnchorError::Refused(message)
            }
        }
        RpcError::Transport(TransportErrorKind::Custom(inner)) => {
            let text = match inner.downcast::<reqwest::Error>() {
                Ok(e) => describe_reqwest(*e),
                Err(other) => chain(&*other),
            };
            AnchorError::Unreachable(format!("{method}: {text}"))
        }
        RpcError::Transport(other) => AnchorError::Unreachable(format!("{method}: {other}")),
        RpcError::ErrorResp(payload) => AnchorError::Refused(format!(
            "{method}: the node refused: {} (code {})",
            payload.message, payload.code
        )),
        RpcError::NullResp => AnchorError::Invalid(format!("{method}: the node answered null")),
        RpcError::DeserError { err, .. } => {
            AnchorError::Invalid(format!("{method}: the node's answer does not parse: {err}"))
        }
        other => AnchorError::Invalid(format!("{method}: {other}")),
    }
}

/// A reqwest failure without its URL (which may hold an API key), with its causes.
fn describe_reqwest(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let error = error.without_url();
    format!("{kind}: {}", chain(&error))
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key_or_the_url_path() {
        let key: PrivateKeySigner =
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
                .parse()
                .unwrap();
        let cfg = EvmConfig::new("https://mainnet.example/v3/SECRETAPIKEY", key);
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("ac0974bec"), "{shown}");
        assert!(!shown.contains("SECRETAPIKEY"), "{shown}");
        assert!(
            shown.contains("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            "{shown}"
        );
        assert!(shown.contains("https://mainnet.example/…"), "{shown}");
    }

    #[test]
    fn key_files_are_read_trimmed_and_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("key");
        std::fs::write(
            &good,
            "  0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        let key = EvmConfig::key_from_file(&good).unwrap();
        assert_eq!(
            key.address().to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );

        let bad = dir.path().join("bad");
        std::fs::write(
            &bad,
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff8",
        )
        .unwrap();
        let err = EvmConfig::key_from_file(&bad).unwrap_err().to_string();
        assert!(matches!(
            EvmConfig::key_from_file(&bad),
            Err(AnchorError::Config(_))
        ));
        assert!(!err.contains("ac0974"), "{err}");
        let zero = dir.path().join("zero");
        std::fs::write(&zero, "0".repeat(64)).unwrap();
        assert!(matches!(
            EvmConfig::key_from_file(&zero),
            Err(AnchorError::Config(_))
        ));
        assert!(matches!(
            EvmConfig::key_from_file(&dir.path().join("missing")),
            Err(AnchorError::Config(_))
        ));

        let key = EvmConfig::key_from_hex(
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        assert_eq!(
            key.address().to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        let err = EvmConfig::key_from_hex(
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ffzz",
        )
        .unwrap_err();
        assert!(
            matches!(&err, AnchorError::Config(m) if !m.contains("ac0974")),
            "{err}"
        );
    }

    #[test]
    fn bad_urls_and_settings_are_configuration_errors() {
        let key = PrivateKeySigner::random();
        assert!(matches!(
            EvmAnchor::new(EvmConfig::new("not a url", key.clone())),
            Err(AnchorError::Config(_))
        ));
        assert!(matches!(
            EvmAnchor::new(EvmConfig::new("ws://127.0.0.1:8545", key.clone())),
            Err(AnchorError::Config(_))
        ));
        let mut cfg = EvmConfig::new("http://127.0.0.1:8545", key);
        cfg.confirmations = 0;
        assert!(matches!(EvmAnchor::new(cfg), Err(AnchorError::Config(_))));
    }
}
