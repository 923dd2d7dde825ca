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
