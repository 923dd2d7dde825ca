//! C2SP `tlog-tiles` layout of the log's stored hashes, and appending to it.
//!
//! A tile at tile level `L` and index `N` holds the tree hashes of level `8·L`, indices
//! `[256·N, 256·N + w)`: 256 hashes when full, fewer (`w`) for the right edge's partial
//! tile. Full tiles never change, so they can be cached forever; the partial ones grow.
//! Any complete subtree's hash is in one tile: level `8·L + j`, index `i` folds the `2^j`
//! hashes `[i·2^j, (i+1)·2^j)` of tile level `L`. So an inclusion or consistency proof at
//! any past size reads O(log n) tiles, and appending reads only the right edge's partial
//! tiles ([`TileEdge`]), one per tile level.

use crate::merkle::{Hash, MerkleError, SubtreeReader, node_hash};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tree levels per tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A tile's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level (tree level `8·level`).
    pub level: u8,
    /// Index among that level's tiles.
    pub index: u64,
}

impl TileId {
    /// The C2SP tlog-tiles path of this tile with `width` hashes:
    /// `tile/<L>/<N>` when full, `tile/<L>/<N>.p/<W>` when partial.
    pub fn path(&self, width: u64) -> String {
        let mut p = format!("tile/{}/{}", self.level, encode_index(self.index));
        if width < TILE_WIDTH {
            p.push_str(&format!(".p/{width}"));
        }
        p
    }
}

/// What a C2SP tlog-tiles path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileRequest {
    /// A hash tile: `tile/<L>/<N>[.p/<W>]`.
    Hashes {
        /// The tile.
        id: TileId,
        /// Its width: 256 for a full tile, `W` for a partial one.
        width: u64,
    },
    /// An entry bundle: `tile/entries/<N>[.p/<W>]`.
    Entries {
        /// The bundle's index (entries `256·N` to `256·N + width − 1`).
        index: u64,
        /// How many entries: 256 for a full bundle, `W` for a partial one.
        width: u64,
    },
}

/// Parses the part of a tile path after `tile/`: `<L>/<N>[.p/<W>]` or
/// `entries/<N>[.p/<W>]`, with `<N>` in the encoding of [`encode_index`] and
/// `1 ≤ W ≤ 255`. Anything else is `None` (a 404).
pub fn parse_tile_path(path: &str) -> Option<TileRequest> {
    let (head, rest) = path.split_once('/')?;
    let (groups, width) = match rest.split_once(".p/") {
        Some((groups, w)) => {
            let ok = !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
            let w: u64 = if ok { w.parse().ok()? } else { return None };
            if !(1..TILE_WIDTH).contains(&w) {
                return None;
            }
            (groups, w)
        }
        None => (rest, TILE_WIDTH),
    };
    let parts: Vec<&str> = groups.split('/').collect();
    let last = parts.len().checked_sub(1)?;
    let mut digits = String::new();
    for (i, part) in parts.iter().enumerate() {
        let group = if i < last {
            part.strip_prefix('x')?
        } else {
            part
        };
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
    }
    let index: u64 = digits.parse().ok()?;
    // One encoding per index: no leading all-zero groups.
    if encode_index(index) != groups {
        return None;
    }
    if head == "entries" {
        return Some(TileRequest::Entries { index, width });
    }
    if head.is_empty()
        || !head.bytes().all(|b| b.is_ascii_digit())
        || (head.len() > 1 && head.starts_with('0'))
    {
        return None;
    }
    let level: u8 = head.parse().ok()?;
    Some(TileRequest::Hashes {
        id: TileId { level, index },
        width,
    })
}

/// The hash tiles of a log of `size` entries, each with its width (256 when full): at
/// level L, `size >> 8L` hashes, 256 to a tile, the last tile partial.
pub fn tiles_of(size: u64) -> Vec<(TileId, u64)> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    loop {
        let count = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        if count == 0 {
            return tiles;
        }
        for index in 0..count.div_ceil(TILE_WIDTH) {
            let width = (count - index * TILE_WIDTH).min(TILE_WIDTH);
            tiles.push((TileId { level, index }, width));
        }
        level += 1;
    }
}

