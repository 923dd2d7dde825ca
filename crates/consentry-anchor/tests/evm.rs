//! The EVM anchor against a real `anvil` node (see `common/anvil.rs`): anchoring with
//! confirmations, offline evidence, outages, reorganisations, replaced and failed
//! transactions, an unfunded key, and the online check `consentry verify --rpc` makes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "common/anvil.rs"]
mod anvil;

use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use anvil::{Anvil, Bend, DEV_ADDRESS, DEV_KEY, Proxy};
use consentry_anchor::evm::{EvmAnchor, EvmConfig, check_online};
use consentry_anchor::{Anchor, AnchorError, AnchorObject, Progress, Recheck};
use consentry_core::anchor::evm::{EvmAnchorError, check_evm_anchor};
use serde_json::{Value, json};

/// A checkpoint body as the log makes them (C2SP tlog-checkpoint, no signature lines).
fn body(size: u64) -> String {
    format!("consentry.test/log\n{size}\nq1vBNcPB6nQHtH4wVvBbeEJPqLxSGrC8mDJ4cKXj4/Q=\n")
}

fn config(anvil: &Anvil, key: &str) -> EvmConfig {
    let mut cfg = EvmConfig::new(anvil.url.clone(), key.parse().unwrap());
    cfg.request_timeout = Duration::from_secs(5);
    cfg
}

fn backend(anvil: &Anvil, confirmations: u64) -> EvmAnchor {
    let mut cfg = config(anvil, DEV_KEY);
    cfg.confirmations = confirmations;
    EvmAnchor::new(cfg).unwrap()
}

fn waiting(progress: Progress) -> String {
    match progress {
        Progress::Waiting(why) => why,
        other => panic!("expected Waiting, got {other:?}"),
    }
}

fn anchored(progress: Progress) -> AnchorObject {
    match progress {
        Progress::Anchored(anchor) => anchor,
        other => panic!("expected Anchored, got {other:?}"),
    }
}

/// Advances `intent` until it has left the mempool: anvil's automine includes a
/// transaction a moment after accepting it, not within the `eth_sendRawTransaction` call.
async fn settle(evm: &EvmAnchor, body: &str, intent: &Value) -> Progress {
    for _ in 0..200 {
        match evm.advance(body, intent).await.unwrap() {
            Progress::Waiting(why) if why.contains("in the mempool") => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            other => return other,
        }
    }
    panic!("transaction still in the mempool after 5 s of automine");
}

/// Prepares and advances until anchored (automine: one advance, plus mined blocks for
/// the confirmations).
async fn anchor_now(anvil: &Anvil, evm: &EvmAnchor, body: &str) -> AnchorObject {
    let intent = evm.prepare(body).await.unwrap();
    for _ in 0..10 {
        match settle(evm, body, &intent).await {
            Progress::Anchored(anchor) => return anchor,
            Progress::Waiting(_) => anvil.mine(1).await,
            Progress::Restart(why) => panic!("restart: {why}"),
        }
    }
    panic!("not anchored after 10 blocks");
}

/// Whether a check failed the way a tampering should make it fail.
type IsExpected = fn(&EvmAnchorError) -> bool;

fn set(anchor: &AnchorObject, path: &[&str], value: Value) -> AnchorObject {
    let mut doc = Value::Object(anchor.clone());
    let mut at = &mut doc;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*key],
        };
    }
    *at = value;
    doc.as_object().unwrap().clone()
}

/// Changes the hex digit in the middle: inside the logs bloom of a header or receipt,
/// inside the calldata of the transaction, so the bytes still decode.
fn flip_middle(text: &Value) -> Value {
    let mut chars: Vec<char> = text.as_str().unwrap().chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == '0' { '1' } else { '0' };
    Value::String(chars.into_iter().collect())
}

fn flip_last(text: &Value) -> Value {
    let mut s = text.as_str().unwrap().to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    Value::String(s)
}

