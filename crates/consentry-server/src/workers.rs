//! The service's background work, on three loops so that none waits on another:
//! closing requests whose response window passed, sending consent e-mails, delivering
//! webhooks.
//!
//! E-mails and webhook deliveries run in **per-tenant lanes**: each loop asks the store
//! which tenants have work due, and starts one task per tenant that has none running,
//! which takes that tenant's due items in order, one at a time, each bounded by its
//! timeout (the outbound client's for webhooks, [`crate::mail::SEND_TIMEOUT`] for
//! e-mails). A tenant whose endpoint never answers keeps only its own lane busy; other
//! tenants' lanes start beside it. At most [`WEBHOOK_LANES`] / [`MAIL_LANES`] lanes run at
//! once, so a burst of tenants cannot open unbounded connections; a lane waits at most
//! [`LANE_BATCH`] × its timeout, after which the next tenants get their turn: each look
//! at the queue starts after the last tenant given a lane (round robin), so tenants beyond
//! the first `max` by id are not starved when more have work than there are lanes. Expiry is
//! one statement on its own loop and never waits on a delivery.

use crate::mail::Transport;
use crate::state::AppState;
use consentry_core::ids::TenantId;
use lettre::message::Mailbox;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// Most tenants whose webhooks are delivered at once.
pub const WEBHOOK_LANES: usize = 32;
/// Most tenants whose e-mails are sent at once (the SMTP transport pools 10 connections).
pub const MAIL_LANES: usize = 8;
/// Items a lane takes at a time; it is started again if more are due.
pub const LANE_BATCH: u32 = 20;
/// Tenants read per look at the queue.
const TENANTS_PER_LOOK: u32 = 1000;
/// How often each loop looks at its queue (besides being woken).
const TICK: Duration = Duration::from_secs(1);
/// How long stopping waits for lanes in flight (each stops after its current item).
const DRAIN: Duration = Duration::from_secs(15);

/// Runs expiry, e-mails and webhooks until `stop`; `mail_wake` wakes the e-mails' loop
/// when a request is queued.
pub async fn run(
    state: AppState,
    transport: Transport,
    from: Mailbox,
    mail_wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    let expiry = tokio::spawn(expiry(state.clone(), stop.clone()));
    let mail = {
        let transport = Arc::new(transport);
        let from = Arc::new(from);
        tokio::spawn(lanes(
            "e-mail",
            MAIL_LANES,
            state.clone(),
            Some(mail_wake),
            stop.clone(),
            |state: AppState, now| async move {
                state
                    .store
                    .tenants_with_due_mail(now, TENANTS_PER_LOOK)
                    .await
            },
            move |state: AppState, tenant: TenantId, stop: watch::Receiver<bool>| {
                let (transport, from) = (transport.clone(), from.clone());
                async move {
                    let now = state.clock.now_ms();
                    let due = match state.store.due_mail_of(&tenant, now, LANE_BATCH).await {
                        Ok(due) => due,
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the mail queue failed");
                            return;
                        }
                    };
                    for r in due {
                        if *stop.borrow() {
                            return;
                        }
                        crate::mail::send_one(&state, &transport, &from, &r).await;
                    }
                }
            },
        ))
    };
    let hooks = tokio::spawn(lanes(
        "webhook",
        WEBHOOK_LANES,
        state.clone(),
        None,
        stop.clone(),
        |state: AppState, now| async move {
            state
                .store
                .tenants_with_due_deliveries(now, TENANTS_PER_LOOK)
                .await
        },
        |state: AppState, tenant: TenantId, stop: watch::Receiver<bool>| async move {
            let now = state.clock.now_ms();
            let due = match state
                .store
                .due_deliveries_of(&tenant, now, LANE_BATCH)
                .await
            {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the webhook queue failed");
                    return;
                }
            };
            for d in due {
                if *stop.borrow() {
                    return;
                }
                crate::webhooks::deliver_one(&state, &d).await;
            }
        },
    ));
    drop(state);
    for (name, task) in [("expiry", expiry), ("e-mail", mail), ("webhook", hooks)] {
        if let Err(e) = task.await {
            tracing::error!(worker = name, error = %e, "a worker failed");
        }
    }
}

