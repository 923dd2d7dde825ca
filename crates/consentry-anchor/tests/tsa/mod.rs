//! A real RFC 3161 time-stamping authority for the tests: a test PKI made with the
//! `openssl` command, and OpenSSL's TSA (`openssl ts -reply`) behind HTTP
//! (`tests/independent/tsa_server.py`). Nothing here imitates a TSA: every token the
//! tests check was made by OpenSSL.

#![allow(dead_code)] // each test binary uses part of it

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The signature algorithm of a test PKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSA 3072 root (SHA-384) → RSA 2048 intermediate → RSA 2048 TSA; the TSA signs with
    /// SHA-512, names its certificate with ESSCertIDv2 (SHA-256) and sends the
    /// intermediate along, so the chain is root → intermediate → TSA.
    Rsa,
    /// ECDSA P-384 root → ECDSA P-256 TSA; the TSA signs with SHA-256, names its
    /// certificate with ESSCertID (SHA-1, OpenSSL's default) and sends its own
    /// certificate twice (`certs` = the signer), with whole-second genTime.
    Ec,
}

/// Extensions for the test certificates.
const EXTENSIONS: &str = "\
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_tsa]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_tsa_noncritical]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// Runs `openssl` in `dir`; panics with its output if it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed by the RFC 3161 tests");
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `openssl` in `dir` and returns whether it succeeded, with stdout and stderr.
pub fn openssl_status(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A test PKI and an `openssl ts` configuration in a temporary directory.
pub struct Pki {
    /// Holds every file; removed when dropped.
    pub dir: tempfile::TempDir,
    /// Which algorithms.
    pub alg: Alg,
    /// `openssl ts -reply` configuration of the TSA.
    pub config: PathBuf,
}

impl Pki {
    /// Makes `root.pem` (the trusted CA), `other-root.pem` (same subject, another key),
    /// for RSA `int.pem`, `tsa.pem`/`tsa.key` and `tsa.cnf`.
    pub fn new(alg: Alg) -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::write(d.join("ext.cnf"), EXTENSIONS).expect("write ext.cnf");
        let (root_subject, tsa_subject) = match alg {
            Alg::Rsa => (
                "/O=Consentry Tests/CN=Consentry Test RSA Root",
                "/C=FR/O=Consentry Tests/CN=Consentry Test TSA, RSA",
            ),
            Alg::Ec => (
                "/O=Consentry Tests/CN=Consentry Test EC Root",
                "/C=FR/O=Consentry Tests/CN=Consentry Test TSA, EC",
            ),
        };
        let genkey = |name: &str, strong: bool| match alg {
            Alg::Rsa => {
                openssl(
                    d,
                    &["genrsa", "-out", name, if strong { "3072" } else { "2048" }],
                );
            }
            Alg::Ec => {
                let curve = if strong { "secp384r1" } else { "prime256v1" };
                openssl(
                    d,
                    &["ecparam", "-name", curve, "-genkey", "-noout", "-out", name],
                );
            }
        };
        for (key, cert) in [
            ("root.key", "root.pem"),
            ("other-root.key", "other-root.pem"),
        ] {
            genkey(key, true);
            openssl(
                d,
                &[
                    "req",
                    "-new",
                    "-x509",
                    "-key",
                    key,
                    "-sha384",
                    "-days",
                    "3650",
                    "-subj",
                    root_subject,
                    "-config",
                    "ext.cnf",
                    "-extensions",
                    "v3_ca",
                    "-out",
                    cert,
                ],
            );
        }
        let tsa_issuer = match alg {
            Alg::Rsa => {
                genkey("int.key", false);
                Self::issue(
                    d,
                    "int",
                    "/O=Consentry Tests/CN=Consentry Test RSA Intermediate",
                    "root",
                    "v3_int",
                    "sha384",
                );
                "int"
            }
            Alg::Ec => "root",
        };
        genkey("tsa.key", false);
        Self::issue(
            d,
            "tsa",
            tsa_subject,
            tsa_issuer,
            "v3_tsa",
            if alg == Alg::Rsa { "sha256" } else { "sha384" },
        );
        std::fs::write(d.join("serial"), "01\n").expect("write serial");
        let pki = Pki {
            alg,
            config: d.join("tsa.cnf"),
            dir,
        };
        pki.write_ts_config("tsa.cnf", |c| c);
        pki
    }

    /// Issues `{name}.pem` for `{name}.key` from `{issuer}.pem`/`{issuer}.key`.
    fn issue(d: &Path, name: &str, subject: &str, issuer: &str, extensions: &str, digest: &str) {
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        openssl(
            d,
            &[
                "req", "-new", "-key", &key, "-subj", subject, "-config", "ext.cnf", "-out", &csr,
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                &format!("-{digest}"),
                "-days",
                "3650",
                "-extfile",
                "ext.cnf",
                "-extensions",
                extensions,
                "-out",
                &cert,
            ],
        );
    }

    /// Issues an extra TSA certificate `{name}.pem` with `extensions`, signed by the
    /// TSA's issuer (for certificates OpenSSL's TSA would refuse to sign with).
    pub fn issue_tsa_cert(&self, name: &str, extensions: &str) {
        let d = self.dir.path();
        openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        let issuer = if self.alg == Alg::Rsa { "int" } else { "root" };
        Self::issue(
            d,
            name,
            "/O=Consentry Tests/CN=Odd TSA",
            issuer,
            extensions,
            "sha256",
        );
    }

    /// Writes an `openssl ts` configuration, passed through `edit` first.
    pub fn write_ts_config(&self, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let d = self.dir.path();
        let (certs, digest, ess, precision) = match self.alg {
            Alg::Rsa => ("int.pem", "sha512", "ess_cert_id_alg = sha256\n", "3"),
            Alg::Ec => ("tsa.pem", "sha256", "", "0"),
        };
        let config = format!(
            "[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\ndir = {dir}\nserial = $dir/serial\n\
             crypto_device = builtin\nsigner_cert = $dir/tsa.pem\ncerts = $dir/{certs}\n\
             signer_key = $dir/tsa.key\nsigner_digest = {digest}\ndefault_policy = 1.3.6.1.4.1.99999.1\n\
             other_policies = 1.3.6.1.4.1.99999.2\ndigests = sha256, sha384, sha512\n\
             accuracy = secs:1, millisecs:500\nclock_precision_digits = {precision}\nordering = no\n\
             tsa_name = yes\ness_cert_id_chain = no\n{ess}",
            dir = d.display()
        );
        let path = d.join(name);
        std::fs::write(&path, edit(config)).expect("write ts config");
        path
    }

    /// A file of the PKI.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The DER certificates of a PEM file of the PKI.
    pub fn certs(&self, name: &str) -> Vec<Vec<u8>> {
        let pem = std::fs::read_to_string(self.path(name)).expect("read pem");
        consentry_core::anchor::rfc3161::pem_certificates(&pem).expect("pem certificates")
    }
}

/// `tests/independent/tsa_server.py` running OpenSSL's TSA on a free loopback port.
pub struct TsaServer {
    child: Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl TsaServer {
    /// Starts the server with `config` and returns once it accepts connections (it prints
    /// its address after binding).
    pub fn start(config: &Path) -> TsaServer {
        Self::start_on(config, 0)
    }

    /// As [`TsaServer::start`], on `port` (0: any free port).
    pub fn start_on(config: &Path, port: u16) -> TsaServer {
        let python = std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/independent/tsa_server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read tsa_server output");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("tsa_server did not start: {line:?}"))
            .to_owned();
        TsaServer {
            child,
            url: format!("http://{addr}/"),
        }
    }
}

impl Drop for TsaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback HTTP server that answers every request with `answer` (status line, headers
/// and body, as given) or, if `None`, never answers: a replaying or hung TSA.
pub async fn canned_server(answer: Option<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                // Read the request head and its body before answering.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                match answer {
                    Some(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    None => {
                        // A hung TSA: keep the connection open, say nothing.
                        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                    }
                }
            });
        }
    });
    url
}

/// An HTTP/1.1 200 answer carrying a time-stamp reply.
pub fn http_reply(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