/// The entry bundles of a log of `size` entries: index and width (256 when full).
pub fn bundles_of(size: u64) -> Vec<(u64, u64)> {
    (0..size.div_ceil(TILE_WIDTH))
        .map(|index| (index, (size - index * TILE_WIDTH).min(TILE_WIDTH)))
        .collect()
}

/// The C2SP path of entry bundle `index` holding `width` entries:
/// `tile/entries/<N>[.p/<W>]`.
pub fn bundle_path(index: u64, width: u64) -> String {
    let mut p = format!("tile/entries/{}", encode_index(index));
    if width < TILE_WIDTH {
        p.push_str(&format!(".p/{width}"));
    }
    p
}

/// Why an entry bundle cannot be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// An entry is longer than a uint16 length can say.
    #[error("an entry of {0} bytes does not fit an entry bundle (65,535 at most)")]
    EntryTooLarge(usize),
    /// The bytes end inside a length or an entry.
    #[error("the entry bundle is truncated")]
    Truncated,
}

/// An entry bundle (c2sp.org/tlog-tiles): each entry's exact bytes behind its length as a
/// big-endian uint16.
pub fn entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| BundleError::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of an entry bundle, in order.
pub fn bundle_entries(bytes: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(2).ok_or(BundleError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (entry, tail) = tail.split_at_checked(len).ok_or(BundleError::Truncated)?;
        out.push(entry);
        rest = tail;
    }
    Ok(out)
}

/// The C2SP tile index encoding: groups of three digits, every group but the last
/// prefixed with `x` (1234067 → `x001/x234/067`).
pub fn encode_index(n: u64) -> String {
    let digits = format!("{n}");
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or("000"))
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where the hash of complete subtree `(level, index)` lives: its tile, and the range of
/// that tile's hashes that fold into it.
pub fn tile_for_subtree(level: u8, index: u64) -> (TileId, u64, u64) {
    let tile_level = level / TILE_HEIGHT;
    let j = level % TILE_HEIGHT;
    let first = index << j;
    (
        TileId {
            level: tile_level,
            index: first / TILE_WIDTH,
        },
        first % TILE_WIDTH,
        1 << j,
    )
}

/// The tiles that hold the given subtrees.
pub fn tiles_for_subtrees(subtrees: &[(u8, u64)]) -> BTreeSet<TileId> {
    subtrees
        .iter()
        .map(|&(l, i)| tile_for_subtree(l, i).0)
        .collect()
}

/// The root of a complete run of `2^k` hashes.
fn fold(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    if hashes.len() == 1 {
        return hashes[0];
    }
    let mid = hashes.len() / 2;
    node_hash(&fold(&hashes[..mid]), &fold(&hashes[mid..]))
}

/// Reads complete subtrees out of a set of tiles (e.g. fetched from a database).
#[derive(Debug, Default, Clone)]
pub struct TileSet {
    tiles: HashMap<TileId, Vec<Hash>>,
}

impl TileSet {
    /// An empty set.
    pub fn new() -> TileSet {
        TileSet::default()
    }

    /// Adds a tile's hashes (a later, wider copy of the same tile replaces a narrower one).
    pub fn insert(&mut self, id: TileId, hashes: Vec<Hash>) {
        match self.tiles.get(&id) {
            Some(existing) if existing.len() >= hashes.len() => {}
            _ => {
                self.tiles.insert(id, hashes);
            }
        }
    }

    /// The hashes held for tile `id`, if any.
    pub fn hashes(&self, id: &TileId) -> Option<&[Hash]> {
        self.tiles.get(id).map(Vec::as_slice)
    }

