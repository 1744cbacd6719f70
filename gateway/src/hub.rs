//! What one gateway knows about its own connections: who waits in which sale, who watches which
//! seat map. Three loops keep them up to date:
//!
//! - [`push_loop`]: every `push_interval`, per sale with local members: one read of the sale,
//!   one heartbeat for every local identity, standings for those whose turn may have come, then
//!   a `queue` (or `admitted`) message to each member.
//! - [`controller_loop`]: every `controller_interval`, per sale with local members: one
//!   admission step; only the lease holder's step moves the watermark.
//! - [`seat_loop`]: follows the ledger's committed events into the seat maps, pushes changes to
//!   watchers and marks sales sold out (and back) at once.
//!
//! Locks are never held across an await.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ws::{Message, Utf8Bytes};
use picket_ledger_client::seats::SeatMaps;
use tokio::sync::{broadcast, mpsc};

use crate::Gateway;
use crate::protocol::{ErrorCode, ServerMessage, WaitlistInvite, seat_bitmap};
use picket_edge::id::Id;
use picket_edge::token::Claims;
use picket_ledger_core::PerformanceId;
use picket_room::{SaleId, SaleStatus, SaleView, Standing, StoreError};

pub type ConnId = u64;

/// How other tasks reach a connection: a bounded queue, and a flag that the connection is a
/// slow reader (its queue was full), which closes it.
#[derive(Clone)]
pub struct ConnTx {
    pub id: ConnId,
    pub queue: mpsc::Sender<Message>,
    pub slow: Arc<AtomicBool>,
}

impl ConnTx {
    /// Queues a message without waiting; a full queue marks the connection slow.
    pub fn send(&self, text: Utf8Bytes) {
        if self.queue.try_send(Message::Text(text)).is_err() {
            self.slow.store(true, Ordering::Relaxed);
        }
    }

    pub fn send_message(&self, message: &ServerMessage) {
        self.send(message.to_json().into());
    }
}

struct Member {
    identity: String,
    tx: ConnTx,
    standing: Standing,
    /// This identity's draw entry, read at join (it never changes for a sale).
    draw_entry: Option<String>,
    /// The admission (jti) this connection has been handed a token for.
    token_sent_for: Option<u64>,
    /// An admission this gateway ended (a payment under it went through) before the push loop
    /// has told the client: its token is refused from that moment, not from the next push.
    ended_jti: Option<u64>,
}

#[derive(Default)]
struct Room {
    members: HashMap<ConnId, Member>,
    view: Option<SaleView>,
    unavailable: bool,
}

#[derive(Default)]
pub struct Hub {
    rooms: std::sync::Mutex<HashMap<SaleId, Room>>,
    watchers: std::sync::Mutex<HashMap<u64, HashMap<ConnId, ConnTx>>>,
    pub seat_maps: std::sync::Mutex<SeatMaps>,
    sold_out: std::sync::Mutex<HashSet<u64>>,
    /// Performances whose spec takes a cancellation waitlist, as the ledger answered when
    /// each went sold out (a spec never changes, so one answer holds). One entry per
    /// performance the ledger follows, at most its `PERFORMANCES_PER_PARTITION_MAX` each.
    waitlists: std::sync::Mutex<HashMap<u64, bool>>,
    /// Admissions spent on this gateway (a payment went through) since the last push round,
    /// per sale: the push loop ends them in the store with one call per sale
    /// ([`flush_finishes`]). At most [`FINISHES_PENDING_MAX`] identities in all.
    finishes: std::sync::Mutex<HashMap<SaleId, HashSet<String>>>,
}

