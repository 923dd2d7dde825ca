//! `consentry mirror --from URL --log-key VKEY DIR`: a checked copy of a log's tiles.
//!
//! Pulls the log's signed checkpoint and its C2SP tlog-tiles (`/checkpoint`, `/tile/…`),
//! and keeps them in `DIR` only after checking them: the checkpoint's signature against the
//! log key the mirror was given (never one the log names), the tree rebuilt from the
//! tiles equals the checkpoint's root, every entry of every bundle hashes to its leaf, and
//! the new checkpoint is consistent with the one mirrored before (its root recomputed from
//! the new tiles at the old size). A log that fails any of these is not copied: the
//! mirror keeps its last good state and says why. `DIR` then holds the same files the log
//! serves, for any static web server (or `consentry export-tiles`' readers).
//!
//! With `--serve ADDR` the mirror runs on: it pulls again every `--every` seconds and
//! serves its checked copy on the log's own tile routes (`GET /checkpoint`,
//! `GET /tile/…`, full tiles cached as immutable), plus `GET /mirror/status` (JSON: the
//! size mirrored, when, and the last refusal with its reason). A client reading the mirror
//! needs nothing from the log; what it is served was checked against the pinned log key,
//! and a log that later shows another history is refused while the copy keeps serving
//! the history it had.

