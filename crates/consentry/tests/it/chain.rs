//! Real anchoring peers for the end-to-end tests: an `anvil` node (installed from npm by
//! `scripts/install-anvil`, path in `CONSENTRY_TEST_ANVIL`) and an RFC 3161 TSA answered
//! by `openssl ts -reply` behind `tests/independent/tsa_server.py`, with a CA made here.
//! A missing part fails the test with what to do; nothing is skipped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Anvil's first development account (funded with 10,000 ETH on every fresh node).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const DEV_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn anvil_binary() -> PathBuf {
    let path = std::env::var("CONSENTRY_TEST_ANVIL").unwrap_or_else(|_| {
        panic!("CONSENTRY_TEST_ANVIL is not set: run `export CONSENTRY_TEST_ANVIL=\"$(scripts/install-anvil)\"` (scripts/test does it)")
    });
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "CONSENTRY_TEST_ANVIL={} does not exist: run scripts/install-anvil",
        path.display()
    );
    path
}

/// A running anvil node; killed when dropped.
pub struct Anvil {
    child: Option<Child>,
    pub port: u16,
}

impl Anvil {
    pub fn start() -> Anvil {
        Anvil::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Anvil {
        let child = Command::new(anvil_binary())
            .args(["--port", &port.to_string(), "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let anvil = Anvil {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while try_rpc(&anvil.url(), "eth_chainId", serde_json::json!([])).is_none() {
            assert!(
                Instant::now() < deadline,
                "anvil did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        anvil
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn rpc(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        try_rpc(&self.url(), method, params)
            .unwrap_or_else(|| panic!("anvil did not answer {method}"))
    }

    pub fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", serde_json::json!([format!("0x{blocks:x}")]));
    }

    pub fn head(&self) -> u64 {
        hex_u64(&self.rpc("eth_blockNumber", serde_json::json!([])))
    }

    pub fn nonce(&self, address: &str) -> u64 {
        hex_u64(&self.rpc(
            "eth_getTransactionCount",
            serde_json::json!([address, "latest"]),
        ))
    }

    pub fn block_hash(&self, number: u64) -> Option<String> {
        let b = self.rpc(
            "eth_getBlockByNumber",
            serde_json::json!([format!("0x{number:x}"), false]),
        );
        b["hash"].as_str().map(str::to_owned)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn hex_u64(v: &serde_json::Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn try_rpc(url: &str, method: &str, params: serde_json::Value) -> Option<serde_json::Value> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut res = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&res.body_mut().read_to_vec().ok()?).ok()?;
    if let Some(e) = v.get("error") {
        panic!("{method}: {e}");
    }
    Some(v["result"].clone())
}

/// Writes the dev key to a 0600 file and returns its path.
pub fn dev_key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("anchor-evm.key");
    std::fs::write(&path, DEV_KEY).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}