/// Spent admissions waiting for the next push round to end them in the store; past this,
/// the connection ends its admission in the store itself (one round trip, as before).
pub const FINISHES_PENDING_MAX: usize = 50_000;

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn add_member(
        &self,
        sale: SaleId,
        identity: &str,
        tx: ConnTx,
        standing: Standing,
        draw_entry: Option<String>,
    ) {
        let member = Member {
            identity: identity.to_owned(),
            tx: tx.clone(),
            standing,
            draw_entry,
            token_sent_for: None,
            ended_jti: None,
        };
        lock(&self.rooms)
            .entry(sale)
            .or_default()
            .members
            .insert(tx.id, member);
    }

    pub fn remove_member(&self, sale: SaleId, conn: ConnId) {
        let mut rooms = lock(&self.rooms);
        if let Some(room) = rooms.get_mut(&sale) {
            room.members.remove(&conn);
            if room.members.is_empty() {
                rooms.remove(&sale);
            }
        }
    }

    pub fn note_token_sent(&self, sale: SaleId, conn: ConnId, jti: u64) {
        if let Some(member) = lock(&self.rooms)
            .get_mut(&sale)
            .and_then(|room| room.members.get_mut(&conn))
        {
            member.token_sent_for = Some(jti);
        }
    }

    /// Whether admission `jti` is, as far as this gateway has told the client, the connection's
    /// current admission in `sale`: the token check asks this, so a token whose admission the
    /// gateway reported (or is about to report) as ended books nothing.
    pub fn admission_current(&self, sale: SaleId, conn: ConnId, jti: u64) -> bool {
        lock(&self.rooms)
            .get(&sale)
            .and_then(|room| room.members.get(&conn))
            .is_some_and(|member| {
                matches!(member.standing, Standing::Admitted { jti: current, .. } if current == jti)
                    && member.ended_jti != Some(jti)
            })
    }

    /// Admission `jti` of `identity` in `sale` was spent: refuse its tokens on every connection
    /// of that identity here now, and end it in the store at the next push round, which then
    /// tells the clients. `false` when [`FINISHES_PENDING_MAX`] finishes are already waiting:
    /// the caller ends it in the store itself.
    pub fn end_admission(&self, sale: SaleId, identity: &str, jti: u64) -> bool {
        if let Some(room) = lock(&self.rooms).get_mut(&sale) {
            for member in room.members.values_mut() {
                if member.identity == identity {
                    member.ended_jti = Some(jti);
                }
            }
        }
        let mut finishes = lock(&self.finishes);
        let pending: usize = finishes.values().map(HashSet::len).sum();
        if pending >= FINISHES_PENDING_MAX {
            return false;
        }
        finishes
            .entry(sale)
            .or_default()
            .insert(identity.to_owned());
        true
    }

    /// Takes `identity`'s finish in `sale` out of those waiting for the next round: `true` if
    /// there was one, which the caller must then end in the store itself. A buyer joining again
    /// right after a purchase needs it ended first, or the store would hand back the spent
    /// admission instead of a place in line.
    pub fn take_finish(&self, sale: SaleId, identity: &str) -> bool {
        let mut finishes = lock(&self.finishes);
        let Some(identities) = finishes.get_mut(&sale) else {
            return false;
        };
        let taken = identities.remove(identity);
        if identities.is_empty() {
            finishes.remove(&sale);
        }
        taken
    }

    /// Finishes waiting for the store, by sale (for tests and metrics).
    pub fn finishes_pending(&self) -> usize {
        lock(&self.finishes).values().map(HashSet::len).sum()
    }

    /// The sale's seat limit as of the last push round, if one has read the sale.
    pub fn seat_limit(&self, sale: SaleId) -> Option<u16> {
        lock(&self.rooms)
            .get(&sale)
            .and_then(|room| room.view.as_ref())
            .map(|view| view.settings.seat_limit)
    }

    /// Whether the performance's waitlist takes joins, as last learned from the ledger.
    pub fn waitlist_open(&self, performance: u64) -> bool {
        lock(&self.waitlists)
            .get(&performance)
            .copied()
            .unwrap_or(false)
    }

    pub fn cached_view(&self, sale: SaleId) -> Option<SaleView> {
        lock(&self.rooms).get(&sale).and_then(|r| r.view.clone())
    }

    pub fn add_watcher(&self, performance: u64, tx: ConnTx) -> bool {
        let snapshot = {
            let maps = lock(&self.seat_maps);
            let Some(map) = maps.maps.get(&performance) else {
                return false;
            };
            ServerMessage::Seats {
                performance: Id(performance),
                seq: map.seq,
                seat_free: seat_bitmap(&map.seat_free),
                zone_free: map.zone_free.clone(),
                free: map.free,
                cancelled: map.cancelled,
            }
        };
        tx.send_message(&snapshot);
        lock(&self.watchers)
            .entry(performance)
            .or_default()
            .insert(tx.id, tx);
        true
    }

    pub fn remove_watcher(&self, performance: u64, conn: ConnId) {
        let mut watchers = lock(&self.watchers);
        if let Some(set) = watchers.get_mut(&performance) {
            set.remove(&conn);
            if set.is_empty() {
                watchers.remove(&performance);
            }
        }
    }

    fn sales(&self) -> Vec<SaleId> {
        lock(&self.rooms).keys().copied().collect()
    }

    /// Sends every member of a sale the same message.
    fn tell_room(&self, sale: SaleId, message: &ServerMessage) {
        let text: Utf8Bytes = message.to_json().into();
        if let Some(room) = lock(&self.rooms).get(&sale) {
            for member in room.members.values() {
                member.tx.send(text.clone());
            }
        }
    }
}

