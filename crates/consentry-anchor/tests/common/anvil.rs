//! A real `anvil` node per test: started on a free loopback port, polled until it answers
//! `eth_chainId`, killed when dropped. The binary comes from `CONSENTRY_TEST_ANVIL`
//! (`export CONSENTRY_TEST_ANVIL="$(scripts/install-anvil)"`); without it the tests fail,
//! they never skip.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::providers::{Provider, RootProvider};
use serde_json::Value;

/// Anvil's first default dev account (funded with 10000 ETH at genesis).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Its address.
pub const DEV_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

pub fn anvil_binary() -> PathBuf {
    let Some(path) = std::env::var_os("CONSENTRY_TEST_ANVIL") else {
        panic!(
            "CONSENTRY_TEST_ANVIL is not set: the EVM anchor tests need a real anvil node. \
             Run: export CONSENTRY_TEST_ANVIL=\"$(scripts/install-anvil)\""
        );
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "CONSENTRY_TEST_ANVIL={} does not exist: run scripts/install-anvil and export its output",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub struct Anvil {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    pub provider: RootProvider,
}

impl Anvil {
    /// Starts a node on a free port and waits until it answers.
    pub async fn start() -> Anvil {
        Self::start_on(free_port()).await
    }

    /// Starts a node on `port` (a fresh chain: anvil keeps its state in memory).
    pub async fn start_on(port: u16) -> Anvil {
        let url = format!("http://127.0.0.1:{port}");
        let provider = RootProvider::new_http(url.parse().unwrap());
        let mut anvil = Anvil {
            child: None,
            port,
            url,
            provider,
        };
        anvil.restart().await;
        anvil
    }

    /// (Re)starts the process on the same port and waits for `eth_chainId`.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "anvil is already running");
        let child = Command::new(anvil_binary())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--silent",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start anvil ({}): {e}", anvil_binary().display()));
        self.child = Some(child);
        for _ in 0..600 {
            if let Ok(31337) = self.provider.get_chain_id().await {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("anvil exited before answering ({status})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "anvil did not answer eth_chainId on port {} within 30 s",
            self.port
        );
    }

    /// Kills the process: the node is down until [`Anvil::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A raw JSON-RPC call (anvil_* and evm_* methods).
    pub async fn rpc(&self, method: &'static str, params: Value) -> Value {
        self.provider
            .raw_request::<_, Value>(method.into(), params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Mines `blocks` blocks.
    pub async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", serde_json::json!([format!("0x{blocks:x}")]))
            .await;
    }

    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How a [`Proxy`] bends the node's answers, to play nodes anvil does not imitate.
#[derive(Clone, Copy, Debug)]
pub enum Bend {
    /// `eth_getBlockReceipts` is unknown (method not found), as on older nodes.
    NoBlockReceipts,
    /// Full blocks hold a transaction of a chain-specific type (an OP-stack deposit,
    /// `0x7e`), as on L2s.
    ForeignTransactionType,
}

/// A JSON-RPC proxy in front of a node that bends some answers (see [`Bend`]) and
/// counts the requests it saw by method.
pub struct Proxy {
    pub url: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: &str, bend: Bend) -> Proxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.to_owned();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                // One request per connection ("connection: close"), read to its end.
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                let body = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if data.len() >= end + 4 + length {
                        break Some(data[end + 4..end + 4 + length].to_vec());
                    }
                };
                let Some(body) = body else { continue };
                let request: Value = serde_json::from_slice(&body).unwrap();
                let method = request["method"].as_str().unwrap_or("").to_owned();
                log.lock().unwrap().push(method.clone());
                let answer = match (bend, method.as_str()) {
                    (Bend::NoBlockReceipts, "eth_getBlockReceipts") => serde_json::json!({
                        "jsonrpc": "2.0", "id": request["id"],
                        "error": {"code": -32601, "message": "Method not found"}
                    }),
                    _ => {
                        let response = client
                            .post(&upstream)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        let mut answer: Value =
                            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
                        if let (Bend::ForeignTransactionType, "eth_getBlockByNumber") =
                            (bend, method.as_str())
                            && let Some(Value::Object(tx)) =
                                answer.pointer_mut("/result/transactions/0")
                        {
                            tx.insert("type".into(), "0x7e".into());
                        }
                        answer
                    }
                };
                let bytes = serde_json::to_vec(&answer).unwrap();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&bytes).await;
                let _ = socket.shutdown().await;
            }
        });
        Proxy { url, seen, task }
    }

    pub fn count(&self, method: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|m| *m == method)
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