#[tokio::test]
async fn anchors_after_the_configured_confirmations_with_evidence_that_verifies_offline() {
    let anvil = Anvil::start().await;
    let evm = backend(&anvil, 3);
    assert_eq!(evm.kind(), consentry_anchor::AnchorKind::Evm);
    assert_eq!(evm.address().to_checksum(None), DEV_ADDRESS);
    let body = body(42);

    let intent = evm.prepare(&body).await.unwrap();
    assert_eq!(intent["nonce"], 0);
    assert_eq!(intent["chain_id"], 31337);
    assert_eq!(intent["from"], DEV_ADDRESS);
    assert!(
        intent["raw"].as_str().unwrap().starts_with("0x02"),
        "an EIP-1559 transaction: {intent}"
    );
    // Preparing sends nothing.
    let dev: Address = DEV_ADDRESS.parse().unwrap();
    assert_eq!(
        anvil
            .provider
            .get_transaction_count(dev)
            .pending()
            .await
            .unwrap(),
        0
    );
    assert_eq!(anvil.head().await, 0);

    // Automine includes it in block 1 at the first advance: 1 of 3 confirmations.
    let why = waiting(settle(&evm, &body, &intent).await);
    assert!(why.starts_with("1 of 3 confirmations"), "{why}");
    // Advancing again re-sends the same signed bytes: still one transaction.
    let why = waiting(evm.advance(&body, &intent).await.unwrap());
    assert!(why.starts_with("1 of 3 confirmations"), "{why}");
    assert_eq!(
        anvil
            .provider
            .get_transaction_count(dev)
            .latest()
            .await
            .unwrap(),
        1
    );
    assert_eq!(anvil.head().await, 1);
    anvil.mine(1).await;
    let why = waiting(evm.advance(&body, &intent).await.unwrap());
    assert!(why.starts_with("2 of 3 confirmations"), "{why}");
    anvil.mine(1).await;
    let anchor = anchored(evm.advance(&body, &intent).await.unwrap());
    // And once anchored, advancing again gives the same object.
    assert_eq!(anchored(evm.advance(&body, &intent).await.unwrap()), anchor);

    assert_eq!(anchor["kind"], "evm");
    assert_eq!(anchor["tx_hash"], intent["tx_hash"]);
    assert_eq!(anchor["block_number"], 1);
    let block = anvil
        .provider
        .get_block_by_number(1.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anchor["block_hash"], format!("{:#x}", block.header.hash));

    let facts = check_evm_anchor(&anchor, &body).unwrap();
    assert_eq!((facts.chain_id, facts.block_number), (31337, 1));
    assert_eq!(facts.from, DEV_ADDRESS);
    assert_eq!(facts.block_time, block.header.timestamp);

    // The figures for docs/anchoring-evm.md.
    let receipt: Value = anvil
        .rpc("eth_getTransactionReceipt", json!([anchor["tx_hash"]]))
        .await;
    let gas_used = u64::from_str_radix(
        receipt["gasUsed"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let evidence_bytes = serde_json::to_string(&anchor["evidence"]).unwrap().len();
    let anchor_bytes = serde_json::to_string(&anchor).unwrap().len();
    println!(
        "EVM anchor: gas used {gas_used} for a {}-byte checkpoint body; evidence {evidence_bytes} bytes of JSON, whole anchor object {anchor_bytes} bytes (one-transaction block)",
        body.len()
    );
    // Intrinsic 21000 plus calldata at the EIP-7623 floor (10 gas per token, 4 tokens per
    // non-zero byte): the body has no zero byte.
    assert_eq!(gas_used, 21_000 + 40 * body.len() as u64);

    if let Some(path) = std::env::var_os("CONSENTRY_RECORD_EVM_FIXTURE") {
        let fixture = json!({"body": body, "anchor": anchor});
        std::fs::write(path, serde_json::to_string_pretty(&fixture).unwrap() + "\n").unwrap();
    }

    // Every member is covered by a check.
    let cases: Vec<(AnchorObject, IsExpected)> = vec![
        (set(&anchor, &["chain_id"], json!(1)), |e| {
            matches!(e, EvmAnchorError::ChainId { .. })
        }),
        (
            set(&anchor, &["tx_hash"], flip_last(&anchor["tx_hash"])),
            |e| matches!(e, EvmAnchorError::TxHash { .. }),
        ),
        (set(&anchor, &["block_number"], json!(2)), |e| {
            matches!(e, EvmAnchorError::BlockNumber { .. })
        }),
        (
            set(&anchor, &["block_hash"], flip_last(&anchor["block_hash"])),
            |e| matches!(e, EvmAnchorError::BlockHash { .. }),
        ),
        (
            set(
                &anchor,
                &["from"],
                json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            ),
            |e| matches!(e, EvmAnchorError::Signer { .. }),
        ),
        (
            set(
                &anchor,
                &["evidence", "header"],
                flip_middle(&anchor["evidence"]["header"]),
            ),
            |e| matches!(e, EvmAnchorError::BlockHash { .. }),
        ),
        (
            set(&anchor, &["evidence", "transaction_index"], json!(1)),
            |e| matches!(e, EvmAnchorError::TransactionProof { .. }),
        ),
        (
            set(
                &anchor,
                &["evidence", "transaction"],
                flip_middle(&anchor["evidence"]["transaction"]),
            ),
            |e| matches!(e, EvmAnchorError::TxHash { .. }),
        ),
        (
            set(
                &anchor,
                &["evidence", "transaction_proof", "0"],
                flip_last(&anchor["evidence"]["transaction_proof"][0]),
            ),
            |e| matches!(e, EvmAnchorError::TransactionProof { .. }),
        ),
        (
            set(
                &anchor,
                &["evidence", "receipt"],
                flip_middle(&anchor["evidence"]["receipt"]),
            ),
            |e| matches!(e, EvmAnchorError::ReceiptProof { .. }),
        ),
        (
            set(
                &anchor,
                &["evidence", "receipt_proof", "0"],
                flip_last(&anchor["evidence"]["receipt_proof"][0]),
            ),
            |e| matches!(e, EvmAnchorError::ReceiptProof { .. }),
        ),
    ];
    for (tampered, expected) in cases {
        let err = check_evm_anchor(&tampered, &body).unwrap_err();
        assert!(expected(&err), "unexpected failure: {err}");
    }
    assert!(matches!(
        check_evm_anchor(&anchor, &self::body(43)),
        Err(EvmAnchorError::Calldata { .. })
    ));

    assert_eq!(evm.recheck(&anchor).await.unwrap(), Recheck::Valid);

    let online = check_online(&anvil.url, &anchor, &body).await.unwrap();
    assert!(
        online.chain_id_matches && online.calldata_matches && online.block_hash_matches,
        "{online:?}"
    );
    assert_eq!(online.confirmations, 3);
    let other = check_online(&anvil.url, &anchor, &self::body(43))
        .await
        .unwrap();
    assert!(
        !other.calldata_matches && other.block_hash_matches,
        "{other:?}"
    );
    let moved = set(&anchor, &["block_hash"], flip_last(&anchor["block_hash"]));
    let moved = check_online(&anvil.url, &moved, &body).await.unwrap();
    assert!(
        !moved.block_hash_matches && moved.calldata_matches,
        "{moved:?}"
    );
    assert_eq!(moved.confirmations, 0);
    let elsewhere = check_online(&anvil.url, &set(&anchor, &["chain_id"], json!(1)), &body)
        .await
        .unwrap();
    assert!(!elsewhere.chain_id_matches, "{elsewhere:?}");
}

#[tokio::test]
async fn an_intent_survives_the_node_going_down_and_completes_once_it_is_back() {
    let mut anvil = Anvil::start().await;
    let evm = backend(&anvil, 1);
    let body = body(7);
    let intent = evm.prepare(&body).await.unwrap();

    anvil.stop();
    let down = evm.advance(&body, &intent).await.unwrap_err();
    assert!(matches!(down, AnchorError::Unreachable(_)), "{down}");
    assert!(
        !down.to_string().contains("127.0.0.1"),
        "no URL in messages: {down}"
    );
    let down = evm.prepare(&body).await.unwrap_err();
    assert!(matches!(down, AnchorError::Unreachable(_)), "{down}");
    let fresh = backend(&anvil, 1);
    assert!(
        matches!(fresh.prepare(&body).await, Err(AnchorError::Unreachable(_))),
        "chain ID unreadable"
    );
    assert!(matches!(
        check_online(&anvil.url, &AnchorObject::new(), &body).await,
        Err(AnchorError::Invalid(_))
    ));

    // Back (a fresh chain, where the stored transaction's nonce 0 is still free).
    anvil.restart().await;
    let anchor = anchored(settle(&evm, &body, &intent).await);
    assert_eq!(anchor["tx_hash"], intent["tx_hash"]);
    check_evm_anchor(&anchor, &body).unwrap();
    let online = check_online(&anvil.url, &anchor, &body).await.unwrap();
    assert!(
        online.calldata_matches && online.block_hash_matches,
        "{online:?}"
    );
    anvil.stop();
    assert!(matches!(
        check_online(&anvil.url, &anchor, &body).await,
        Err(AnchorError::Unreachable(_))
    ));
    assert!(matches!(
        evm.recheck(&anchor).await,
        Err(AnchorError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_node_that_does_not_answer_in_time_or_answers_5xx_is_unreachable() {
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = EvmConfig::new(
        format!("http://{}", silent.local_addr().unwrap()),
        DEV_KEY.parse().unwrap(),
    );
    cfg.request_timeout = Duration::from_millis(300);
    let err = EvmAnchor::new(cfg)
        .unwrap()
        .prepare(&body(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AnchorError::Unreachable(m) if m.contains("timed out")),
        "{err}"
    );

    // Answers every request with 503.
    let busy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", busy.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = busy.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy")
                .await;
        }
    });
    let err = EvmAnchor::new(EvmConfig::new(url, DEV_KEY.parse().unwrap()))
        .unwrap()
        .prepare(&body(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AnchorError::Unreachable(m) if m.contains("503")),
        "{err}"
    );
}

#[tokio::test]
async fn a_reorganised_block_fails_recheck_and_a_new_anchor_lands_in_a_canonical_block() {
    let anvil = Anvil::start().await;
    let evm = backend(&anvil, 1);
    let body = body(100);
    let snapshot = anvil.rpc("evm_snapshot", json!([])).await;
    let first = anchor_now(&anvil, &evm, &body).await;
    assert_eq!(first["block_number"], 1);
    assert_eq!(evm.recheck(&first).await.unwrap(), Recheck::Valid);

    // The block goes away...
    assert_eq!(
        anvil.rpc("evm_revert", json!([snapshot])).await,
        json!(true)
    );
    let gone = evm.recheck(&first).await.unwrap();
    assert!(
        matches!(&gone, Recheck::Invalid(m) if m.contains("no longer on the chain")),
        "{gone:?}"
    );
    // ...and other blocks take its number.
    anvil.mine(2).await;
    let replaced = evm.recheck(&first).await.unwrap();
    assert!(
        matches!(&replaced, Recheck::Invalid(m) if m.starts_with("block 1 was reorganised: now 0x")),
        "{replaced:?}"
    );
    let online = check_online(&anvil.url, &first, &body).await.unwrap();
    assert!(!online.block_hash_matches, "{online:?}");
    // The offline evidence is still self-consistent: only the chain tells a reorg.
    check_evm_anchor(&first, &body).unwrap();

    let second = anchor_now(&anvil, &evm, &body).await;
    assert_ne!(second["block_hash"], first["block_hash"]);
    check_evm_anchor(&second, &body).unwrap();
    assert_eq!(evm.recheck(&second).await.unwrap(), Recheck::Valid);
    let online = check_online(&anvil.url, &second, &body).await.unwrap();
    assert!(
        online.calldata_matches && online.block_hash_matches,
        "{online:?}"
    );
}

#[tokio::test]
async fn a_transaction_replaced_by_another_with_its_nonce_restarts_the_intent() {
    let anvil = Anvil::start().await;
    let evm = backend(&anvil, 1);
    let body = body(5);
    anvil.rpc("evm_setAutomine", json!([false])).await;
    let intent = evm.prepare(&body).await.unwrap();
    let why = waiting(evm.advance(&body, &intent).await.unwrap());
    assert!(why.contains("in the mempool"), "{why}");

    // The same key sends another transaction with the same nonce and higher fees.
    let key: PrivateKeySigner = DEV_KEY.parse().unwrap();
    let mut other = TxEip1559 {
        chain_id: 31337,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 50_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x11)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = key.sign_transaction_sync(&mut other).unwrap();
    let raw = TxEnvelope::from(other.into_signed(signature)).encoded_2718();
    let _pending = anvil.provider.send_raw_transaction(&raw).await.unwrap();
    // Ours is out of the pool and cannot come back while the other one is there.
    let why = waiting(evm.advance(&body, &intent).await.unwrap());
    println!("re-sending the replaced transaction: {why}");
    assert!(
        why.contains("not in the mempool") && why.contains("nonce 0 is still unused"),
        "{why}"
    );

    anvil.mine(1).await;
    match evm.advance(&body, &intent).await.unwrap() {
        Progress::Restart(why) => {
            assert!(why.contains("nonce 0") && why.contains("replaced"), "{why}")
        }
        other => panic!("expected Restart, got {other:?}"),
    }
    // A fresh intent takes the next nonce and anchors.
    anvil.rpc("evm_setAutomine", json!([true])).await;
    let anchor = anchor_now(&anvil, &evm, &body).await;
    check_evm_anchor(&anchor, &body).unwrap();
}

#[tokio::test]
async fn a_transaction_that_fails_on_chain_restarts_the_intent() {
    let anvil = Anvil::start().await;
    let target = Address::repeat_byte(0x22);
    let mut cfg = config(&anvil, DEV_KEY);
    cfg.to = Some(target);
    let evm = EvmAnchor::new(cfg).unwrap();
    let body = body(9);
    let intent = evm.prepare(&body).await.unwrap();
    // After preparing, the target becomes a contract that always reverts (PUSH0 PUSH0 REVERT).
    anvil
        .rpc("anvil_setCode", json!([format!("{target:#x}"), "0x5f5ffd"]))
        .await;
    match settle(&evm, &body, &intent).await {
        Progress::Restart(why) => assert!(why.contains("failed (status 0)"), "{why}"),
        other => panic!("expected Restart, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unfunded_key_is_refused_with_the_amounts() {
    let anvil = Anvil::start().await;
    let key = PrivateKeySigner::random();
    let address = key.address().to_checksum(None);
    let mut cfg = EvmConfig::new(anvil.url.clone(), key);
    cfg.request_timeout = Duration::from_secs(5);
    let err = EvmAnchor::new(cfg)
        .unwrap()
        .prepare(&body(3))
        .await
        .unwrap_err();
    let AnchorError::Refused(message) = &err else {
        panic!("expected Refused, got {err}")
    };
    assert!(
        message.starts_with(&format!(
            "insufficient funds: {address} holds 0 wei, anchoring needs up to "
        )),
        "{message}"
    );
    assert!(message.contains(" wei ("), "{message}");
}

#[tokio::test]
async fn an_intent_for_another_body_or_a_mangled_intent_is_refused() {
    let anvil = Anvil::start().await;
    let evm = backend(&anvil, 1);
    let intent = evm.prepare(&body(1)).await.unwrap();
    assert!(matches!(
        evm.advance(&body(2), &intent).await,
        Err(AnchorError::Invalid(_))
    ));
    let mut wrong_hash = intent.clone();
    wrong_hash["tx_hash"] = json!(format!("0x{}", "00".repeat(32)));
    assert!(matches!(
        evm.advance(&body(1), &wrong_hash).await,
        Err(AnchorError::Invalid(_))
    ));
    assert!(matches!(
        evm.advance(&body(1), &json!({"raw": "0x00"})).await,
        Err(AnchorError::Invalid(_))
    ));
    // Nothing of it was sent.
    assert_eq!(anvil.head().await, 0);
}

#[tokio::test]
async fn a_node_without_eth_get_block_receipts_is_asked_receipt_by_receipt() {
    let anvil = Anvil::start().await;
    let proxy = Proxy::start(&anvil.url, Bend::NoBlockReceipts).await;
    // Some other transactions in the anchor's block, so the receipts trie has branches.
    anvil.rpc("evm_setAutomine", json!([false])).await;
    for i in 1..=3u64 {
        let key = PrivateKeySigner::random();
        anvil
            .rpc(
                "anvil_setBalance",
                json!([format!("{:#x}", key.address()), "0xde0b6b3a7640000"]),
            )
            .await;
        let mut tx = TxEip1559 {
            chain_id: 31337,
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0x33)),
            value: U256::from(i),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let signature = key.sign_transaction_sync(&mut tx).unwrap();
        let _pending = anvil
            .provider
            .send_raw_transaction(&TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
            .await
            .unwrap();
    }
    let mut cfg = EvmConfig::new(proxy.url.clone(), DEV_KEY.parse().unwrap());
    cfg.request_timeout = Duration::from_secs(5);
    let evm = EvmAnchor::new(cfg).unwrap();
    let body = body(11);
    let intent = evm.prepare(&body).await.unwrap();
    waiting(evm.advance(&body, &intent).await.unwrap());
    anvil.mine(1).await;
    let anchor = anchored(evm.advance(&body, &intent).await.unwrap());
    let block = anvil
        .provider
        .get_block_by_number(1.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.transactions.len(), 4, "the anchor shares its block");
    check_evm_anchor(&anchor, &body).unwrap();
    assert_eq!(proxy.count("eth_getBlockReceipts"), 1);
    assert!(
        proxy.count("eth_getTransactionReceipt") >= 4,
        "{:?}",
        proxy.seen.lock().unwrap()
    );
}

#[tokio::test]
async fn a_block_with_chain_specific_transactions_is_refused_with_the_reason() {
    let anvil = Anvil::start().await;
    let proxy = Proxy::start(&anvil.url, Bend::ForeignTransactionType).await;
    let mut cfg = EvmConfig::new(proxy.url.clone(), DEV_KEY.parse().unwrap());
    cfg.request_timeout = Duration::from_secs(5);
    let evm = EvmAnchor::new(cfg).unwrap();
    let body = body(12);
    let intent = evm.prepare(&body).await.unwrap();
    let err = loop {
        match evm.advance(&body, &intent).await {
            Ok(Progress::Waiting(why)) if why.contains("in the mempool") => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Ok(other) => panic!("expected an error, got {other:?}"),
            Err(err) => break err,
        }
    };
    assert!(
        matches!(&err, AnchorError::Invalid(m) if m.contains("not all of Ethereum's types") && m.contains("OP-stack")),
        "{err}"
    );
}
