//! The dashboard, `/app/dashboard` (everyone signed in): where the tenant's consents
//! stand, what was recorded over the last 30 days, and how far the log is anchored.
//!
//! - **Counts** (`#dash-counts`): contacts per consent status per purpose, from the
//!   status rows (one aggregate query); "none" is the contacts with no row for the
//!   purpose; "expired" is a granted consent past its validity, or a request that lapsed
//!   unanswered.
//! - **Chart** (`#dash-chart`): proofs per day over the last 30 days, split granted,
//!   refused, revoked, by calendar day in the anchoring schedule's time zone. The database
//!   counts proofs per 15-minute bucket (a local day is not a fixed span of UTC: summer
//!   time, half-hour offsets); the buckets are added up into local days here. Drawn as an
//!   SVG made on the server (no script), with a title, a description and the same figures
//!   in a table.
//! - **Log** (`#dash-log`): its size and the latest signed checkpoint.
//! - **Anchor** (`#dash-anchor`): the latest anchored checkpoint's anchors (EVM chain,
//!   block, transaction with a link; RFC 3161 time-stamp time), or when the next one is
//!   due.

use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{Lang, Section, WebError, local_time, page, status_label};
use crate::web::session::Staff;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use consentry_core::anchor::AnchorKind;
use consentry_store::{AnchorRow, BucketCounts, PurposeCounts};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use maud::{Markup, PreEscaped, html};
use std::collections::BTreeMap;

/// Days the chart covers, today included.
pub const CHART_DAYS: usize = 30;
/// The width of the buckets proofs are counted in: every time zone's offset from UTC is
/// a whole number of them, so each falls within one local day.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new().get("/app/dashboard", show)
}

/// One day of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// The local calendar day.
    pub date: Date,
    /// Its first instant, Unix milliseconds.
    pub start_ms: i64,
    /// Proofs recorded that day.
    pub counts: BucketCounts,
}

impl Day {
    fn total(&self) -> u64 {
        self.counts.granted + self.counts.refused + self.counts.revoked
    }
}