    /// Decodes a tile's bytes (concatenated 32-byte hashes) and adds it.
    pub fn insert_bytes(&mut self, id: TileId, bytes: &[u8]) -> Result<(), MerkleError> {
        if !bytes.len().is_multiple_of(32) || bytes.len() as u64 > 32 * TILE_WIDTH {
            return Err(MerkleError::MissingSubtree {
                level: id.level * TILE_HEIGHT,
                index: id.index * TILE_WIDTH,
            });
        }
        let hashes = bytes
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect();
        self.insert(id, hashes);
        Ok(())
    }
}

impl SubtreeReader for TileSet {
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        let (tile, start, count) = tile_for_subtree(level, index);
        let missing = MerkleError::MissingSubtree { level, index };
        let hashes = self.tiles.get(&tile).ok_or(missing.clone())?;
        let (start, end) = (start as usize, (start + count) as usize);
        if end > hashes.len() {
            return Err(missing);
        }
        Ok(fold(&hashes[start..end]))
    }
}

/// Encodes hashes as a tile's bytes.
pub fn tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// The right edge of a tiled log: the partial tile of each tile level. Enough to append
/// leaves and compute the new root without reading any full tile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TileEdge {
    size: u64,
    /// `partial[L]` holds the `(size >> 8L) mod 256` hashes of tile level `L`'s last tile.
    partial: Vec<Vec<Hash>>,
}

/// Tiles written by an append: final contents, keyed by tile.
pub type ChangedTiles = BTreeMap<TileId, Vec<Hash>>;

impl TileEdge {
    /// The edge of the empty log.
    pub fn empty() -> TileEdge {
        TileEdge::default()
    }

    /// The tiles to load to rebuild the edge of a log of `size` leaves.
    pub fn tiles_to_load(size: u64) -> Vec<(TileId, u64)> {
        let mut out = Vec::new();
        let mut level = 0u8;
        while level < 8 && (size >> (u32::from(level) * 8)) > 0 {
            let at_level = size >> (u32::from(level) * 8);
            let width = at_level % TILE_WIDTH;
            if width > 0 {
                out.push((
                    TileId {
                        level,
                        index: at_level / TILE_WIDTH,
                    },
                    width,
                ));
            }
            level += 1;
        }
        out
    }