use crate::files::write_atomic;
use anyhow::{Context as _, bail, ensure};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, tree_root};
use consentry_core::tiles::{
    TILE_WIDTH, TileId, TileSet, bundle_entries, bundle_path, bundles_of, tiles_of,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `consentry mirror`.
#[derive(clap::Args)]
pub struct MirrorArgs {
    /// The log's base URL (where `/checkpoint` and `/tile/…` are served).
    #[arg(long, value_name = "URL")]
    from: String,
    /// The log's verifier key (`origin+hexid+base64`), as the mirror's operator pinned it.
    #[arg(long = "log-key", value_name = "VKEY")]
    log_key: String,
    /// The directory holding the mirrored copy.
    dir: PathBuf,
    /// Keep running: serve the copy on the tile routes at this address (e.g.
    /// `127.0.0.1:8090`; port 0 picks one, printed as `consentry mirror serving on URL`).
    #[arg(long, value_name = "ADDR")]
    serve: Option<std::net::SocketAddr>,
    /// With `--serve`: seconds between two pulls.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    every: u64,
}

/// Runs the command and returns the exit status.
pub fn run(args: &MirrorArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("consentry mirror: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(addr) = args.serve {
        return match rt.block_on(serve(args, addr)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("consentry mirror: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match rt.block_on(mirror(args)) {
        Ok(m) => {
            println!(
                "mirrored log size {} (was {}), checked; {} full tiles and bundles reused from the copy",
                m.new, m.old, m.reused
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("consentry mirror: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn fetch(client: &reqwest::Client, base: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("{}/{path}", base.trim_end_matches('/'));
    let res = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    ensure!(
        res.status().is_success(),
        "GET {url}: HTTP {}",
        res.status()
    );
    Ok(res
        .bytes()
        .await
        .with_context(|| format!("GET {url}"))?
        .to_vec())
}

fn put(dir: &Path, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let target = dir.join(path);
    write_atomic(&target, bytes).with_context(|| format!("writing {}", target.display()))
}

/// What a run did.
struct Mirrored {
    old: u64,
    new: u64,
    reused: u64,
}

async fn mirror(args: &MirrorArgs) -> anyhow::Result<Mirrored> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let note = String::from_utf8(fetch(&client, &args.from, "checkpoint").await?)
        .context("the checkpoint is not UTF-8")?;
    let cp = verify_signed_checkpoint(&note, &args.log_key)
        .context("the checkpoint is not signed by the log key given")?
        .checkpoint;
    let previous = match std::fs::read_to_string(args.dir.join("checkpoint")) {
        Ok(old) => Some(
            verify_signed_checkpoint(&old, &args.log_key)
                .context("the mirrored checkpoint no longer verifies")?
                .checkpoint,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context("reading the mirrored checkpoint"),
    };
    if let Some(old) = &previous {
        ensure!(
            cp.size >= old.size,
            "the log shrank: size {} after {} (a split view: not mirrored)",
            cp.size,
            old.size
        );
    }
    // A full tile or bundle of the copy made before was checked then and never changes:
    // it is read back rather than fetched again (and checked again with the rest).
    let reused = std::cell::Cell::new(0u64);
    let get = |path: &str, width: u64| {
        let local = args.dir.join(path);
        let client = &client;
        let from = &args.from;
        let reuse = previous.is_some() && width == TILE_WIDTH && local.exists();
        let path = path.to_owned();
        let reused = &reused;
        async move {
            if reuse {
                reused.set(reused.get() + 1);
                std::fs::read(&local).with_context(|| format!("reading {}", local.display()))
            } else {
                fetch(client, from, &path).await
            }
        }
    };
    // Every tile of the new size, kept in memory until all checks pass.
    let mut set = TileSet::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (id, width) in tiles_of(cp.size) {
        let path = id.path(width);
        let bytes = get(&path, width).await?;
        ensure!(
            bytes.len() as u64 == 32 * width,
            "{path}: {} bytes, not {}",
            bytes.len(),
            32 * width
        );
        set.insert_bytes(id, &bytes)
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        files.push((path, bytes));
    }
    let root = tree_root(&set, cp.size).map_err(|e| anyhow::anyhow!("tiles: {e}"))?;
    if root != cp.root {
        bail!("the tiles do not give the checkpoint's root: not mirrored");
    }
    if let Some(old) = &previous {
        let old_root = tree_root(&set, old.size).map_err(|e| anyhow::anyhow!("tiles: {e}"))?;
        ensure!(
            old_root == old.root,
            "the new tree does not contain the mirrored one (size {}): a split view, not mirrored",
            old.size
        );
    }
    // Every entry, in its bundle, hashes to its leaf.
    for (index, width) in bundles_of(cp.size) {
        let path = bundle_path(index, width);
        let bytes = get(&path, width).await?;
        let leaves = set
            .hashes(&TileId { level: 0, index })
            .context("a level-0 tile is missing")?;
        let entries = bundle_entries(&bytes).with_context(|| path.clone())?;
        ensure!(
            entries.len() as u64 == width,
            "{path}: {} entries, not {width}",
            entries.len()
        );
        for (n, entry) in entries.iter().enumerate() {
            ensure!(
                leaves.get(n) == Some(&leaf_hash(entry)),
                "{path}: entry {n} does not hash to its leaf"
            );
        }
        files.push((path, bytes));
    }
    for (path, bytes) in &files {
        put(&args.dir, path, bytes)?;
    }
    put(&args.dir, "checkpoint", note.as_bytes())?;
    Ok(Mirrored {
        old: previous.map_or(0, |p| p.size),
        new: cp.size,
        reused: reused.get(),
    })
}

/// What `GET /mirror/status` says.
#[derive(Clone, Default, serde::Serialize)]
struct Status {
    /// The size of the copy served.
    size: u64,
    /// How many pulls were checked and copied.
    pulls: u64,
    /// How many were refused.
    refusals: u64,
    /// Why the last refusal happened, if one did.
    last_refusal: Option<String>,
}

type Shared = std::sync::Arc<std::sync::Mutex<Status>>;

/// Pulls now, then every `--every` seconds, and serves the copy on the tile routes.
async fn serve(args: &MirrorArgs, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use axum::routing::get;
    let status: Shared = Shared::default();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let dir = std::sync::Arc::new(args.dir.clone());
    let app = axum::Router::new()
        .route(
            "/checkpoint",
            get({
                let dir = dir.clone();
                move || checkpoint_file(dir.clone())
            }),
        )
        .route(
            "/tile/{*path}",
            get({
                let dir = dir.clone();
                move |axum::extract::Path(path): axum::extract::Path<String>| {
                    tile_file(dir.clone(), path)
                }
            }),
        )
        .route(
            "/mirror/status",
            get({
                let status = status.clone();
                move || {
                    let now = status.lock().map(|s| s.clone()).unwrap_or_default();
                    async move { axum::Json(now) }
                }
            }),
        );
    println!("consentry mirror serving on http://{local}");
    let server = axum::serve(listener, app);
    let puller = async {
        loop {
            let outcome = mirror(args).await;
            if let Ok(mut st) = status.lock() {
                match &outcome {
                    Ok(m) => {
                        st.size = m.new;
                        st.pulls += 1;
                    }
                    Err(e) => {
                        st.refusals += 1;
                        st.last_refusal = Some(format!("{e:#}"));
                    }
                }
            }
            match outcome {
                Ok(m) if m.new != m.old => {
                    eprintln!(
                        "consentry mirror: mirrored log size {} (was {}), checked",
                        m.new, m.old
                    );
                }
                Ok(_) => {}
                Err(e) => eprintln!("consentry mirror: not mirrored: {e:#}"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(args.every)).await;
        }
    };
    tokio::select! {
        r = server => r.context("serving the copy"),
        () = puller => Ok(()),
    }
}

fn file_response(bytes: Vec<u8>, cache: &'static str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse as _;
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (axum::http::StatusCode::NOT_FOUND, "not in this mirror\n").into_response()
}

/// `GET /checkpoint`: the last checkpoint whose tiles were checked and copied.
async fn checkpoint_file(dir: std::sync::Arc<PathBuf>) -> axum::response::Response {
    match tokio::fs::read(dir.join("checkpoint")).await {
        Ok(bytes) => {
            let mut res = file_response(bytes, "no-cache");
            res.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            res
        }
        Err(_) => not_found(),
    }
}

/// `GET /tile/<path>`: a tile or bundle of the copy. The path is parsed (one encoding per
/// index, nothing else) and rebuilt before any file is named, so no request reaches
/// outside the copy. A partial tile or bundle the copy does not hold at that width is cut
/// from a wider one: the first `W` hashes or entries of a tile never change.
async fn tile_file(dir: std::sync::Arc<PathBuf>, path: String) -> axum::response::Response {
    use consentry_core::tiles::{TileRequest, entry_bundle, parse_tile_path};
    const IMMUTABLE: &str = "public, max-age=31536000, immutable";
    let Some(request) = parse_tile_path(&path) else {
        return not_found();
    };
    let (exact, full, width, entries) = match request {
        TileRequest::Hashes { id, width } => (id.path(width), id.path(TILE_WIDTH), width, false),
        TileRequest::Entries { index, width } => (
            bundle_path(index, width),
            bundle_path(index, TILE_WIDTH),
            width,
            true,
        ),
    };
    if let Ok(bytes) = tokio::fs::read(dir.join(&exact)).await {
        return file_response(bytes, IMMUTABLE);
    }
    // A wider copy: the full one, else the widest partial one held.
    let mut wider = vec![full];
    if let Some(base) = exact.split(".p/").next() {
        for w in (width + 1..TILE_WIDTH).rev() {
            wider.push(format!("{base}.p/{w}"));
        }
    }
    for candidate in wider {
        let Ok(bytes) = tokio::fs::read(dir.join(&candidate)).await else {
            continue;
        };
        let cut = if entries {
            bundle_entries(&bytes)
                .ok()
                .and_then(|all| {
                    all.get(..usize::try_from(width).ok()?)
                        .map(<[&[u8]]>::to_vec)
                })
                .and_then(|first| entry_bundle(&first).ok())
        } else {
            usize::try_from(32 * width)
                .ok()
                .and_then(|n| bytes.get(..n).map(<[u8]>::to_vec))
        };
        return match cut {
            Some(b) => file_response(b, IMMUTABLE),
            None => not_found(),
        };
    }
    not_found()
}