/// The `queue` message for one member, with its `draw_entry` while that means something: in
/// the pre-queue, and at a drawn place (the first `prequeue` places), so the client can find
/// itself in the audit list.
pub fn queue_message(
    view: &SaleView,
    standing: &Standing,
    draw_entry: Option<&str>,
    waitlist_open: bool,
) -> ServerMessage {
    let place = match standing {
        Standing::Waiting { place } => Some(*place),
        _ => None,
    };
    let in_draw = match standing {
        Standing::PreQueue => true,
        Standing::Waiting { place } => *place <= view.prequeue,
        _ => false,
    };
    let ahead = place.map(|p| p.saturating_sub(view.watermark + 1));
    let rate = u64::from(view.settings.admit_per_sec.max(1));
    let eta_s = ahead.map(|a| {
        let until_open_s = view
            .settings
            .open_at_ms
            .saturating_sub(picket_edge::clock::now_ms())
            / 1_000;
        until_open_s + a.div_ceil(rate)
    });
    ServerMessage::Queue {
        sale: Id(view.sale),
        status: view.status,
        place,
        ahead,
        eta_s,
        prequeue: view.prequeue,
        open_at_ms: view.settings.open_at_ms,
        seed_hash: view.seed_hash.clone(),
        seed: view.seed.clone(),
        draw_entry: draw_entry.filter(|_| in_draw).map(str::to_owned),
        // The sale of performance p is sale p.
        waitlist: (view.status == SaleStatus::SoldOut && waitlist_open)
            .then(|| WaitlistInvite::for_performance(view.sale)),
    }
}

/// The message a paused-by-outage sale shows: the last known view with the status replaced.
fn unavailable_message(sale: SaleId, view: Option<&SaleView>) -> ServerMessage {
    match view {
        Some(view) => {
            let mut view = view.clone();
            view.status = SaleStatus::Unavailable;
            queue_message(&view, &Standing::Absent, None, false)
        }
        None => ServerMessage::Queue {
            sale: Id(sale),
            status: SaleStatus::Unavailable,
            place: None,
            ahead: None,
            eta_s: None,
            prequeue: 0,
            open_at_ms: 0,
            seed_hash: String::new(),
            seed: None,
            draw_entry: None,
            waitlist: None,
        },
    }
}

/// Signs the admission token for one connection's turn.
pub fn admission_message(
    gateway: &Gateway,
    sale: SaleId,
    identity: &str,
    conn: ConnId,
    jti: u64,
    expires_at_ms: u64,
    seat_limit: u16,
) -> ServerMessage {
    let claims = Claims::Admission {
        identity: identity.to_owned(),
        sale,
        conn: conn.to_string(),
        jti,
        exp_ms: expires_at_ms,
    };
    gateway.metrics.admissions_issued.inc();
    ServerMessage::Admitted {
        sale: Id(sale),
        token: gateway.keys.sign(&claims),
        expires_at_ms,
        seat_limit,
    }
}

pub async fn push_loop(gateway: Arc<Gateway>) {
    let mut ticker = tokio::time::interval(gateway.config.push_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        flush_finishes(&gateway).await;
        for sale in gateway.hub.sales() {
            let started = std::time::Instant::now();
            if let Err(error) = push_sale(&gateway, sale).await {
                on_store_error(&gateway, sale, &error);
            }
            gateway
                .metrics
                .push_seconds
                .observe(started.elapsed().as_secs_f64());
        }
    }
}

