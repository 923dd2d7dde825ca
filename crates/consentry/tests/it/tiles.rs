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