/// The last [`CHART_DAYS`] local days up to the one holding `now`, each with its first
/// instant, oldest first.
pub fn chart_days(tz: &TimeZone, now: Timestamp) -> Vec<Day> {
    let mut date = now.to_zoned_datetime(tz.clone()).date();
    let mut days = Vec::with_capacity(CHART_DAYS);
    for _ in 0..CHART_DAYS {
        let start_ms = date
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(i64::MIN);
        days.push(Day {
            date,
            start_ms,
            counts: BucketCounts::default(),
        });
        match date.yesterday() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    days.reverse();
    days
}

/// Adds the per-bucket counts (bucket `b` starts at `since + b × BUCKET_MS`) into the
/// days they fall in.
pub fn fill_days(days: &mut [Day], since: i64, buckets: &BTreeMap<u64, BucketCounts>) {
    for (bucket, c) in buckets {
        let Some(at) = i64::try_from(*bucket)
            .ok()
            .and_then(|b| b.checked_mul(BUCKET_MS))
            .and_then(|o| o.checked_add(since))
        else {
            continue;
        };
        if let Some(day) = days.iter_mut().rev().find(|d| d.start_ms <= at) {
            day.counts.granted += c.granted;
            day.counts.refused += c.refused;
            day.counts.revoked += c.revoked;
        }
    }
}

/// The time zone days are counted in: the anchoring schedule's (UTC if unknown).
fn zone(state: &AppState) -> TimeZone {
    TimeZone::get(state.anchoring.schedule().zone_name()).unwrap_or(TimeZone::UTC)
}

/// `GET /app/dashboard`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    let lang = staff.lang;
    let now = state.clock.now_ms();
    let now_ts = Timestamp::from_millisecond(now).unwrap_or(Timestamp::UNIX_EPOCH);
    let tz = zone(&state);

    let mut days = chart_days(&tz, now_ts);
    let since = days.first().map(|d| d.start_ms).unwrap_or(now);
    // The two aggregates run beside the small reads (three connections at most).
    let store = &state.store;
    let small = async {
        Ok::<_, consentry_store::StoreError>((
            store.contact_count(&staff.tenant).await?,
            store.purposes(&staff.tenant).await?,
            store.log_head().await?.0,
            store.latest_checkpoint_time().await?,
            store.latest_anchors().await?,
            store.prepared_anchors().await?,
        ))
    };
    let (counts, buckets, (total, catalog, log_size, checkpoint, anchors, in_progress)) = tokio::try_join!(
        store.consent_counts(&staff.tenant, now),
        store.proof_buckets(&staff.tenant, since, BUCKET_MS),
        small,
    )?;
    fill_days(&mut days, since, &buckets);
    let mut by_purpose: BTreeMap<String, PurposeCounts> = catalog
        .into_iter()
        .map(|p| {
            (
                p.name.clone(),
                PurposeCounts {
                    purpose: p.name,
                    ..PurposeCounts::default()
                },
            )
        })
        .collect();
    for c in counts {
        by_purpose.insert(c.purpose.clone(), c);
    }

    let body = html! {
        (counts_section(lang, total, by_purpose.values()))
        (chart_section(&state, lang, &days))
        div.grid {
            (log_section(&state, lang, log_size, checkpoint))
            (anchor_section(&state, lang, now_ts, &anchors, &in_progress))
        }
        p { a #account-password href="/app/account/password" { (t(lang, Text::ChangeYourPassword)) } }
    };
    Ok(page(
        &staff,
        Section::Dashboard,
        StatusCode::OK,
        t(lang, Text::Dashboard),
        body,
    ))
}

fn counts_section<'a>(
    lang: Lang,
    total: u64,
    purposes: impl Iterator<Item = &'a PurposeCounts>,
) -> Markup {
    let purposes: Vec<&PurposeCounts> = purposes.collect();
    let columns = [
        "granted", "refused", "revoked", "pending", "expired", "none",
    ];
    html! {
        section.card #dash-counts aria-labelledby="dash-counts-h" {
            h2 #dash-counts-h { (t(lang, Text::ConsentsByPurpose)) }
            p {
                span.stat #dash-total data-total=(total) { (total) }
                " " (t(lang, Text::ContactsInTheAddress))
            }
            @if purposes.is_empty() {
                p.muted { (t(lang, Text::NoConsentRecordedAnd)) }
            } @else {
                div.table-wrap tabindex="0" {
                    table #dash-counts-table {
                        caption.visually-hidden { (t(lang, Text::ContactsByStatusAnd)) }
                        thead { tr {
                            th scope="col" { (t(lang, Text::Purpose2)) }
                            @for s in columns { th scope="col" { (status_label(lang, s)) } }
                        } }
                        tbody {
                            @for c in &purposes {
                                @let none = total.saturating_sub(c.recorded());
                                tr data-purpose=(c.purpose) {
                                    th scope="row" { code { (c.purpose) } }
                                    @for (s, n) in columns.iter().zip([c.granted, c.refused, c.revoked, c.pending, c.expired + c.lapsed, none]) {
                                        td data-status=(s) data-count=(n) {
                                            @if n > 0 {
                                                a href={"/app/contacts?purpose=" (c.purpose) "&status=" (s)} { (n) }
                                            } @else { (n) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.muted { (t(lang, Text::ExpiredAGrantedConsent)) }
            }
        }
    }
}

/// Chart geometry (SVG user units).
const W: u32 = 640;
const H: u32 = 200;
const LEFT: u32 = 34;
const TOP: u32 = 12;
const BOTTOM: u32 = 22;

fn chart_section(state: &AppState, lang: Lang, days: &[Day]) -> Markup {
    let zone = state.anchoring.schedule().zone_name().to_owned();
    let max = days.iter().map(Day::total).max().unwrap_or(0);
    let sum = |f: fn(&BucketCounts) -> u64| days.iter().map(|d| f(&d.counts)).sum::<u64>();
    let (g, r, v) = (sum(|c| c.granted), sum(|c| c.refused), sum(|c| c.revoked));
    let title = Text::ProofsPerDay.fill(lang, &[("days", &CHART_DAYS), ("zone", &zone)]);
    let desc = Text::ChartDescription.fill(
        lang,
        &[
            ("granted", &g),
            ("refused", &r),
            ("revoked", &v),
            ("max", &max),
        ],
    );
    let plot_h = H - TOP - BOTTOM;
    let slot = (W - LEFT) / u32::try_from(CHART_DAYS).unwrap_or(30);
    let bar = slot.saturating_sub(4).max(1);
    let scale = |n: u64| -> u32 {
        (u64::from(plot_h) * n)
            .checked_div(max)
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(0)
    };
    let last = days.len().saturating_sub(1);
    html! {
        section.card #dash-chart aria-labelledby="dash-chart-h" {
            h2 #dash-chart-h { (title) }
            p.muted { (Text::EachDayIsA.fill(lang, &[("zone", &zone)])) }
            figure.chart {
                svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} role="img"
                    aria-labelledby="dash-chart-title dash-chart-desc" focusable="false" {
                    title #dash-chart-title { (title) }
                    desc #dash-chart-desc { (desc) }
                    line.axis x1=(LEFT) y1=(H - BOTTOM) x2=(W) y2=(H - BOTTOM) {}
                    text x=(LEFT - 4) y=(TOP + 4) text-anchor="end" { (max) }
                    text x=(LEFT - 4) y=(H - BOTTOM) text-anchor="end" { "0" }
                    @for (i, d) in days.iter().enumerate() {
                        @let x = LEFT + u32::try_from(i).unwrap_or(0) * slot + 2;
                        @let hg = scale(d.counts.granted);
                        @let hr = scale(d.counts.refused);
                        @let hv = scale(d.counts.revoked);
                        @let base = H - BOTTOM;
                        g.day id=[(i == last).then_some("dash-today")] data-day=(d.date.to_string())
                            data-granted=(d.counts.granted) data-refused=(d.counts.refused)
                            data-revoked=(d.counts.revoked) data-total=(d.total()) {
                            title { (d.date.to_string()) (t(lang, Text::Blank)) (d.counts.granted) " " (status_label(lang, "granted")) ", " (d.counts.refused) " " (status_label(lang, "refused")) ", " (d.counts.revoked) " " (status_label(lang, "revoked")) }
                            @if hg > 0 { rect.bar-granted x=(x) y=(base - hg) width=(bar) height=(hg) {} }
                            @if hr > 0 { rect.bar-refused x=(x) y=(base - hg - hr) width=(bar) height=(hr) {} }
                            @if hv > 0 { rect.bar-revoked x=(x) y=(base - hg - hr - hv) width=(bar) height=(hv) {} }
                            @if i % 5 == last % 5 {
                                text x=(x + bar / 2) y=(H - 6) text-anchor="middle" { (d.date.strftime("%d/%m").to_string()) }
                            }
                        }
                    }
                }
                figcaption.legend {
                    span.key.k-granted { (PreEscaped("&#9632;")) } " " (status_label(lang, "granted")) " "
                    span.key.k-refused { (PreEscaped("&#9632;")) } " " (status_label(lang, "refused")) " "
                    span.key.k-revoked { (PreEscaped("&#9632;")) } " " (status_label(lang, "revoked"))
                }
            }
            details {
                summary { (t(lang, Text::TheChartSFigures)) }
                div.table-wrap tabindex="0" {
                    table #dash-chart-table {
                        caption.visually-hidden { (title) }
                        thead { tr {
                            th scope="col" { (t(lang, Text::Day)) }
                            th scope="col" { (status_label(lang, "granted")) }
                            th scope="col" { (status_label(lang, "refused")) }
                            th scope="col" { (status_label(lang, "revoked")) }
                        } }
                        tbody {
                            @for d in days.iter().rev() {
                                tr data-day=(d.date.to_string()) {
                                    th scope="row" { (d.date.to_string()) }
                                    td { (d.counts.granted) }
                                    td { (d.counts.refused) }
                                    td { (d.counts.revoked) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn log_section(state: &AppState, lang: Lang, size: u64, checkpoint: Option<(u64, i64)>) -> Markup {
    html! {
        section.card #dash-log aria-labelledby="dash-log-h" {
            h2 #dash-log-h { (t(lang, Text::Log)) }
            p {
                span.stat #dash-log-size data-size=(size) { (size) }
                " " (t(lang, Text::EntriesProofsAndOther))
            }
            @match checkpoint {
                Some((cp_size, at)) => p #dash-checkpoint {
                    (t(lang, Text::LatestSignedCheckpoint))
                    (local_time(state, at)) ", " (cp_size) " " (t(lang, Text::Entries)) ". "
                    a href="/v1/log/checkpoint" { (t(lang, Text::ReadIt)) }
                },
                None => p #dash-checkpoint.muted { (t(lang, Text::NoSignedCheckpointYet)) },
            }
        }
    }
}

fn anchor_section(
    state: &AppState,
    lang: Lang,
    now: Timestamp,
    anchors: &[AnchorRow],
    in_progress: &[AnchorRow],
) -> Markup {
    let schedule = state.anchoring.schedule();
    let next = schedule
        .slot_after(now)
        .map(|s| format!("{} ({})", schedule.local(s.at), schedule.zone_name()));
    // One status, never two that contradict: not configured (then no schedule and no
    // "pending" promise), configured with nothing anchored yet, or anchored.
    let configured = state.anchoring.configured();
    html! {
        section.card #dash-anchor aria-labelledby="dash-anchor-h" {
            h2 #dash-anchor-h { (t(lang, Text::Anchoring)) }
            @if !configured && anchors.is_empty() {
                p #dash-anchor-none data-state="none" {
                    (t(lang, Text::NoAnchorIsConfigured))
                }
            } @else if anchors.is_empty() {
                p.pending-anchor #dash-anchor-pending data-state="pending" {
                    (t(lang, Text::PendingNextAnchorAt))
                    (schedule.describe())
                    @if let Some(n) = &next { " — " (n) }
                    "."
                }
            } @else {
                @let size = anchors.first().map(|a| a.size).unwrap_or(0);
                p {
                    (t(lang, Text::LatestAnchoredCheckpoint))
                    strong #dash-anchor-size data-size=(size) { (size) } " " (t(lang, Text::Entries)) "."
                }
                ul #dash-anchor-list {
                    @for a in anchors { li data-kind=(a.kind) { (anchor_item(state, lang, a)) } }
                }
                p.muted {
                    @if configured {
                        (t(lang, Text::NextAnchor)) (schedule.describe())
                        @if let Some(n) = &next { " — " (n) }
                        ". "
                    } @else {
                        span #dash-anchor-none data-state="stopped" { (t(lang, Text::AnchoringNoLongerConfigured)) } " "
                    }
                    a href="/v1/log/anchors" { (t(lang, Text::AnchorHistoryJson)) }
                }
            }
            @if !in_progress.is_empty() {
                p #dash-anchor-progress {
                    (t(lang, Text::AnchoringInProgressFor))
                    (in_progress.iter().map(|a| a.size).max().unwrap_or(0)) " " (t(lang, Text::Entries)) "."
                }
            }
        }
    }
}

fn anchor_item(state: &AppState, lang: Lang, a: &AnchorRow) -> Markup {
    let object: serde_json::Value = a
        .anchor
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let when = local_time(state, a.updated_at);
    match a.kind {
        AnchorKind::Evm => {
            let tx = object["tx_hash"].as_str().unwrap_or("");
            let link = state
                .anchoring
                .evm_explorer_link(tx)
                .unwrap_or_else(|| "/v1/log/anchors".to_owned());
            html! {
                strong { (t(lang, Text::EvmChain)) } " — " (when) ". "
                (t(lang, Text::ChainId)) span.chain-id { (object["chain_id"]) } ", "
                (t(lang, Text::Block)) span.block { (object["block_number"]) } ", "
                (t(lang, Text::Transaction)) a.tx href=(link) rel="noopener noreferrer" { code { (tx) } }
            }
        }
        AnchorKind::Rfc3161 => {
            let gen_time = object["gen_time"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .map(|t| local_time(state, t.as_millisecond()))
                .unwrap_or_else(|| when.clone());
            html! {
                strong { (t(lang, Text::Rfc3161TimeStamp)) } " — "
                (t(lang, Text::AuthoritySTime)) span.tsa-time { (gen_time) }
                @if let Some(tsa) = object["tsa"].as_str() { " (" (tsa) ")" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_are_local_calendar_days_across_a_clock_change() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        // 2026-10-25: clocks go back in Paris (a 25-hour day).
        let days = chart_days(&tz, ts("2026-11-10T12:00:00Z"));
        assert_eq!(days.len(), CHART_DAYS);
        assert_eq!(days.last().unwrap().date.to_string(), "2026-11-10");
        assert_eq!(days.first().unwrap().date.to_string(), "2026-10-12");
        let oct25 = days
            .iter()
            .position(|d| d.date.to_string() == "2026-10-25")
            .unwrap();
        assert_eq!(
            days[oct25 + 1].start_ms - days[oct25].start_ms,
            25 * 3_600_000
        );
        // Paris midnight on 2026-11-10 is 23:00 UTC the day before.
        assert_eq!(
            days.last().unwrap().start_ms,
            ts("2026-11-09T23:00:00Z").as_millisecond()
        );
        let since = days[0].start_ms;
        let mut buckets = BTreeMap::new();
        let at = |s: &str| u64::try_from((ts(s).as_millisecond() - since) / BUCKET_MS).unwrap();
        let g = BucketCounts {
            granted: 1,
            ..Default::default()
        };
        let r = BucketCounts {
            refused: 2,
            ..Default::default()
        };
        // 22:59 UTC on 11-09 is still 11-09 in Paris; 23:00 UTC is 11-10.
        buckets.insert(at("2026-11-09T22:59:00Z"), g);
        buckets.insert(at("2026-11-09T23:00:00Z"), r);
        let mut days = days;
        fill_days(&mut days, since, &buckets);
        assert_eq!(days[CHART_DAYS - 1].counts.refused, 2);
        assert_eq!(days[CHART_DAYS - 1].counts.granted, 0);
        assert_eq!(days[CHART_DAYS - 2].counts.granted, 1);
    }

    #[test]
    fn india_is_half_an_hour_off_and_still_whole_buckets() {
        let tz = TimeZone::get("Asia/Kolkata").unwrap();
        let days = chart_days(&tz, ts("2026-11-10T12:00:00Z"));
        for d in &days {
            assert_eq!((d.start_ms - days[0].start_ms) % BUCKET_MS, 0);
        }
    }
}