    /// Rebuilds the edge of a log of `size` leaves from its partial tiles (as listed by
    /// [`TileEdge::tiles_to_load`]); tiles may be wider than needed (they grew later).
    pub fn from_tiles(size: u64, tiles: &TileSet) -> Result<TileEdge, MerkleError> {
        let mut partial = Vec::new();
        let mut level = 0u8;
        while level < 8 && (size >> (u32::from(level) * 8)) > 0 {
            let at_level = size >> (u32::from(level) * 8);
            let width = (at_level % TILE_WIDTH) as usize;
            let id = TileId {
                level,
                index: at_level / TILE_WIDTH,
            };
            let hashes = if width == 0 {
                Vec::new()
            } else {
                let have = tiles.tiles.get(&id).ok_or(MerkleError::MissingSubtree {
                    level: level * TILE_HEIGHT,
                    index: id.index * TILE_WIDTH,
                })?;
                if have.len() < width {
                    return Err(MerkleError::MissingSubtree {
                        level: level * TILE_HEIGHT,
                        index: id.index * TILE_WIDTH + width as u64 - 1,
                    });
                }
                have[..width].to_vec()
            };
            partial.push(hashes);
            level += 1;
        }
        Ok(TileEdge { size, partial })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends leaf hashes; returns every tile whose contents changed, with its final
    /// contents (full tiles completed on the way, then the new partial tiles).
    pub fn append(&mut self, leaves: &[Hash]) -> ChangedTiles {
        let mut changed = ChangedTiles::new();
        for leaf in leaves {
            self.push(0, *leaf, &mut changed);
            self.size += 1;
        }
        changed
    }

    /// Adds a hash at tile level `level` while appending leaf number `self.size`: the leaf
    /// itself at level 0, a completed tile's root above. With the new leaf counted, tree
    /// level `8·level` has `(size + 1) >> 8·level` hashes, this one the last.
    fn push(&mut self, level: u8, hash: Hash, changed: &mut ChangedTiles) {
        let l = usize::from(level);
        if self.partial.len() <= l {
            self.partial.push(Vec::new());
        }
        let count_after = (self.size + 1) >> (u32::from(level) * 8);
        let id = TileId {
            level,
            index: (count_after - 1) / TILE_WIDTH,
        };
        self.partial[l].push(hash);
        if self.partial[l].len() as u64 == TILE_WIDTH {
            let full = std::mem::take(&mut self.partial[l]);
            let up = fold(&full);
            changed.insert(id, full);
            self.push(level + 1, up, changed);
        } else {
            changed.insert(id, self.partial[l].clone());
        }
    }

    /// The root of the tree of all `size` leaves, from the edge alone.
    pub fn root(&self) -> Result<Hash, MerkleError> {
        let mut set = TileSet::new();
        for (l, hashes) in self.partial.iter().enumerate() {
            if !hashes.is_empty() {
                let at_level = self.size >> (l * 8);
                set.insert(
                    TileId {
                        level: l as u8,
                        index: at_level / TILE_WIDTH,
                    },
                    hashes.clone(),
                );
            }
        }
        crate::merkle::tree_root(&set, self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_has_every_tile_and_bundle_of_the_size() {
        let t = |level, index| TileId { level, index };
        assert_eq!(
            tiles_of(300),
            vec![(t(0, 0), 256), (t(0, 1), 44), (t(1, 0), 1)]
        );
        assert_eq!(bundles_of(300), vec![(0, 256), (1, 44)]);
        assert_eq!(tiles_of(256), vec![(t(0, 0), 256), (t(1, 0), 1)]);
        assert_eq!(bundles_of(256), vec![(0, 256)]);
        assert!(tiles_of(0).is_empty() && bundles_of(0).is_empty());
        assert_eq!(bundle_path(1234067, 256), "tile/entries/x001/x234/067");
        assert_eq!(bundle_path(1, 44), "tile/entries/001.p/44");
    }

    #[test]
    fn entry_bundles_round_trip_and_refuse_what_they_cannot_hold() {
        let entries: Vec<&[u8]> = vec![b"", b"{}", &[7; 300]];
        let bundle = entry_bundle(&entries).unwrap();
        assert_eq!(&bundle[..4], &[0, 0, 0, 2]);
        assert_eq!(bundle_entries(&bundle).unwrap(), entries);
        assert_eq!(
            bundle_entries(&bundle[..bundle.len() - 1]),
            Err(BundleError::Truncated)
        );
        assert_eq!(bundle_entries(&[0]), Err(BundleError::Truncated));
        assert_eq!(
            entry_bundle(&[vec![0u8; 65_536]]),
            Err(BundleError::EntryTooLarge(65_536))
        );
    }

    #[test]
    fn tile_paths_parse_as_c2sp_writes_them_and_nothing_else() {
        for (level, index, width) in [
            (0u8, 0u64, 256u64),
            (0, 1234067, 256),
            (2, 7, 3),
            (1, 999, 255),
        ] {
            let id = TileId { level, index };
            let path = id.path(width);
            let rest = path.strip_prefix("tile/").unwrap();
            assert_eq!(
                parse_tile_path(rest),
                Some(TileRequest::Hashes { id, width }),
                "{path}"
            );
        }
        assert_eq!(
            parse_tile_path("entries/x001/x234/067.p/8"),
            Some(TileRequest::Entries {
                index: 1234067,
                width: 8
            })
        );
        for bad in [
            "0/1",
            "0/01",
            "0/x000/001",
            "0/001.p/0",
            "0/001.p/256",
            "0/001.p/08",
            "01/001",
            "0/x1/001",
            "0/001/x002",
            "entries/",
            "0/",
            "a/001",
            "0/001.p/",
            "0/1234",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }
    use crate::merkle::{
        MemoryLog, leaf_hash, needed_subtrees_for_consistency, needed_subtrees_for_inclusion,
    };
    use std::cell::Cell;

    #[test]
    fn index_encoding_follows_c2sp() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(7), "007");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(
            TileId {
                level: 0,
                index: 1234067
            }
            .path(256),
            "tile/0/x001/x234/067"
        );
        assert_eq!(TileId { level: 1, index: 3 }.path(17), "tile/1/003.p/17");
    }

    fn store(tiles: &mut BTreeMap<TileId, Vec<Hash>>, changed: ChangedTiles) {
        for (id, hashes) in changed {
            let e = tiles.entry(id).or_default();
            assert!(hashes.len() >= e.len(), "tiles only grow");
            assert_eq!(&hashes[..e.len()], &e[..], "tiles are append-only");
            *e = hashes;
        }
    }

    #[test]
    fn tiled_log_matches_memory_log_across_tile_boundaries() {
        let mut mem = MemoryLog::new();
        let mut edge = TileEdge::empty();
        let mut stored = BTreeMap::new();
        // Batches of odd sizes, across the 256 and 65,536 boundaries.
        let mut next = 0u64;
        for batch in [1u64, 2, 3, 250, 1, 255, 256, 257, 1000, 63_000, 700, 1] {
            let leaves: Vec<Hash> = (next..next + batch)
                .map(|i| leaf_hash(&i.to_be_bytes()))
                .collect();
            next += batch;
            for l in &leaves {
                mem.append(*l);
            }
            store(&mut stored, edge.append(&leaves));
            assert_eq!(edge.size(), mem.size());
            assert_eq!(
                edge.root().unwrap(),
                mem.root(mem.size()).unwrap(),
                "size {}",
                mem.size()
            );

            // The edge rebuilt from stored tiles is the same edge.
            let mut set = TileSet::new();
            for (id, _) in TileEdge::tiles_to_load(edge.size()) {
                if let Some(h) = stored.get(&id) {
                    set.insert(id, h.clone());
                }
            }
            assert_eq!(TileEdge::from_tiles(edge.size(), &set).unwrap(), edge);
        }
        let mut all = TileSet::new();
        for (id, h) in &stored {
            all.insert(*id, h.clone());
        }
        let size = mem.size();
        for (index, at) in [
            (0, size),
            (255, 300),
            (65_535, size),
            (size - 1, size),
            (1234, 65_536),
        ] {
            assert_eq!(
                crate::merkle::inclusion_proof(&all, index, at).unwrap(),
                mem.inclusion_proof(index, at).unwrap()
            );
        }
        for (old, new) in [(1, size), (256, 65_537), (65_536, size), (300, 301)] {
            assert_eq!(
                crate::merkle::consistency_proof(&all, old, new).unwrap(),
                mem.consistency_proof(old, new).unwrap()
            );
        }
    }

    /// A reader for a virtual log of any size: it makes up each complete subtree's hash
    /// and counts the tiles touched.
    struct Counting {
        reads: Cell<u64>,
    }
    impl SubtreeReader for Counting {
        fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
            self.reads.set(self.reads.get() + 1);
            let mut h = [0u8; 32];
            h[0] = level;
            h[1..9].copy_from_slice(&index.to_be_bytes());
            Ok(Hash(h))
        }
    }

    #[test]
    fn a_proof_in_a_100_million_entry_log_reads_o_log_n_subtrees_in_few_tiles() {
        let n = 100_000_000u64;
        let r = Counting {
            reads: Cell::new(0),
        };
        for index in [0, 1, 12_345_678, 99_999_999, n / 2] {
            r.reads.set(0);
            crate::merkle::inclusion_proof(&r, index, n).unwrap();
            assert!(r.reads.get() <= 2 * 27, "{} subtree reads", r.reads.get());
            let tiles = tiles_for_subtrees(&needed_subtrees_for_inclusion(index, n).unwrap());
            // At most two tiles per tile level (path side and right edge), 4 levels.
            assert!(tiles.len() <= 8, "{} tiles for index {index}", tiles.len());
        }
        let tiles = tiles_for_subtrees(&needed_subtrees_for_consistency(77_777_777, n).unwrap());
        assert!(tiles.len() <= 12, "{} tiles", tiles.len());
    }
}