/// Ends in the store every admission spent on this gateway since the last round: one call per
/// sale. A sale the store cannot reach keeps its finishes for the next round (the admissions'
/// tokens are refused here meanwhile, and the ledger has spent them).
pub async fn flush_finishes(gateway: &Gateway) {
    let pending = std::mem::take(&mut *lock(&gateway.hub.finishes));
    for (sale, identities) in pending {
        let identities: Vec<String> = identities.into_iter().collect();
        match gateway.store.finish_many(sale, &identities).await {
            Ok(()) | Err(StoreError::UnknownSale) => {}
            Err(error) => {
                tracing::debug!(sale, %error, "ending spent admissions failed; next round");
                let mut finishes = lock(&gateway.hub.finishes);
                let room = FINISHES_PENDING_MAX
                    .saturating_sub(finishes.values().map(HashSet::len).sum::<usize>());
                finishes
                    .entry(sale)
                    .or_default()
                    .extend(identities.into_iter().take(room));
            }
        }
    }
}

fn on_store_error(gateway: &Gateway, sale: SaleId, error: &StoreError) {
    gateway.metrics.store_unavailable.inc();
    let hub = &gateway.hub;
    let message = {
        let mut rooms = lock(&hub.rooms);
        let Some(room) = rooms.get_mut(&sale) else {
            return;
        };
        if matches!(error, StoreError::UnknownSale) {
            let message = ServerMessage::error(None, ErrorCode::UnknownSale);
            for member in room.members.values() {
                member.tx.send_message(&message);
            }
            rooms.remove(&sale);
            return;
        }
        if room.unavailable {
            return;
        }
        room.unavailable = true;
        unavailable_message(sale, room.view.as_ref())
    };
    tracing::warn!(sale, %error, "queue store unavailable: admission paused, places kept");
    hub.tell_room(sale, &message);
}

/// One push for one sale (see the module docs).
async fn push_sale(gateway: &Gateway, sale: SaleId) -> Result<(), StoreError> {
    let store = &gateway.store;
    let view = store.view(sale).await?;
    let (identities, to_check) = {
        let mut rooms = lock(&gateway.hub.rooms);
        let Some(room) = rooms.get_mut(&sale) else {
            return Ok(());
        };
        room.view = Some(view.clone());
        room.unavailable = false;
        let identities: HashSet<String> =
            room.members.values().map(|m| m.identity.clone()).collect();
        let to_check: HashMap<String, bool> = room
            .members
            .values()
            .filter(|m| turn_may_have_changed(&m.standing, &view))
            .map(|m| {
                let was_admitted = matches!(m.standing, Standing::Admitted { .. });
                (m.identity.clone(), was_admitted)
            })
            .collect();
        (identities, to_check)
    };
    let identities: Vec<String> = identities.into_iter().collect();
    store.heartbeat(sale, &identities).await?;
    let (to_check, was_admitted): (Vec<String>, Vec<bool>) = to_check.into_iter().unzip();
    let mut fresh: HashMap<String, Standing> = HashMap::new();
    let mut ended: HashSet<String> = HashSet::new();
    if !to_check.is_empty() {
        let standings = store.standings(sale, &to_check).await?;
        for ((identity, standing), was_admitted) in
            to_check.into_iter().zip(standings).zip(was_admitted)
        {
            let standing = match standing {
                // The admission ran out or was used: the client must join again to queue again.
                Standing::Absent if was_admitted => {
                    ended.insert(identity);
                    continue;
                }
                // A connected client whose place lapsed (an outage outlasted the grace period)
                // wants to be in line: it queues again.
                Standing::Absent => store.join(sale, &identity).await?,
                standing => standing,
            };
            fresh.insert(identity, standing);
        }
    }
    let mut rooms = lock(&gateway.hub.rooms);
    let Some(room) = rooms.get_mut(&sale) else {
        return Ok(());
    };
    if !ended.is_empty() {
        let message = ServerMessage::error(None, ErrorCode::AdmissionExpired);
        room.members.retain(|_, member| {
            let done = ended.contains(&member.identity);
            if done {
                member.tx.send_message(&message);
            }
            !done
        });
        if room.members.is_empty() {
            rooms.remove(&sale);
            return Ok(());
        }
    }
    let mut queue_texts = QueueRound::new(&view, gateway.hub.waitlist_open(sale));
    for (conn, member) in room.members.iter_mut() {
        if let Some(standing) = fresh.get(&member.identity) {
            member.standing = standing.clone();
        }
        match member.standing {
            Standing::Admitted { jti, expires_at_ms } => {
                if member.token_sent_for != Some(jti) {
                    member.token_sent_for = Some(jti);
                    let message = admission_message(
                        gateway,
                        sale,
                        &member.identity,
                        *conn,
                        jti,
                        expires_at_ms,
                        view.settings.seat_limit,
                    );
                    member.tx.send_message(&message);
                }
            }
            _ => member
                .tx
                .send(queue_texts.text(&member.standing, member.draw_entry.as_deref())),
        }
    }
    Ok(())
}

