//! Anchors of signed checkpoints, and the runs (slots) that create them.
//!
//! An anchor row is written *before* anything leaves the process: its intent (the signed
//! transaction, the time-stamp request) is stored in state `prepared`; the anchoring loop
//! advances it until it is `anchored`. After a crash the same intent is advanced again,
//! which cannot anchor twice. An anchored row whose chain block is reorganised away turns
//! `invalid` and a new `prepared` row takes its place; certificates are only ever built
//! from `anchored` rows.

use crate::{Store, StoreError, to_i64, to_u64};
use consentry_core::anchor::AnchorKind;

/// Where an anchor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorState {
    /// The intent is stored; not (yet) confirmed.
    Prepared,
    /// Done: the anchor object is stored and certificates may use it.
    Anchored,
    /// Abandoned (its block was reorganised away); kept for the record.
    Invalid,
}

impl AnchorState {
    /// The stored name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            AnchorState::Prepared => "prepared",
            AnchorState::Anchored => "anchored",
            AnchorState::Invalid => "invalid",
        }
    }

    fn parse(s: &str) -> Result<AnchorState, StoreError> {
        match s {
            "prepared" => Ok(AnchorState::Prepared),
            "anchored" => Ok(AnchorState::Anchored),
            "invalid" => Ok(AnchorState::Invalid),
            other => Err(StoreError::Corrupt(format!(
                "unknown anchor state {other:?}"
            ))),
        }
    }
}

/// One anchor of one checkpoint by one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorRow {
    /// Row ID.
    pub id: String,
    /// The anchored checkpoint's tree size.
    pub size: u64,
    /// The signed checkpoint (note text).
    pub note: String,
    /// Backend kind.
    pub kind: AnchorKind,
    /// State.
    pub state: AnchorState,
    /// The backend's intent (JSON).
    pub intent: String,
    /// The anchor object (JSON), once anchored.
    pub anchor: Option<String>,
    /// The last progress or error message.
    pub detail: Option<String>,
    /// Attempts to advance so far.
    pub attempts: u64,
    /// When it may be advanced again (ms since the epoch).
    pub next_at: i64,
    /// Created (ms since the epoch).
    pub created_at: i64,
    /// Last changed (ms since the epoch).
    pub updated_at: i64,
}

/// A checkpoint with its completed anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// The signed checkpoint.
    pub note: String,
    /// The anchor objects (JSON text), oldest first.
    pub anchors: Vec<String>,
}

type Raw = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

const COLUMNS: &str = "id, size, note, kind, state, intent, anchor, detail, attempts, next_at, created_at, updated_at";

fn row(r: Raw) -> Result<AnchorRow, StoreError> {
    Ok(AnchorRow {
        id: r.0,
        size: to_u64(r.1)?,
        note: r.2,
        kind: AnchorKind::parse(&r.3)
            .ok_or_else(|| StoreError::Corrupt(format!("anchor kind {:?}", r.3)))?,
        state: AnchorState::parse(&r.4)?,
        intent: r.5,
        anchor: r.6,
        detail: r.7,
        attempts: to_u64(r.8)?,
        next_at: r.9,
        created_at: r.10,
        updated_at: r.11,
    })
}