/// Closes expired requests every second until `stop`.
async fn expiry(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        crate::mail::expire(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The lanes running, and whose they are.
struct Lanes {
    busy: HashSet<TenantId>,
    owners: HashMap<tokio::task::Id, TenantId>,
    tasks: JoinSet<()>,
    max: usize,
}

impl Lanes {
    /// Starts `work` as `tenant`'s lane, unless it has one or `max` are running.
    fn start(&mut self, tenant: TenantId, work: impl Future<Output = ()> + Send + 'static) {
        if self.tasks.len() < self.max && self.busy.insert(tenant.clone()) {
            let handle = self.tasks.spawn(work);
            self.owners.insert(handle.id(), tenant);
        }
    }

    /// A lane ended (or failed): its tenant can have one again.
    fn finished(
        &mut self,
        done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
        name: &str,
    ) {
        let id = match done {
            Ok((id, ())) => id,
            Err(e) => {
                tracing::error!(worker = name, error = %e, "a worker lane failed");
                e.id()
            }
        };
        if let Some(tenant) = self.owners.remove(&id) {
            self.busy.remove(&tenant);
        }
    }
}

/// One kind of work in per-tenant lanes: every [`TICK`] (or when woken), `due` names the
/// tenants with work, and `lane` is started for each that has no lane running, up to
/// `max` lanes.
async fn lanes<D, DF, L, LF>(
    name: &'static str,
    max: usize,
    state: AppState,
    wake: Option<Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
    due: D,
    lane: L,
) where
    D: Fn(AppState, i64) -> DF,
    DF: Future<Output = Result<Vec<TenantId>, consentry_store::StoreError>>,
    L: Fn(AppState, TenantId, watch::Receiver<bool>) -> LF,
    LF: Future<Output = ()> + Send + 'static,
{
    let mut lanes = Lanes {
        busy: HashSet::new(),
        owners: HashMap::new(),
        tasks: JoinSet::new(),
        max,
    };
    // The last tenant given a lane: the next look starts after it, so that when more
    // tenants have work than there are lanes, each gets its turn (round robin) instead
    // of the first ones by id taking every lane again at every tick.
    let mut last_started: Option<TenantId> = None;
    'outer: loop {
        match due(state.clone(), state.clock.now_ms()).await {
            Ok(tenants) => {
                for tenant in round_robin(tenants, last_started.as_ref()) {
                    if lanes.tasks.len() >= lanes.max {
                        break;
                    }
                    if !lanes.busy.contains(&tenant) {
                        let work = lane(state.clone(), tenant.clone(), stop.clone());
                        last_started = Some(tenant.clone());
                        lanes.start(tenant, work);
                    }
                }
            }
            Err(e) => tracing::warn!(worker = name, error = %e, "reading the queue failed"),
        }
        // Wait for the tick or a wake-up, noting lanes that finish meanwhile (a lane
        // that ends does not trigger a look at the queue by itself: a tenant whose
        // items fail at once is not retried in a tight loop).
        let tick = tokio::time::sleep(TICK);
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut tick => break,
                _ = async {
                    match &wake {
                        Some(w) => w.notified().await,
                        None => std::future::pending().await,
                    }
                } => break,
                Some(done) = lanes.tasks.join_next_with_id(), if !lanes.tasks.is_empty() => {
                    lanes.finished(done, name);
                }
                _ = stop.changed() => break 'outer,
            }
        }
    }
    // Each lane stops after its current item; those still running after DRAIN are
    // aborted (an item cut off is retried at the next start: delivery is at least once).
    let drained = tokio::time::timeout(DRAIN, async {
        while lanes.tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            worker = name,
            lanes = lanes.tasks.len(),
            "stopping: lanes still busy were cut off"
        );
        lanes.tasks.shutdown().await;
    }
}

/// The tenants with work due, in the order they get lanes: those after `last` (the last
/// one given a lane) first, in id order, then from the start up to `last` itself.
fn round_robin(mut due: Vec<TenantId>, last: Option<&TenantId>) -> Vec<TenantId> {
    due.sort();
    due.dedup();
    if let Some(last) = last {
        let split = due.partition_point(|t| t <= last);
        due.rotate_left(split);
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<TenantId> {
        names.iter().map(|n| TenantId::parse(n).unwrap()).collect()
    }

    #[test]
    fn the_first_look_takes_tenants_in_id_order() {
        let t = ids(&["ten_b", "ten_a", "ten_c"]);
        assert_eq!(round_robin(t, None), ids(&["ten_a", "ten_b", "ten_c"]));
    }

    #[test]
    fn the_next_look_starts_after_the_last_tenant_given_a_lane() {
        let t = ids(&["ten_a", "ten_b", "ten_c", "ten_d"]);
        let last = TenantId::parse("ten_b").unwrap();
        assert_eq!(
            round_robin(t, Some(&last)),
            ids(&["ten_c", "ten_d", "ten_a", "ten_b"])
        );
        // The last one may have no work left: the order still goes on after it.
        let t = ids(&["ten_a", "ten_d"]);
        assert_eq!(round_robin(t, Some(&last)), ids(&["ten_d", "ten_a"]));
    }

    /// More tenants with endless work than lanes: with lanes that each end after one
    /// look (as a lane ends after `LANE_BATCH` items), every tenant gets a lane within
    /// `ceil(tenants / lanes)` looks — in id order alone the same first ones would take
    /// every lane at every look.
    #[test]
    fn no_tenant_waits_more_than_its_turn() {
        let all = ids(&["ten_a", "ten_b", "ten_c", "ten_d", "ten_e"]);
        let max = 2;
        let mut last = None;
        let mut served = HashSet::new();
        for _ in 0..all.len().div_ceil(max) {
            let order = round_robin(all.clone(), last.as_ref());
            for t in order.into_iter().take(max) {
                served.insert(t.clone());
                last = Some(t);
            }
        }
        assert_eq!(served.len(), all.len());
    }
}