/// The `queue` messages of one push round for one sale, each the text [`queue_message`] would
/// give, without serialising the message once per member: the parts every member shares are
/// serialised once and a waiting member's numbers (`place`, `ahead`, `eta_s`) written between
/// them; the message without a place (the same for every such member) is made once and shared.
/// Members with a draw entry (the pre-queue and the drawn places) get their own message.
pub struct QueueRound<'v> {
    view: &'v SaleView,
    waitlist_open: bool,
    /// A waiting member's message around its three numbers, when the placeholders split it.
    parts: Option<[String; 4]>,
    /// The text for members without a place or a draw entry, once made.
    placeless: Option<Utf8Bytes>,
}

/// Stand-ins for `place`, `ahead` and `eta_s` in the template: 20-digit numbers no sale's
/// counters or times reach; the template is used only if each occurs exactly once.
const PLACEHOLDERS: [u64; 3] = [u64::MAX, u64::MAX - 1, u64::MAX - 2];

impl<'v> QueueRound<'v> {
    pub fn new(view: &'v SaleView, waitlist_open: bool) -> Self {
        let mut template = queue_message(view, &Standing::Absent, None, waitlist_open);
        if let ServerMessage::Queue {
            place,
            ahead,
            eta_s,
            ..
        } = &mut template
        {
            *place = Some(PLACEHOLDERS[0]);
            *ahead = Some(PLACEHOLDERS[1]);
            *eta_s = Some(PLACEHOLDERS[2]);
        }
        QueueRound {
            view,
            waitlist_open,
            parts: split_template(&template.to_json()),
            placeless: None,
        }
    }

    /// The text of `queue_message(view, standing, draw_entry, waitlist_open)`.
    pub fn text(&mut self, standing: &Standing, draw_entry: Option<&str>) -> Utf8Bytes {
        let place = match standing {
            Standing::Waiting { place } => Some(*place),
            _ => None,
        };
        let message = || queue_message(self.view, standing, draw_entry, self.waitlist_open);
        let in_draw = match standing {
            Standing::PreQueue => true,
            Standing::Waiting { place } => *place <= self.view.prequeue,
            _ => false,
        };
        if in_draw && draw_entry.is_some() {
            return message().to_json().into();
        }
        if place.is_none() {
            return self
                .placeless
                .get_or_insert_with(|| message().to_json().into())
                .clone();
        }
        match (&self.parts, message()) {
            (
                Some([head, after_place, after_ahead, tail]),
                ServerMessage::Queue {
                    place: Some(place),
                    ahead: Some(ahead),
                    eta_s: Some(eta_s),
                    ..
                },
            ) => {
                use std::fmt::Write as _;
                let mut text = String::with_capacity(head.len() + tail.len() + 64);
                text.push_str(head);
                let _ = write!(text, "{place}{after_place}{ahead}{after_ahead}{eta_s}");
                text.push_str(tail);
                text.into()
            }
            (_, message) => message.to_json().into(),
        }
    }
}

/// The template's text around the three placeholders, in order; `None` unless each occurs
/// exactly once.
fn split_template(json: &str) -> Option<[String; 4]> {
    let mut parts = Vec::with_capacity(4);
    let mut rest = json;
    for placeholder in PLACEHOLDERS {
        let digits = placeholder.to_string();
        if json.matches(&digits).count() != 1 {
            return None;
        }
        let (before, after) = rest.split_once(&digits)?;
        parts.push(before.to_owned());
        rest = after;
    }
    parts.push(rest.to_owned());
    parts.try_into().ok()
}