impl Store {
    /// Claims an anchoring slot (e.g. `2026-11-30T00:00 Europe/Paris`, or a manual
    /// request's ID) for the checkpoint `(size, note)`, and in the same transaction stores
    /// one prepared anchor per `(id, kind)` with an empty intent — so a crash can never
    /// leave a claimed slot without its anchors. `None` records the slot as done with
    /// nothing to anchor (the log did not grow). Returns whether this call claimed it: of
    /// several processes, exactly one does.
    pub async fn claim_anchor_slot(
        &self,
        slot: &str,
        checkpoint: Option<(u64, &str)>,
        anchors: &[(String, AnchorKind)],
        now: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let (size, note) = match checkpoint {
            Some((s, n)) => (Some(to_i64(s)?), Some(n.to_owned())),
            None => (None, None),
        };
        let done = sqlx::query(
            "INSERT INTO anchor_runs (slot, size, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slot) DO NOTHING",
        )
        .bind(slot)
        .bind(size)
        .bind(note.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let (Some(size), Some(note)) = (size, note) {
            for (id, kind) in anchors {
                insert_prepared(&mut tx, id, size, &note, kind.as_str(), "", now).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces an anchored row whose block left the canonical chain: it turns `invalid`
    /// and a new prepared anchor (id `new_id`, empty intent) of the same checkpoint and
    /// kind takes its place, in one transaction. Returns false if the row was no longer
    /// anchored (another process got there first).
    pub async fn reanchor(
        &self,
        id: &str,
        new_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let old: Option<(i64, String, String)> = sqlx::query_as(
            "UPDATE anchors SET state = 'invalid', detail = $2, updated_at = $3 WHERE id = $1 AND state = 'anchored' RETURNING size, note, kind",
        )
        .bind(id)
        .bind(reason)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((size, note, kind)) = old else {
            tx.rollback().await?;
            return Ok(false);
        };
        insert_prepared(&mut tx, new_id, size, &note, &kind, "", now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a slot was already claimed.
    pub async fn anchor_slot_claimed(&self, slot: &str) -> Result<bool, StoreError> {
        let r: Option<(String,)> = sqlx::query_as("SELECT slot FROM anchor_runs WHERE slot = $1")
            .bind(slot)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.is_some())
    }

    /// The largest checkpoint size with a live (prepared or anchored) anchor.
    pub async fn last_anchored_size(&self) -> Result<Option<u64>, StoreError> {
        let r: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT MAX(size) FROM anchors WHERE state <> 'invalid'")
                .fetch_optional(&self.pool)
                .await?;
        r.and_then(|(s,)| s).map(to_u64).transpose()
    }

    /// Prepared anchors due to be advanced at `now`, oldest first.
    pub async fn due_anchors(&self, now: i64) -> Result<Vec<AnchorRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM anchors WHERE state = 'prepared' AND next_at <= $1 ORDER BY created_at, id"
        );
        let rows: Vec<Raw> = sqlx::query_as(&sql).bind(now).fetch_all(&self.pool).await?;
        rows.into_iter().map(row).collect()
    }

    /// All prepared anchors (due or not), oldest first.
    pub async fn prepared_anchors(&self) -> Result<Vec<AnchorRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM anchors WHERE state = 'prepared' ORDER BY created_at, id"
        );
        let rows: Vec<Raw> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(row).collect()
    }

    /// Anchored rows created at or after `since` (ms), for re-checking recent chain
    /// anchors against reorganisations.
    pub async fn recent_anchored(&self, since: i64) -> Result<Vec<AnchorRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM anchors WHERE state = 'anchored' AND created_at >= $1 ORDER BY created_at, id"
        );
        let rows: Vec<Raw> = sqlx::query_as(&sql)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(row).collect()
    }

    /// Records an attempt that did not finish: its message and when to try again.
    pub async fn anchor_attempted(
        &self,
        id: &str,
        detail: &str,
        next_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE anchors SET detail = $2, attempts = attempts + 1, next_at = $3, updated_at = $4 WHERE id = $1 AND state = 'prepared'",
        )
        .bind(id)
        .bind(detail)
        .bind(next_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces a prepared anchor's intent (its transaction was replaced or dropped).
    pub async fn replace_anchor_intent(
        &self,
        id: &str,
        intent: &str,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE anchors SET intent = $2, detail = $3, attempts = attempts + 1, next_at = $4, updated_at = $4 WHERE id = $1 AND state = 'prepared'",
        )
        .bind(id)
        .bind(intent)
        .bind(detail)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a prepared anchor done with its anchor object. Returns false if it was no
    /// longer prepared (another process finished it first).
    pub async fn complete_anchor(
        &self,
        id: &str,
        anchor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE anchors SET state = 'anchored', anchor = $2, detail = NULL, updated_at = $3 WHERE id = $1 AND state = 'prepared'",
        )
        .bind(id)
        .bind(anchor)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The first checkpoint with a completed anchor that includes leaf `index`, with all
    /// its completed anchors; `None` while the leaf is not anchored yet.
    pub async fn anchored_checkpoint_for(
        &self,
        index: u64,
    ) -> Result<Option<AnchoredCheckpoint>, StoreError> {
        let size: Option<(i64,)> = sqlx::query_as(
            "SELECT size FROM anchors WHERE state = 'anchored' AND size > $1 ORDER BY size LIMIT 1",
        )
        .bind(to_i64(index)?)
        .fetch_optional(&self.pool)
        .await?;
        let Some((size,)) = size else {
            return Ok(None);
        };
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT note, anchor FROM anchors WHERE state = 'anchored' AND size = $1 ORDER BY created_at, id",
        )
        .bind(size)
        .fetch_all(&self.pool)
        .await?;
        let Some(note) = rows.first().map(|r| r.0.clone()) else {
            return Ok(None);
        };
        Ok(Some(AnchoredCheckpoint {
            size: to_u64(size)?,
            note,
            anchors: rows.into_iter().map(|r| r.1).collect(),
        }))
    }

    /// Every checkpoint with a completed anchor, smallest first.
    pub async fn anchored_checkpoints(&self) -> Result<Vec<AnchoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT size, note, anchor FROM anchors WHERE state = 'anchored' ORDER BY size, created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<AnchoredCheckpoint> = Vec::new();
        for (size, note, anchor) in rows {
            let size = to_u64(size)?;
            match out.last_mut() {
                Some(last) if last.size == size => last.anchors.push(anchor),
                _ => out.push(AnchoredCheckpoint {
                    size,
                    note,
                    anchors: vec![anchor],
                }),
            }
        }
        Ok(out)
    }

    /// Every anchor row of a checkpoint size, any state (for status displays).
    pub async fn anchors_of(&self, size: u64) -> Result<Vec<AnchorRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM anchors WHERE size = $1 ORDER BY created_at, id");
        let rows: Vec<Raw> = sqlx::query_as(&sql)
            .bind(to_i64(size)?)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(row).collect()
    }
}

async fn insert_prepared(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    size: i64,
    note: &str,
    kind: &str,
    intent: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO anchors (id, size, note, kind, state, intent, anchor, detail, attempts, next_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'prepared', $5, NULL, NULL, 0, $6, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(size)
    .bind(note)
    .bind(kind)
    .bind(intent)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
