//! The log as C2SP tlog-tiles, read back the way a mirror would: the checkpoint (its
//! signature checked against the published log key), hash tiles and entry bundles, and
//! the tree rebuilt from them alone must give the checkpoint's root; every entry's hash
//! must be in the level-0 tiles.

use crate::service::{add_contact, consent};
use crate::util::{Db, Env, get};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, tree_root};
use consentry_core::tiles::{TileId, TileSet};
use std::time::{Duration, Instant};

/// The `Cache-Control` of a 200 answer.
fn cache_control(url: &str) -> String {
    let r = ureq::get(url).call().unwrap();
    r.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[test]
fn a_mirror_rebuilds_the_signed_root_from_tiles_and_bundles() {
    let env = Env::new(Db::Sqlite);
    let (_t, key) = env.tenant("ACME SAS");
    let s = env.start();
    let contact = add_contact(&s, &key, "tiles@example.org");
    // Over one full tile of entries (256) and a partial one.
    for i in 0..300 {
        consent(&s, &key, &contact, &format!("p{i}"), "granted");
    }
    let log_key = get(&s.url("/.well-known/consentry.json"), None).json()["log"]["verifier_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (note, cp) = loop {
        let r = get(&s.url("/checkpoint"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let note = r.text();
        let cp = verify_signed_checkpoint(&note, &log_key)
            .expect("signed by the log key")
            .checkpoint;
        if cp.size >= 300 {
            break (note, cp);
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of the whole log: {note}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let size = cp.size;
    assert!(!note.is_empty());

    // Level 0: one full tile and a partial one; level 1: a partial tile of one hash.
    let mut set = TileSet::new();
    let full = get(&s.url("/tile/0/000"), None);
    assert_eq!(full.status, 200);
    assert_eq!(full.body.len(), 256 * 32);
    assert_eq!(
        cache_control(&s.url("/tile/0/000")),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(cache_control(&s.url("/checkpoint")), "no-cache");
    set.insert_bytes(TileId { level: 0, index: 0 }, &full.body)
        .unwrap();
    let rest = size - 256;
    let partial = get(&s.url(&format!("/tile/0/001.p/{rest}")), None);
    assert_eq!(partial.status, 200, "{}", partial.text());
    assert_eq!(partial.body.len() as u64, rest * 32);
    set.insert_bytes(TileId { level: 0, index: 1 }, &partial.body)
        .unwrap();
    let upper = get(&s.url("/tile/1/000.p/1"), None);
    assert_eq!(upper.status, 200, "{}", upper.text());
    set.insert_bytes(TileId { level: 1, index: 0 }, &upper.body)
        .unwrap();
    assert_eq!(
        tree_root(&set, size).unwrap(),
        cp.root,
        "the tiles rebuild the signed root"
    );

    // A tile wider than the log is not there yet; nor a full tile that is still partial.
    assert_eq!(
        get(&s.url(&format!("/tile/0/001.p/{}", rest + 1)), None).status,
        404
    );
    assert_eq!(get(&s.url("/tile/0/001"), None).status, 404);

    // Entry bundles: each entry, length-prefixed, hashes to its tile's leaf.
    let mut bundles = Vec::new();
    for (path, first, count) in [
        ("/tile/entries/000".to_owned(), 0u64, 256u64),
        (format!("/tile/entries/001.p/{rest}"), 256, rest),
    ] {
        let r = get(&s.url(&path), None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let mut at = 0;
        let mut n = 0;
        while at < r.body.len() {
            let len = usize::from(u16::from_be_bytes([r.body[at], r.body[at + 1]]));
            let entry = &r.body[at + 2..at + 2 + len];
            let tile = if first + n < 256 {
                &full.body
            } else {
                &partial.body
            };
            let i = usize::try_from((first + n) % 256).unwrap();
            assert_eq!(
                &tile[i * 32..i * 32 + 32],
                &leaf_hash(entry).0,
                "{path}: entry {n}"
            );
            at += 2 + len;
            n += 1;
        }
        assert_eq!(n, count, "{path}");
        bundles.push((path.trim_start_matches('/').to_owned(), r.body));
    }

    // The same files, written by `consentry export-tiles` for a CDN: byte for byte what
    // the service serves; a second run leaves the full tiles and bundles alone.
    let out_dir = env.dir.path().join("static-tiles");
    let export = || {
        let out = std::process::Command::new(crate::util::BIN)
            .arg("export-tiles")
            .args(env.db_args())
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first_run = export();
    assert!(
        first_run.contains("0 full tiles and bundles already there"),
        "{first_run}"
    );
    let read = |p: &str| std::fs::read(out_dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("checkpoint"), note.as_bytes());
    assert_eq!(read("tile/0/000"), full.body);
    assert_eq!(read(&format!("tile/0/001.p/{rest}")), partial.body);
    assert_eq!(read("tile/1/000.p/1"), upper.body);
    for (path, body) in &bundles {
        assert_eq!(&read(path), body, "{path}");
    }
    let second_run = export();
    assert!(
        second_run.contains("2 full tiles and bundles already there"),
        "{second_run}"
    );

    // `consentry mirror`: a checked copy, the same files again.
    let mirror_dir = env.dir.path().join("mirror");
    let mirror = |dir: &std::path::Path| {
        std::process::Command::new(crate::util::BIN)
            .args(["mirror", "--from", &s.url(""), "--log-key", &log_key])
            .arg(dir)
            .output()
            .unwrap()
    };
    let out = mirror(&mirror_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("mirrored log size {size} (was 0)"))
    );
    for (path, body) in &bundles {
        assert_eq!(
            &std::fs::read(mirror_dir.join(path)).unwrap(),
            body,
            "{path}"
        );
    }
    assert_eq!(
        std::fs::read(mirror_dir.join("tile/0/000")).unwrap(),
        full.body
    );
    // Again: consistent with its own earlier copy, whose two full files it reuses.
    let out = mirror(&mirror_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 full tiles and bundles reused"),
        "{stdout}"
    );
    // `consentry mirror --serve`: the checked copy, served on the log's own routes and
    // read back with Cloudflare's tlog_tiles crate (C2SP code this project did not write).
    let served = ServedMirror::start(&s.url(""), &log_key, &env.dir.path().join("served"));
    served.wait_size(size);
    let m = |path: &str| get(&format!("{}{path}", served.base), None);
    assert_eq!(
        m("/checkpoint").text(),
        get(&s.url("/checkpoint"), None).text()
    );
    for (path, body) in &bundles {
        assert_eq!(&m(&format!("/{path}")).body, body, "{path}");
    }
    // A partial width the copy does not hold is cut from the full tile, as the log does.
    for path in ["/tile/0/000.p/5", "/tile/entries/000.p/7"] {
        let from_mirror = m(path);
        assert_eq!(from_mirror.status, 200, "{path}");
        assert_eq!(from_mirror.body, get(&s.url(path), None).body, "{path}");
    }
    // Encoded so that no client normalises it away: the handler sees `0/../../x`.
    assert_eq!(m("/tile/0%2F..%2F..%2Fcheckpoint").status, 404);
    assert_eq!(m("/tile/..%2Fcheckpoint").status, 404);
    assert_eq!(m("/tile/0/0000").status, 404);
    assert_eq!(
        cache_control(&format!("{}/tile/0/000", served.base)),
        "public, max-age=31536000, immutable"
    );
    let reader = HttpTiles(served.base.clone());
    let root = tlog_tiles::Hash(cp.root.0);
    let hashes = tlog_tiles::TileHashReader::new(size, root, &reader);
    assert_eq!(tlog_tiles::tree_hash(size, &hashes).unwrap(), root);
    let bundle0 = m("/tile/entries/000").body;
    let entries = consentry_core::tiles::bundle_entries(&bundle0).unwrap();
    for index in [0u64, 1, 100, 255] {
        let proof = tlog_tiles::prove_record(size, index, &hashes).unwrap();
        let leaf = tlog_tiles::record_hash(entries[index as usize]);
        tlog_tiles::check_record(&proof, size, root, index, leaf).unwrap();
        assert!(
            tlog_tiles::check_record(&proof, size, root, index + 1, leaf).is_err(),
            "a proof for another index must fail"
        );
    }
    let old = tlog_tiles::tree_hash(100, &hashes).unwrap();
    let proof = tlog_tiles::prove_tree(size, 100, &hashes).unwrap();
    tlog_tiles::check_tree(&proof, size, root, 100, old).unwrap();
    // The log grows: the mirror catches up by itself, checked.
    for i in 0..3 {
        consent(&s, &key, &contact, &format!("late{i}"), "granted");
    }
    served.wait_size(size + 3);
    let status = m("/mirror/status").json();
    assert!(status["pulls"].as_u64().unwrap() >= 2, "{status}");
    assert_eq!(status["refusals"], 0, "{status}");
    drop(served);

    // A mirror that earlier saw another tree under the same key (a split view: a
    // checkpoint of the same log, size 10, another root) refuses to copy, and says so.
    let forked_dir = env.dir.path().join("forked");
    std::fs::create_dir_all(&forked_dir).unwrap();
    let seed_text = std::fs::read_to_string(env.data_dir().join("log.key")).unwrap();
    use base64::Engine as _;
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(seed_text.trim())
        .unwrap()
        .try_into()
        .unwrap();
    let origin = log_key.split('+').next().unwrap();
    let forged = consentry_core::checkpoint::Checkpoint {
        origin: origin.to_owned(),
        size: 10,
        root: consentry_core::merkle::Hash([7; 32]),
        extensions: vec![],
    }
    .sign(&consentry_core::keys::LogKey::from_seed(origin, &seed).unwrap())
    .unwrap();
    std::fs::write(forked_dir.join("checkpoint"), &forged).unwrap();
    let out = mirror(&forked_dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("split view"),
        "{stderr}"
    );
    assert!(!forked_dir.join("tile").exists(), "nothing copied");
    // The wrong key: nothing copied either.
    let other = consentry_core::keys::LogKey::from_seed(origin, &[9; 32])
        .unwrap()
        .verifier_key();
    let out = std::process::Command::new(crate::util::BIN)
        .args(["mirror", "--from", &s.url(""), "--log-key", &other])
        .arg(env.dir.path().join("wrong-key"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not signed by the log key given"));
}

/// Cloudflare's `TileReader` over HTTP: tiles fetched from a tile server.
struct HttpTiles(String);

impl tlog_tiles::TileReader for HttpTiles {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        Ok(tiles
            .iter()
            .map(|t| {
                // The crate writes Go sumdb paths, `tile/<H>/<L>/<N>`; C2SP tlog-tiles
                // fixes the height at 8 and leaves it out of the path.
                let path = t.path();
                let c2sp = path.strip_prefix("tile/8/").expect("height 8");
                get(&format!("{}/tile/{c2sp}", self.0), None).body
            })
            .collect())
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// A running `consentry mirror --serve`; killed when dropped.
struct ServedMirror {
    child: std::process::Child,
    base: String,
}

impl ServedMirror {
    fn start(from: &str, log_key: &str, dir: &std::path::Path) -> ServedMirror {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(crate::util::BIN)
            .args(["mirror", "--from", from, "--log-key", log_key])
            .args(["--serve", "127.0.0.1:0", "--every", "1"])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("consentry mirror serving on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_owned();
        ServedMirror { child, base }
    }

    fn wait_size(&self, size: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = get(&format!("{}/mirror/status", self.base), None);
            if r.status == 200 && r.json()["size"].as_u64() >= Some(size) {
                return;
            }
            assert!(Instant::now() < deadline, "mirror at {}", r.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ServedMirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