/// Whether a member's cached standing may be stale: its turn may have come, the draw may have
/// placed it, it has no place yet, or its admission may have ended.
fn turn_may_have_changed(standing: &Standing, view: &SaleView) -> bool {
    match standing {
        Standing::Absent => true,
        Standing::PreQueue => view.status != SaleStatus::PreQueue,
        Standing::Waiting { place } => *place <= view.watermark,
        // An admission can end early on any gateway (a payment used it): check each push; there
        // are at most `active_max` of them.
        Standing::Admitted { .. } => true,
    }
}

pub async fn controller_loop(gateway: Arc<Gateway>) {
    let mut ticker = tokio::time::interval(gateway.config.controller_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let holder = gateway.config.gateway_id.clone();
    loop {
        ticker.tick().await;
        for sale in gateway.hub.sales() {
            let step = gateway
                .store
                .advance(sale, &holder, gateway.config.lease_ms)
                .await;
            match step {
                Ok(step) if step.draw_due => {
                    let lease_ms = gateway.config.lease_ms;
                    if let Err(error) = gateway.store.draw(sale, &holder, lease_ms).await {
                        tracing::warn!(sale, %error, "drawing the pre-queue failed; will retry");
                    } else {
                        tracing::info!(sale, "pre-queue drawn");
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(sale, %error, "admission step failed"),
            }
        }
    }
}

/// Wait before following the ledger again after a subscription failed (no leader yet).
const RESUBSCRIBE_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

pub async fn seat_loop(gateway: Arc<Gateway>) {
    loop {
        let subscription = match gateway.ledger.subscribe().await {
            Ok(subscription) => subscription,
            Err(picket_ledger_client::SubmitError::Stopped) => {
                tracing::info!("ledger stopped; seat maps no longer follow it");
                return;
            }
            Err(error) => {
                tracing::debug!(%error, "cannot follow the ledger yet; retrying");
                tokio::time::sleep(RESUBSCRIBE_DELAY).await;
                continue;
            }
        };
        lock(&gateway.hub.seat_maps).reset(subscription.seq, subscription.availability);
        resend_all_seat_maps(&gateway);
        let all: Vec<u64> = lock(&gateway.hub.seat_maps).maps.keys().copied().collect();
        update_sold_out(&gateway, &all).await;
        let mut events = subscription.events;
        loop {
            match events.recv().await {
                Ok(committed) => {
                    gateway.boards.note_commit(committed.seq, &committed.events);
                    let touched =
                        lock(&gateway.hub.seat_maps).apply(committed.seq, &committed.events);
                    push_seat_changes(&gateway, &touched);
                    update_sold_out(&gateway, &touched).await;
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "seat maps lagged behind the ledger; resubscribing");
                    break;
                }
                // The writer stopped (in process) or a partition's events stream failed
                // (NATS): subscribe again, which says which.
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }
}

fn resend_all_seat_maps(gateway: &Gateway) {
    let watchers = lock(&gateway.hub.watchers).clone();
    for (performance, set) in watchers {
        for tx in set.into_values() {
            gateway.hub.remove_watcher(performance, tx.id);
            gateway.hub.add_watcher(performance, tx);
        }
    }
}

fn push_seat_changes(gateway: &Gateway, touched: &[u64]) {
    for performance in touched {
        let message = {
            let mut maps = lock(&gateway.hub.seat_maps);
            let Some(map) = maps.maps.get_mut(performance) else {
                continue;
            };
            if !map.changed() {
                continue;
            }
            let (taken, freed) = map.take_changes();
            ServerMessage::SeatsChanged {
                performance: Id(*performance),
                seq: map.seq,
                taken,
                freed,
                zone_free: map.zone_free.clone(),
                free: map.free,
                cancelled: map.cancelled,
            }
        };
        let text: Utf8Bytes = message.to_json().into();
        if let Some(set) = lock(&gateway.hub.watchers).get(performance) {
            for tx in set.values() {
                tx.send(text.clone());
            }
        }
    }
}

/// Sold out when nothing is on sale: admission stops and every waiting client is told at once;
/// when seats come back (a hold lapsed, a ticket was cancelled) admission resumes.
async fn update_sold_out(gateway: &Gateway, touched: &[u64]) {
    for performance in touched {
        let free = lock(&gateway.hub.seat_maps)
            .maps
            .get(performance)
            .map(|m| m.free);
        let Some(free) = free else { continue };
        let sold_out = free == 0;
        let changed = {
            let mut marked = lock(&gateway.hub.sold_out);
            if sold_out {
                marked.insert(*performance)
            } else {
                marked.remove(performance)
            }
        };
        if !changed {
            continue;
        }
        if sold_out && !lock(&gateway.hub.waitlists).contains_key(performance) {
            // Asked once per performance: whether the waitlist the sold-out `queue` offers is
            // open. No answer (the ledger is away) leaves it unoffered until the next sell-out.
            match gateway
                .ledger
                .waitlist(PerformanceId(*performance), None)
                .await
            {
                Ok(Some(read)) => {
                    lock(&gateway.hub.waitlists).insert(*performance, read.report.enabled);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%error, performance, "cannot ask the ledger about the waitlist");
                }
            }
        }
        match gateway.store.set_sold_out(*performance, sold_out).await {
            Ok(()) | Err(StoreError::UnknownSale) => {}
            Err(error) => tracing::warn!(%error, performance, "could not mark the sale sold out"),
        }
        if let Some(mut view) = gateway.hub.cached_view(*performance) {
            view.sold_out = sold_out;
            view.status = if sold_out {
                SaleStatus::SoldOut
            } else {
                SaleStatus::Open
            };
            gateway.hub.tell_room(
                *performance,
                &queue_message(
                    &view,
                    &Standing::Absent,
                    None,
                    gateway.hub.waitlist_open(*performance),
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_room::SaleSettings;

    fn view(status: SaleStatus, prequeue: u64, seed: Option<&str>) -> SaleView {
        SaleView {
            sale: 77,
            settings: SaleSettings {
                // In the past: `eta_s` reads no clock.
                open_at_ms: 1_000,
                admit_per_sec: 7,
                active_max: 100,
                admission_ttl_ms: 600_000,
                seat_limit: 4,
                grace_ms: 30_000,
                paused: false,
            },
            status,
            watermark: 40,
            tail: 900,
            prequeue,
            active: 12,
            seed_hash: "5f2b".into(),
            seed: seed.map(str::to_owned),
            sold_out: status == SaleStatus::SoldOut,
        }
    }

    /// Every member's text of a round is byte for byte what serialising its own message gives,
    /// for every standing and with or without a draw entry, a seed or a waitlist.
    #[test]
    fn a_rounds_texts_are_each_members_own_message() {
        let views = [
            view(SaleStatus::Open, 0, None),
            view(SaleStatus::Open, 50, Some("9a1c")),
            view(SaleStatus::SoldOut, 50, Some("9a1c")),
            view(SaleStatus::PreQueue, 30, None),
        ];
        let standings = [
            Standing::Absent,
            Standing::PreQueue,
            Standing::Waiting { place: 1 },
            Standing::Waiting { place: 41 },
            Standing::Waiting { place: 50 },
            Standing::Waiting { place: 51 },
            Standing::Waiting { place: 899 },
            Standing::Waiting { place: 123_456_789 },
        ];
        for view in &views {
            for waitlist_open in [false, true] {
                let mut round = QueueRound::new(view, waitlist_open);
                assert!(round.parts.is_some(), "the template splits");
                // Twice over: the second pass takes texts made by the first.
                for _ in 0..2 {
                    for standing in &standings {
                        for entry in [None, Some("c07e")] {
                            let want =
                                queue_message(view, standing, entry, waitlist_open).to_json();
                            let got = round.text(standing, entry);
                            assert_eq!(got.as_str(), want, "{standing:?} {entry:?} {view:?}");
                        }
                    }
                }
            }
        }
    }

    /// Members without a place share one text, serialised once.
    #[test]
    fn the_placeless_message_is_serialised_once() {
        let view = view(SaleStatus::Open, 0, None);
        let mut round = QueueRound::new(&view, false);
        let first = round.text(&Standing::Absent, None);
        let again = round.text(&Standing::PreQueue, None);
        assert_eq!(first.as_str(), again.as_str());
        assert_eq!(first.as_str().as_ptr(), again.as_str().as_ptr(), "one text");
        let placed = round.text(&Standing::Waiting { place: 61 }, None);
        assert_ne!(first.as_str(), placed.as_str());
    }
}
