//! The ledger state and its two functions: `decide` (read-only: may this command happen, and
//! which events record it?) and `apply` (the only place state changes).

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::command::{Command, IdempotencyKey, Request, Selection};
use crate::digest::Fnv64;
use crate::door::{
    AlreadyUsed, Direction, DoorBook, ExitRefused, OfflineScan, RefusedScan, Scan, ScanRefusal,
    ScanSource,
};
use crate::event::{Event, TicketScan};
use crate::fees;
use crate::limits::*;
use crate::offers::{self, AppliedOffer, CouponUses, OfferChoice, Priced};
use crate::outcome::{Invalid, Outcome, Rejection, Reply};
use crate::performance::PerformanceSpec;
use crate::types::*;
use crate::waitlist::{Pool, Waitlist, WaitlistEndReason, WaitlistEntry, WaitlistMode};

/// Ids carry their partition in the top 16 bits, so ids from different partitions never clash.
const ID_PARTITION_SHIFT: u32 = 48;
const ID_COUNTER_MASK: u64 = (1 << ID_PARTITION_SHIFT) - 1;

/// The result of one [`Ledger::execute`]: the caller's outcome and the events to journal. The
/// caller must not see `outcome` before `events` are durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub outcome: Outcome,
    pub events: Vec<Event>,
    /// The request repeated a recorded key: `outcome` is the original one.
    pub duplicate: bool,
}

/// One partition's ledger: the performances it owns and the idempotency keys it remembers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ledger {
    partition: u16,
    next_hold: u64,
    next_booking: u64,
    next_ticket: u64,
    next_refund: u64,
    performances: BTreeMap<PerformanceId, PerformanceState>,
    /// Active holds by deadline, so expiry finds the due ones without a scan.
    hold_deadlines: BTreeSet<(u64, PerformanceId, HoldId)>,
    /// Outcomes by actor, then key: looked up on every command without cloning the key.
    keys: BTreeMap<ActorId, BTreeMap<IdempotencyKey, Outcome>>,
    keys_remembered: usize,
    /// Keys by the time they were recorded, so old ones can be forgotten in order.
    key_times: BTreeSet<(u64, ActorId, IdempotencyKey)>,
    /// The counter of the next waitlist entry id.
    next_waitlist_entry: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeatState {
    Free,
    Held(HoldId),
    Sold(TicketId),
    /// Kept off sale for the waitlist's entries (see `WaitlistSpec::freed_to_sale`).
    Reserved,
    /// Never on sale (`SeatSpec::blocked`): no hold takes it, it counts in no grade's free seats,
    /// and nothing ever frees it. Only `PerformanceState::open` sets it.
    Blocked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HoldStatus {
    Active,
    Released,
    Expired,
    Confirmed(BookingId),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hold {
    pub buyer: ActorId,
    pub places: Vec<Place>,
    pub amount_won: Won,
    pub expires_at_ms: u64,
    pub status: HoldStatus,
    pub admission: Option<AdmissionId>,
    /// Each place's price after the offer, in the order of `places`.
    #[serde(default)]
    pub prices_won: Vec<Won>,
    /// The places the offer reduced.
    #[serde(default)]
    pub reduced: Vec<bool>,
    #[serde(default)]
    pub offer: Option<AppliedOffer>,
    /// The booking fee of each place (included in `amount_won`).
    #[serde(default)]
    pub booking_fee_won: Won,
}

impl Hold {
    /// The booking fees in `amount_won`.
    pub fn booking_fees_won(&self) -> Won {
        self.booking_fee_won * self.places.len() as Won
    }
}

/// Who first used a waiting-room admission, and whether it has bought tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AdmissionUse {
    pub buyer: ActorId,
    pub spent: bool,
}

/// What is on sale now: the live seat map a buyer sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub performance: PerformanceId,
    /// Per seat, in spec order: on sale (neither held nor sold, blocked nor called off). In
    /// JSON a hex bitmap ([`seat_bitmap`]), so a partition's seat maps fit one NATS reply.
    #[serde(with = "seat_bitmap")]
    pub seat_free: Vec<bool>,
    /// Per zone: standing places on sale.
    pub zone_free: Vec<u32>,
    /// The seller called the performance off: nothing is on sale, whatever its seats' states.
    /// (Absent in a snapshot of an older node: false.)
    #[serde(default)]
    pub cancelled: bool,
}

/// `Availability::seat_free` in JSON: `{"seats": 10, "bits": "fd02"}`, seat `i` on sale when bit
/// `i % 8` of byte `i / 8` is set, the bytes in lower-case hex (bits past the last seat 0). A
/// seat costs a quarter of a byte instead of the five or six of `true,` and `false,` (a 50,000-
/// seat stadium: 12.5 KB, not 275 KB), so a partition's seat maps fit the one NATS reply a
/// follower's snapshot is. Decoding also takes a list of booleans (nodes before the bitmap).
/// Postcard (not human-readable) keeps the plain list.
pub mod seat_bitmap {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const HEX: &[u8; 16] = b"0123456789abcdef";

    /// The hex bitmap of `seat_free`.
    pub fn encode(seat_free: &[bool]) -> String {
        let mut out = String::with_capacity(seat_free.len().div_ceil(8) * 2);
        for chunk in seat_free.chunks(8) {
            let byte = chunk
                .iter()
                .enumerate()
                .fold(0u8, |byte, (bit, free)| byte | (u8::from(*free) << bit));
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }

    /// The flags of a hex bitmap: eight per byte (the caller knows how many seats there are;
    /// trailing bits past the last seat are 0 and read as taken).
    pub fn decode(hex: &str) -> Option<Vec<bool>> {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let bytes = hex.as_bytes();
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let mut out = Vec::with_capacity(bytes.len() * 4);
        for pair in bytes.chunks(2) {
            let byte = (digit(pair[0])? << 4) | digit(pair[1])?;
            out.extend((0..8).map(|bit| byte & (1 << bit) != 0));
        }
        Some(out)
    }

    #[derive(Serialize)]
    struct Bitmap {
        seats: usize,
        bits: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct BitmapIn {
        seats: usize,
        bits: String,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum FlagsIn {
        Bitmap(BitmapIn),
        List(Vec<bool>),
    }

    pub fn serialize<S: Serializer>(seat_free: &[bool], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            Bitmap {
                seats: seat_free.len(),
                bits: encode(seat_free),
            }
            .serialize(serializer)
        } else {
            seat_free.serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<bool>, D::Error> {
        if !deserializer.is_human_readable() {
            return Vec::<bool>::deserialize(deserializer);
        }
        match FlagsIn::deserialize(deserializer)? {
            FlagsIn::List(flags) => Ok(flags),
            FlagsIn::Bitmap(bitmap) => {
                let mut flags = decode(&bitmap.bits)
                    .filter(|flags| flags.len() == bitmap.seats.div_ceil(8) * 8)
                    .ok_or_else(|| {
                        serde::de::Error::custom(format!(
                            "seat_free: not a hex bitmap of {} seats",
                            bitmap.seats
                        ))
                    })?;
                flags.truncate(bitmap.seats);
                Ok(flags)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Booking {
    pub buyer: ActorId,
    pub hold: HoldId,
    pub payment_ref: String,
    pub paid_won: Won,
    pub booked_at_ms: u64,
    pub tickets: Vec<TicketId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ticket {
    pub booking: BookingId,
    pub place: Place,
    /// What the buyer paid for this ticket (after any offer): cancellation refunds from it.
    pub price_won: Won,
    pub cancelled: bool,
    /// Who holds the ticket: the booking's buyer, or whom it was transferred to.
    pub holder: ActorId,
    /// The ticket's secret generation: a transfer or a device re-binding moves it on, and codes
    /// of an earlier generation are revoked.
    pub generation: u8,
    /// Transfers and device re-bindings so far, for their limits.
    pub transfers: u8,
    pub rebinds: u8,
    /// The discount this ticket was sold with: an eligibility discount's proof is checked at the
    /// entrance.
    #[serde(default)]
    pub discount: Option<DiscountId>,
    /// The booking fee paid with this ticket, on top of `price_won`.
    #[serde(default)]
    pub booking_fee_won: Won,
}

/// A refund owed by a cancellation, and whether the provider has paid it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Refund {
    pub booking: BookingId,
    pub amount_won: Won,
    /// The booking's provider payment key: what the refund is taken back from.
    pub payment_ref: String,
    /// The provider's transaction id of the cancel that paid it, once recorded.
    pub paid: Option<String>,
}

/// How often a coupon has been used in one performance, in all and per buyer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CouponUse {
    pub uses: u32,
    /// Bounded by the holds: one entry per buyer who held with the coupon.
    pub buyers: BTreeMap<ActorId, u16>,
}

/// Money of one performance. Invariant 6: `payments − refunds = revenue + fees`, where the
/// fees are the cancellation fees and the booking fees kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub payments_won: Won,
    pub refunds_won: Won,
    /// Prices of the tickets still valid: what the seller keeps for them.
    pub revenue_won: Won,
    /// Cancellation fees kept from cancelled tickets.
    pub fees_won: Won,
    /// Booking fees of the valid tickets, and those kept from cancelled ones.
    #[serde(default)]
    pub booking_fees_won: Won,
    /// The part of `refunds_won` the provider has paid back (recorded with `RecordRefund`);
    /// never more than `refunds_won`.
    pub refunds_paid_won: Won,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ZoneCount {
    pub held: u32,
    pub sold: u32,
}

/// Inventory, holds, bookings and money of one performance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerformanceState {
    spec: PerformanceSpec,
    seats: Vec<SeatState>,
    /// Per grade, its seats in spec order (best first).
    grade_seats: Vec<Vec<SeatId>>,
    /// Per seat, its index in `grade_seats[grade]`.
    seat_grade_index: Vec<u32>,
    /// Per grade, the positions in `grade_seats` of its free seats: best-available walks free
    /// seats only, never the sold ones in front of them.
    grade_free: Vec<BTreeSet<u32>>,
    zones: Vec<ZoneCount>,
    holds: BTreeMap<HoldId, Hold>,
    bookings: BTreeMap<BookingId, Booking>,
    tickets: BTreeMap<TicketId, Ticket>,
    /// Places each buyer holds or owns, for the per-buyer limit.
    buyer_places: BTreeMap<ActorId, u16>,
    /// Admissions used so far: one entry per admitted buyer who held, so bounded by the holds.
    admissions: BTreeMap<AdmissionId, AdmissionUse>,
    /// Coupon uses (active and paid holds), for the usage limits.
    #[serde(default)]
    coupon_uses: BTreeMap<CouponId, CouponUse>,
    /// Refunds owed by cancellations of this performance, paid or not.
    refunds: BTreeMap<RefundId, Refund>,
    /// The seller called the performance off.
    cancelled: bool,
    money: Money,
    /// Every scan at the door: who is inside, and the conflicts of offline uploads.
    door: DoorBook,
    /// The cancellation waitlist: entries, open offers, places reserved for it.
    waitlist: Waitlist,
}

impl Ledger {
    /// An empty ledger for `partition`; its hold, booking and ticket ids carry the partition.
    pub fn new(partition: u16) -> Self {
        Ledger {
            partition,
            next_hold: 1,
            next_booking: 1,
            next_ticket: 1,
            next_refund: 1,
            performances: BTreeMap::new(),
            hold_deadlines: BTreeSet::new(),
            keys: BTreeMap::new(),
            keys_remembered: 0,
            key_times: BTreeSet::new(),
            next_waitlist_entry: 1,
        }
    }

    pub fn partition(&self) -> u16 {
        self.partition
    }

    pub fn performance(&self, id: PerformanceId) -> Option<&PerformanceState> {
        self.performances.get(&id)
    }

    pub fn performances(&self) -> impl Iterator<Item = &PerformanceState> {
        self.performances.values()
    }

    /// The recorded outcome of `(actor, key)`, if the ledger still remembers it.
    pub fn recorded(&self, actor: ActorId, key: &IdempotencyKey) -> Option<&Outcome> {
        self.keys.get(&actor)?.get(key)
    }

    pub fn remembered_keys(&self) -> usize {
        self.keys_remembered
    }

    /// A stable digest of the whole state: equal digests mean equal states.
    pub fn digest(&self) -> u64 {
        let mut hasher = Fnv64::default();
        self.hash(&mut hasher);
        hasher.finish()
    }

    /// Runs one request at `now_ms`: first expires the holds due by then, then answers a repeated
    /// key with its recorded outcome, or decides and applies the command.
    pub fn execute(&mut self, now_ms: u64, request: &Request) -> Step {
        let mut events = self.tick(now_ms);
        if let Some(outcome) = self.recorded(request.actor, &request.key) {
            return Step {
                outcome: outcome.clone(),
                events,
                duplicate: true,
            };
        }
        let (outcome, decided) = match self.decide(now_ms, request.actor, &request.command) {
            Ok((reply, decided)) => (Ok(reply), decided),
            Err(rejection) => (Err(rejection), Vec::new()),
        };
        let recorded = Event::CommandRecorded {
            actor: request.actor,
            key: request.key.clone(),
            at_ms: now_ms,
            outcome: outcome.clone(),
        };
        let performance = request.command.performance();
        for event in &decided {
            self.apply(event);
        }
        // What the command freed or changed may serve the waitlist: decided on the state the
        // command left, then applied, like every other event.
        let follow_up = if decided.is_empty() {
            Vec::new()
        } else {
            self.waitlist_follow_up(now_ms, performance, &decided)
        };
        for event in follow_up.iter().chain([&recorded]) {
            self.apply(event);
        }
        events.extend(decided);
        events.extend(follow_up);
        events.push(recorded);
        Step {
            outcome,
            events,
            duplicate: false,
        }
    }

    /// Applies what time alone decides at `now_ms`: holds at or past their deadline expire (an
    /// expired offer ends its waitlist entry, and the places freed go to the next entries or
    /// the reserve), and long-retained idempotency keys are forgotten. Returns the applied
    /// events.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Event> {
        let mut events: Vec<Event> = self
            .hold_deadlines
            .iter()
            .take_while(|(deadline_ms, _, _)| *deadline_ms <= now_ms)
            .map(|(_, performance, hold)| Event::HoldExpired {
                performance: *performance,
                hold: *hold,
                places: self.performances[performance].holds[hold].places.clone(),
            })
            .collect();
        if let Some((oldest_ms, _, _)) = self.key_times.first() {
            let forget_at_ms = oldest_ms + IDEMPOTENCY_RETENTION_MS + IDEMPOTENCY_FORGET_BATCH_MS;
            if forget_at_ms <= now_ms {
                events.push(Event::KeysForgotten {
                    recorded_before_ms: now_ms - IDEMPOTENCY_RETENTION_MS,
                });
            }
        }
        for event in &events {
            self.apply(event);
        }
        // Expired holds free places, and an expired offer ends its entry: each performance's
        // waitlist follows up on its own expiries.
        let expired: BTreeSet<PerformanceId> =
            events.iter().filter_map(|e| e.performance()).collect();
        for performance in expired {
            let own: Vec<Event> = events
                .iter()
                .filter(|e| e.performance() == Some(performance))
                .cloned()
                .collect();
            for event in self.waitlist_follow_up(now_ms, performance, &own) {
                self.apply(&event);
                events.push(event);
            }
        }
        events
    }

    /// The waitlist's events after `events` (already applied) changed `performance`: offers
    /// whose holds ended end their entries; places freed by the events, with those reserved,
    /// are offered to waiting entries in join order; leftovers are reserved while entries wait
    /// (unless the spec sends them back to sale), and reserved places go back on sale once
    /// none waits. Read-only, like `decide`.
    fn waitlist_follow_up(
        &self,
        now_ms: u64,
        performance: PerformanceId,
        events: &[Event],
    ) -> Vec<Event> {
        let Some(state) = self.performances.get(&performance) else {
            return Vec::new();
        };
        let waitlist = &state.waitlist;
        if waitlist.entries.is_empty()
            && waitlist.reserved_seats.is_empty()
            && waitlist.reserved_zones.is_empty()
        {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut freed: Vec<Place> = Vec::new();
        // A new entry, or a buyer with room again (a ticket given away), may take what the
        // reserve holds though nothing was freed.
        let mut recheck = false;
        let offer_ended = |hold: &HoldId, reason: WaitlistEndReason, out: &mut Vec<Event>| {
            if let Some(entry) = waitlist.offers.get(hold) {
                out.push(Event::WaitlistEntryEnded {
                    performance,
                    entry: *entry,
                    reason,
                });
            }
        };
        for event in events {
            match event {
                Event::HoldExpired { hold, places, .. } => {
                    offer_ended(hold, WaitlistEndReason::Lapsed, &mut out);
                    freed.extend(places);
                }
                Event::HoldReleased { hold, places, .. } => {
                    let reason = if state.cancelled {
                        WaitlistEndReason::CalledOff
                    } else {
                        WaitlistEndReason::Declined
                    };
                    offer_ended(hold, reason, &mut out);
                    freed.extend(places);
                }
                Event::BookingConfirmed { hold, .. } => {
                    offer_ended(hold, WaitlistEndReason::Booked, &mut out);
                }
                Event::TicketsCancelled { places, .. } => freed.extend(places),
                Event::WaitlistJoined { .. } | Event::TicketTransferred { .. } => recheck = true,
                _ => {}
            }
        }
        let spec = &state.spec;
        let matching =
            !state.cancelled && now_ms < spec.starts_at_ms && (recheck || !freed.is_empty());
        let mut pool = Pool::default();
        for place in waitlist.reserved_places() {
            pool.add(spec, place);
        }
        if matching {
            // Freed places still free (a later event of the step could have taken one).
            let mut zone_room: BTreeMap<ZoneId, u32> = BTreeMap::new();
            for place in freed {
                match place {
                    Place::Seat(seat) if state.seats[seat.0 as usize] == SeatState::Free => {
                        pool.add(spec, place)
                    }
                    Place::Seat(_) => {}
                    Place::Zone(zone) => {
                        let room = zone_room
                            .entry(zone)
                            .or_insert_with(|| state.zone_free(zone));
                        if *room > 0 {
                            *room -= 1;
                            pool.add(spec, place);
                        }
                    }
                }
            }
        }
        let mut waiting_left = waitlist.waiting().count();
        // The reserve as the offers leave it: an offer takes reserved places first (zone places
        // are counted, so which ones is the offer's to say: `from_reserve`).
        let mut seats_left = waitlist.reserved_seats.clone();
        let mut zones_left = waitlist.reserved_zones.clone();
        if matching && !pool.is_empty() {
            // Places the pass has offered per buyer, for the per-buyer limit.
            let mut offered_to: BTreeMap<ActorId, u16> = BTreeMap::new();
            // The pool only shrinks during a pass: an ask it could not meet stays unmet.
            let mut unmet: BTreeSet<(Option<GradeId>, u16, bool)> = BTreeSet::new();
            let mut next_hold = self.next_hold;
            for (entry, waiting) in waitlist.waiting() {
                if pool.is_empty() {
                    break;
                }
                let ask = (waiting.grade, waiting.quantity, waiting.together);
                let already = state.buyer_places(waiting.buyer)
                    + offered_to.get(&waiting.buyer).copied().unwrap_or(0);
                if usize::from(already) + usize::from(waiting.quantity)
                    > usize::from(spec.per_buyer_limit)
                    || unmet.contains(&ask)
                {
                    continue;
                }
                let Some(places) = pool.take(spec, ask.0, ask.1, ask.2) else {
                    unmet.insert(ask);
                    continue;
                };
                let hold = self.id(next_hold, HoldId);
                next_hold += 1;
                *offered_to.entry(waiting.buyer).or_default() += waiting.quantity;
                let from_reserve: Vec<Place> = places
                    .iter()
                    .copied()
                    .filter(|place| match place {
                        Place::Seat(seat) => seats_left.remove(seat),
                        Place::Zone(zone) => match zones_left.get_mut(zone) {
                            Some(left) if *left > 0 => {
                                *left -= 1;
                                true
                            }
                            _ => false,
                        },
                    })
                    .collect();
                waiting_left -= 1;
                let offered = Offered {
                    entry: *entry,
                    hold,
                    places,
                    from_reserve,
                };
                out.extend(state.offer(now_ms, waiting, offered));
            }
        }
        // What stays reserved after the offers: the reserve less what the offers took.
        let reserved_after: Vec<Place> = {
            let seats = seats_left.iter().map(|s| Place::Seat(*s));
            let zones = zones_left
                .iter()
                .flat_map(|(zone, count)| std::iter::repeat_n(Place::Zone(*zone), *count as usize));
            seats.chain(zones).collect()
        };
        let keep = waiting_left > 0 && !spec.waitlist.freed_to_sale && !state.cancelled;
        if keep {
            let mut to_reserve = pool.places();
            for place in &reserved_after {
                let index = to_reserve
                    .iter()
                    .position(|p| p == place)
                    .expect("the reserve left is in the pool");
                to_reserve.remove(index);
            }
            if !to_reserve.is_empty() {
                out.push(Event::WaitlistReserved {
                    performance,
                    places: to_reserve,
                });
            }
        } else if !reserved_after.is_empty() {
            out.push(Event::WaitlistUnreserved {
                performance,
                places: reserved_after,
            });
        }
        out
    }

    fn decide(
        &self,
        now_ms: u64,
        actor: ActorId,
        command: &Command,
    ) -> Result<(Reply, Vec<Event>), Rejection> {
        if let Command::OpenPerformance(spec) = command {
            return self.decide_open(spec);
        }
        let performance = self
            .performances
            .get(&command.performance())
            .ok_or(Rejection::UnknownPerformance)?;
        match command {
            Command::OpenPerformance(_) => unreachable!("handled above"),
            Command::Hold {
                selection,
                admission,
                offer,
                ..
            } => {
                let hold = self.id(self.next_hold, HoldId);
                let asked = HoldAsk {
                    selection,
                    admission: *admission,
                    offer: offer.as_ref(),
                };
                performance.decide_hold(now_ms, actor, asked, hold)
            }
            Command::Release { hold, .. } => performance.decide_release(actor, *hold),
            Command::Confirm {
                hold,
                payment_ref,
                amount_won,
                ..
            } => {
                let booking = self.id(self.next_booking, BookingId);
                let first_ticket = self.id(self.next_ticket, TicketId);
                performance.decide_confirm(
                    now_ms,
                    actor,
                    *hold,
                    payment_ref,
                    *amount_won,
                    (booking, first_ticket),
                )
            }
            Command::Cancel {
                booking, tickets, ..
            } => {
                let refund = self.id(self.next_refund, RefundId);
                performance.decide_cancel(now_ms, actor, *booking, tickets, refund)
            }
            Command::CheckIn { ticket, .. } => performance.decide_check_in(now_ms, *ticket),
            Command::Scan {
                ticket,
                generation,
                gate,
                direction,
                ..
            } => {
                if performance.ticket(*ticket).is_none() && self.issued_elsewhere(*ticket) {
                    return Err(Rejection::WrongPerformance);
                }
                performance.decide_scan(now_ms, *ticket, *generation, *gate, *direction)
            }
            Command::UploadScans { scans, .. } => performance.decide_upload(now_ms, scans),
            Command::TransferTicket { ticket, to, .. } => {
                performance.decide_transfer(now_ms, actor, *ticket, *to)
            }
            Command::RebindDevice { ticket, .. } => performance.decide_rebind(actor, *ticket),
            Command::CancelPerformance { reason, .. } => {
                let first_refund = self.id(self.next_refund, RefundId);
                performance.decide_cancel_performance(now_ms, reason, first_refund)
            }
            Command::RecordRefund {
                booking,
                refund,
                provider_transaction,
                amount_won,
                ..
            } => performance.decide_record_refund(
                now_ms,
                *booking,
                *refund,
                provider_transaction,
                *amount_won,
            ),
            Command::JoinWaitlist {
                grade,
                quantity,
                together,
                mode,
                ..
            } => {
                let entry = self.id(self.next_waitlist_entry, WaitlistEntryId);
                let asked = WaitlistAsk {
                    grade: *grade,
                    quantity: *quantity,
                    together: *together,
                    mode,
                };
                performance.decide_join(now_ms, actor, asked, entry)
            }
            Command::LeaveWaitlist { entry, .. } => performance.decide_leave(actor, *entry),
            Command::DeclineOffer { entry, .. } => performance.decide_decline(actor, *entry),
            Command::ChargeFailed { entry, reason, .. } => {
                performance.decide_charge_failed(*entry, reason)
            }
        }
    }

    fn decide_open(&self, spec: &PerformanceSpec) -> Result<(Reply, Vec<Event>), Rejection> {
        validate_spec(spec)?;
        if self.performances.contains_key(&spec.performance) {
            return Err(Rejection::PerformanceAlreadyOpen);
        }
        if self.performances.len() >= PERFORMANCES_PER_PARTITION_MAX {
            return Err(Rejection::PartitionFull);
        }
        let reply = Reply::PerformanceOpened {
            performance: spec.performance,
            seats: spec.seats.len() as u32,
            standing_capacity: spec.zones.iter().map(|z| z.capacity).sum(),
        };
        Ok((
            reply,
            vec![Event::PerformanceOpened(Box::new(spec.clone()))],
        ))
    }

    /// Whether another performance of this partition issued the ticket (a scan at the wrong
    /// show). Walks the performances: at most [`PERFORMANCES_PER_PARTITION_MAX`] lookups, and
    /// only for a ticket this performance does not know.
    fn issued_elsewhere(&self, ticket: TicketId) -> bool {
        self.performances
            .values()
            .any(|state| state.tickets.contains_key(&ticket))
    }

    fn id<T>(&self, counter: u64, make: fn(u64) -> T) -> T {
        make((u64::from(self.partition) << ID_PARTITION_SHIFT) | counter)
    }

    /// The only function that changes the ledger. Replaying a journal calls it for every event.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PerformanceOpened(spec) => {
                let state = PerformanceState::open(spec.as_ref().clone());
                self.performances.insert(spec.performance, state);
            }
            Event::CommandRecorded {
                actor,
                key,
                at_ms,
                outcome,
            } => {
                let by_actor = self.keys.entry(*actor).or_default();
                if by_actor.insert(key.clone(), outcome.clone()).is_none() {
                    self.keys_remembered += 1;
                }
                self.key_times.insert((*at_ms, *actor, key.clone()));
            }
            Event::KeysForgotten { recorded_before_ms } => {
                while let Some((at_ms, _, _)) = self.key_times.first() {
                    if *at_ms >= *recorded_before_ms {
                        break;
                    }
                    if let Some((_, actor, key)) = self.key_times.pop_first() {
                        self.forget_key(actor, &key);
                    }
                }
            }
            Event::PlacesHeld {
                performance,
                hold,
                expires_at_ms,
                ..
            } => {
                self.next_hold = self.next_hold.max((hold.0 & ID_COUNTER_MASK) + 1);
                self.hold_deadlines
                    .insert((*expires_at_ms, *performance, *hold));
                self.apply_to_performance(*performance, event);
            }
            Event::HoldReleased {
                performance, hold, ..
            }
            | Event::HoldExpired {
                performance, hold, ..
            } => {
                self.forget_deadline(*performance, *hold);
                self.apply_to_performance(*performance, event);
            }
            Event::BookingConfirmed {
                performance,
                hold,
                booking,
                first_ticket,
                ..
            } => {
                self.forget_deadline(*performance, *hold);
                let places = self.performances[performance].holds[hold].places.len() as u64;
                self.next_booking = self.next_booking.max((booking.0 & ID_COUNTER_MASK) + 1);
                self.next_ticket = self
                    .next_ticket
                    .max((first_ticket.0 & ID_COUNTER_MASK) + places);
                self.apply_to_performance(*performance, event);
            }
            Event::RefundOwed {
                performance,
                refund,
                ..
            } => {
                self.next_refund = self.next_refund.max((refund.0 & ID_COUNTER_MASK) + 1);
                self.apply_to_performance(*performance, event);
            }
            Event::WaitlistJoined {
                performance, entry, ..
            } => {
                self.next_waitlist_entry = self
                    .next_waitlist_entry
                    .max((entry.0 & ID_COUNTER_MASK) + 1);
                self.apply_to_performance(*performance, event);
            }
            Event::TicketsCancelled { performance, .. }
            | Event::WaitlistOffered { performance, .. }
            | Event::WaitlistEntryEnded { performance, .. }
            | Event::WaitlistReserved { performance, .. }
            | Event::WaitlistUnreserved { performance, .. }
            | Event::TicketCheckedIn { performance, .. }
            | Event::TicketScanned { performance, .. }
            | Event::ScansUploaded { performance, .. }
            | Event::TicketTransferred { performance, .. }
            | Event::TicketRebound { performance, .. }
            | Event::RefundPaid { performance, .. }
            | Event::PerformanceCancelled { performance, .. } => {
                self.apply_to_performance(*performance, event);
            }
        }
    }

    fn forget_key(&mut self, actor: ActorId, key: &IdempotencyKey) {
        if let Some(by_actor) = self.keys.get_mut(&actor) {
            if by_actor.remove(key).is_some() {
                self.keys_remembered -= 1;
            }
            if by_actor.is_empty() {
                self.keys.remove(&actor);
            }
        }
    }

    fn forget_deadline(&mut self, performance: PerformanceId, hold: HoldId) {
        if let Some(state) = self.performances.get(&performance)
            && let Some(active) = state.holds.get(&hold)
        {
            self.hold_deadlines
                .remove(&(active.expires_at_ms, performance, hold));
        }
    }

    fn apply_to_performance(&mut self, performance: PerformanceId, event: &Event) {
        // Events come from `decide` or from a journal `decide` wrote, so the performance exists;
        // a journal that says otherwise is corrupt, and replaying it must stop loudly.
        let state = self
            .performances
            .get_mut(&performance)
            .expect("journal event for a performance that was never opened");
        state.apply(event);
    }
}

fn validate_spec(spec: &PerformanceSpec) -> Result<(), Invalid> {
    let label_ok = |s: &str| !s.is_empty() && s.len() <= LABEL_LEN_MAX;
    if spec.grades.is_empty() || spec.grades.len() > GRADES_PER_PERFORMANCE_MAX {
        return Err(Invalid::TooManyGrades);
    }
    if spec.seats.len() > SEATS_PER_PERFORMANCE_MAX {
        return Err(Invalid::TooManySeats);
    }
    if spec.zones.len() > ZONES_PER_PERFORMANCE_MAX {
        return Err(Invalid::TooManyZones);
    }
    if spec.seats.is_empty() && spec.zones.is_empty() {
        return Err(Invalid::NoInventory);
    }
    for grade in &spec.grades {
        if !label_ok(&grade.code) {
            return Err(Invalid::Label);
        }
        if grade.price_won > TICKET_PRICE_WON_MAX {
            return Err(Invalid::Price);
        }
    }
    let grade_ok = |g: GradeId| usize::from(g.0) < spec.grades.len();
    let mut seen = BTreeSet::new();
    for seat in &spec.seats {
        if !label_ok(&seat.section) || !label_ok(&seat.row) || !grade_ok(seat.grade) {
            return Err(Invalid::Label);
        }
        if !seen.insert((&seat.section, &seat.row, seat.number)) {
            return Err(Invalid::DuplicateSeat);
        }
    }
    for zone in &spec.zones {
        if !label_ok(&zone.name) || !grade_ok(zone.grade) {
            return Err(Invalid::Label);
        }
        if zone.capacity == 0 || zone.capacity > ZONE_CAPACITY_MAX {
            return Err(Invalid::ZoneCapacity);
        }
    }
    if spec.per_buyer_limit == 0 || spec.per_buyer_limit > PER_BUYER_LIMIT_MAX {
        return Err(Invalid::PerBuyerLimit);
    }
    if !(HOLD_TTL_MS_MIN..=HOLD_TTL_MS_MAX).contains(&spec.hold_ttl_ms) {
        return Err(Invalid::HoldTtl);
    }
    if !spec.fees.is_valid() {
        return Err(Invalid::FeeSchedule);
    }
    if spec.booking_fee_won > BOOKING_FEE_WON_MAX {
        return Err(Invalid::BookingFee);
    }
    validate_door(spec)?;
    let waitlist = &spec.waitlist;
    if !(WAITLIST_CLAIM_WINDOW_MS_MIN..=WAITLIST_CLAIM_WINDOW_MS_MAX)
        .contains(&waitlist.claim_window_ms)
        || !(WAITLIST_CHARGE_WINDOW_MS_MIN..=WAITLIST_CHARGE_WINDOW_MS_MAX)
            .contains(&waitlist.charge_window_ms)
    {
        return Err(Invalid::WaitlistWindow);
    }
    offers::validate(&spec.discounts, &spec.coupons, spec.grades.len())
}

fn validate_door(spec: &PerformanceSpec) -> Result<(), Invalid> {
    let gates = &spec.door.gates;
    if gates.len() > GATES_PER_PERFORMANCE_MAX {
        return Err(Invalid::Gates);
    }
    for (index, gate) in gates.iter().enumerate() {
        let label_ok = !gate.label.is_empty() && gate.label.len() <= LABEL_LEN_MAX;
        // At most GATES_PER_PERFORMANCE_MAX gates, so this scan is tiny.
        if !label_ok || gates[..index].iter().any(|g| g.id == gate.id) {
            return Err(Invalid::Gates);
        }
    }
    if spec
        .door
        .transfer_until_ms
        .is_some_and(|until| until > spec.starts_at_ms)
    {
        return Err(Invalid::TransferDeadline);
    }
    Ok(())
}

/// One offer a matching pass makes: to which entry, under which hold, which places, and which
/// of them leave the reserve.
struct Offered {
    entry: WaitlistEntryId,
    hold: HoldId,
    places: Vec<Place>,
    from_reserve: Vec<Place>,
}

/// What a waitlist join asks for, beyond who and when.
struct WaitlistAsk<'a> {
    grade: Option<GradeId>,
    quantity: u16,
    together: bool,
    mode: &'a WaitlistMode,
}

/// What a hold command asks for, beyond who and when.
struct HoldAsk<'a> {
    selection: &'a Selection,
    admission: Option<AdmissionId>,
    offer: Option<&'a OfferChoice>,
}

impl CouponUses for PerformanceState {
    fn uses(&self, coupon: CouponId) -> u32 {
        self.coupon_uses.get(&coupon).map_or(0, |used| used.uses)
    }

    fn buyer_uses(&self, coupon: CouponId, buyer: ActorId) -> u16 {
        self.coupon_uses
            .get(&coupon)
            .and_then(|used| used.buyers.get(&buyer))
            .copied()
            .unwrap_or(0)
    }
}

type Decided = Result<(Reply, Vec<Event>), Rejection>;

impl PerformanceState {
    fn open(spec: PerformanceSpec) -> Self {
        let mut grade_seats = vec![Vec::new(); spec.grades.len()];
        let mut grade_free = vec![BTreeSet::new(); spec.grades.len()];
        let mut seat_grade_index = Vec::with_capacity(spec.seats.len());
        for (index, seat) in spec.seats.iter().enumerate() {
            let grade = usize::from(seat.grade.0);
            let list = &mut grade_seats[grade];
            let position = list.len() as u32;
            seat_grade_index.push(position);
            list.push(SeatId(index as u32));
            if !seat.blocked {
                grade_free[grade].insert(position);
            }
        }
        PerformanceState {
            seats: spec
                .seats
                .iter()
                .map(|seat| {
                    if seat.blocked {
                        SeatState::Blocked
                    } else {
                        SeatState::Free
                    }
                })
                .collect(),
            grade_free,
            grade_seats,
            seat_grade_index,
            zones: vec![ZoneCount::default(); spec.zones.len()],
            holds: BTreeMap::new(),
            bookings: BTreeMap::new(),
            tickets: BTreeMap::new(),
            buyer_places: BTreeMap::new(),
            admissions: BTreeMap::new(),
            coupon_uses: BTreeMap::new(),
            refunds: BTreeMap::new(),
            cancelled: false,
            money: Money::default(),
            door: DoorBook::new(spec.door.reentry),
            waitlist: Waitlist::default(),
            spec,
        }
    }

    pub fn spec(&self) -> &PerformanceSpec {
        &self.spec
    }

    pub fn seat(&self, seat: SeatId) -> Option<SeatState> {
        self.seats.get(seat.0 as usize).copied()
    }

    pub fn seats(&self) -> &[SeatState] {
        &self.seats
    }

    pub fn zone(&self, zone: ZoneId) -> Option<ZoneCount> {
        self.zones.get(usize::from(zone.0)).copied()
    }

    pub fn hold(&self, hold: HoldId) -> Option<&Hold> {
        self.holds.get(&hold)
    }

    pub fn holds(&self) -> impl Iterator<Item = (&HoldId, &Hold)> {
        self.holds.iter()
    }

    pub fn booking(&self, booking: BookingId) -> Option<&Booking> {
        self.bookings.get(&booking)
    }

    pub fn ticket(&self, ticket: TicketId) -> Option<&Ticket> {
        self.tickets.get(&ticket)
    }

    pub fn tickets(&self) -> impl Iterator<Item = (&TicketId, &Ticket)> {
        self.tickets.iter()
    }

    /// The tickets with an id above `after` (every ticket without one), by ascending id.
    pub fn tickets_after(
        &self,
        after: Option<TicketId>,
    ) -> impl Iterator<Item = (&TicketId, &Ticket)> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.tickets.range((from, Bound::Unbounded))
    }

    pub fn money(&self) -> Money {
        self.money
    }

    pub fn refund(&self, refund: RefundId) -> Option<&Refund> {
        self.refunds.get(&refund)
    }

    /// Every refund owed by cancellations of this performance, paid or not.
    pub fn refunds(&self) -> impl Iterator<Item = (&RefundId, &Refund)> {
        self.refunds.iter()
    }

    pub fn bookings(&self) -> impl Iterator<Item = (&BookingId, &Booking)> {
        self.bookings.iter()
    }

    /// Every scan at the door of this performance.
    pub fn door(&self) -> &DoorBook {
        &self.door
    }

    /// Whether the seller called the performance off.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    pub fn admission(&self, admission: AdmissionId) -> Option<AdmissionUse> {
        self.admissions.get(&admission).copied()
    }

    /// The live seat map: which seats and how many standing places are on sale. A performance
    /// called off has none on sale, though the call-off frees its seats.
    pub fn availability(&self) -> Availability {
        let on_sale = !self.cancelled;
        Availability {
            performance: self.spec.performance,
            seat_free: self
                .seats
                .iter()
                .map(|s| on_sale && *s == SeatState::Free)
                .collect(),
            zone_free: self
                .zones
                .iter()
                .enumerate()
                .map(|(zone, _)| {
                    if on_sale {
                        self.zone_free(ZoneId(zone as u16))
                    } else {
                        0
                    }
                })
                .collect(),
            cancelled: self.cancelled,
        }
    }

    /// Places on sale, seats and standing together: zero means sold out (until a hold lapses or
    /// a ticket is cancelled).
    pub fn places_free(&self) -> u64 {
        let seats: u64 = self.grade_free.iter().map(|free| free.len() as u64).sum();
        let standing: u64 = (0..self.zones.len())
            .map(|zone| u64::from(self.zone_free(ZoneId(zone as u16))))
            .sum();
        seats + standing
    }

    /// Standing places of a zone on sale: neither held, sold nor reserved for the waitlist.
    pub fn zone_free(&self, zone: ZoneId) -> u32 {
        let used = self.zones[usize::from(zone.0)];
        self.spec.zones[usize::from(zone.0)].capacity
            - used.held
            - used.sold
            - self.waitlist.reserved_in_zone(zone)
    }

    /// The cancellation waitlist: entries, open offers, reserved places, counters.
    pub fn waitlist(&self) -> &Waitlist {
        &self.waitlist
    }

    /// Free seats of a grade (reserved seats only; zones are counted by [`Self::zone`]).
    pub fn free_seats(&self, grade: GradeId) -> u32 {
        self.grade_free
            .get(usize::from(grade.0))
            .map_or(0, |free| free.len() as u32)
    }

    /// Places the buyer holds or owns now.
    pub fn buyer_places(&self, buyer: ActorId) -> u16 {
        self.buyer_places.get(&buyer).copied().unwrap_or(0)
    }

    /// The grade of a place.
    pub fn grade(&self, place: Place) -> GradeId {
        match place {
            Place::Seat(seat) => self.spec.seats[seat.0 as usize].grade,
            Place::Zone(zone) => self.spec.zones[usize::from(zone.0)].grade,
        }
    }

    /// The grade price of a place (before any offer).
    pub fn price_won(&self, place: Place) -> Won {
        self.spec.grades[usize::from(self.grade(place).0)].price_won
    }

    /// Coupon uses so far (active and paid holds).
    pub fn coupon_uses(&self, coupon: CouponId) -> u32 {
        self.uses(coupon)
    }

    fn decide_hold(&self, now_ms: u64, buyer: ActorId, asked: HoldAsk, hold: HoldId) -> Decided {
        let HoldAsk {
            selection,
            admission,
            offer,
        } = asked;
        if offer
            .is_some_and(|o| matches!(o, OfferChoice::Coupon(code) if code.len() > LABEL_LEN_MAX))
        {
            return Err(Invalid::CouponCode.into());
        }
        if self.cancelled {
            return Err(Rejection::PerformanceCancelled);
        }
        if now_ms >= self.spec.starts_at_ms {
            return Err(Rejection::SalesClosed);
        }
        if let Some(used) = admission.and_then(|a| self.admissions.get(&a)) {
            if used.buyer != buyer {
                return Err(Rejection::AdmissionNotYours);
            }
            if used.spent {
                return Err(Rejection::AdmissionSpent);
            }
        }
        let count = match selection {
            Selection::Seats(seats) => seats.len(),
            Selection::BestAvailable { count, .. } | Selection::Zone { count, .. } => {
                usize::from(*count)
            }
        };
        if count == 0 {
            return Err(Invalid::EmptySelection.into());
        }
        if count > usize::from(PER_BUYER_LIMIT_MAX) {
            return Err(Invalid::TooManyPlaces.into());
        }
        let already = self.buyer_places(buyer);
        if usize::from(already) + count > usize::from(self.spec.per_buyer_limit) {
            return Err(Rejection::OverBuyerLimit {
                limit: self.spec.per_buyer_limit,
                already,
            });
        }
        let places = match selection {
            Selection::Seats(seats) => self.pick_seats(seats)?,
            Selection::BestAvailable { grade, count } => self.pick_best(*grade, *count)?,
            Selection::Zone { zone, count } => self.pick_zone(*zone, *count)?,
        };
        let list_won: Won = places.iter().map(|p| self.price_won(*p)).sum();
        // Without an offer the grade prices apply and the journal need not repeat them: the
        // common path allocates nothing for pricing.
        let priced = match offer {
            None => Priced::default(),
            Some(offer) => {
                let listed: Vec<(GradeId, Won)> = places
                    .iter()
                    .map(|p| (self.grade(*p), self.price_won(*p)))
                    .collect();
                offers::price(
                    &self.spec.discounts,
                    &self.spec.coupons,
                    now_ms,
                    buyer,
                    &listed,
                    offer,
                    self,
                )?
            }
        };
        let tickets_won: Won = match priced.offer {
            Some(_) => priced.prices_won.iter().sum(),
            None => list_won,
        };
        let booking_fee_won = self.spec.booking_fee_won;
        let booking_fees_won = booking_fee_won * places.len() as Won;
        let amount_won = tickets_won + booking_fees_won;
        let expires_at_ms = now_ms + self.spec.hold_ttl_ms;
        let reply = Reply::Held {
            hold,
            places: places.clone(),
            amount_won,
            expires_at_ms,
            discount_won: list_won - tickets_won,
            booking_fee_won: booking_fees_won,
        };
        let event = Event::PlacesHeld {
            performance: self.spec.performance,
            hold,
            buyer,
            places,
            amount_won,
            expires_at_ms,
            admission,
            prices_won: priced.prices_won,
            reduced: priced.reduced,
            offer: priced.offer,
            booking_fee_won,
        };
        Ok((reply, vec![event]))
    }

    fn pick_seats(&self, seats: &[SeatId]) -> Result<Vec<Place>, Rejection> {
        for (index, seat) in seats.iter().enumerate() {
            match self.seat(*seat) {
                None => return Err(Rejection::UnknownSeat { seat: *seat }),
                Some(SeatState::Free) => {}
                Some(_) => return Err(Rejection::SeatTaken { seat: *seat }),
            }
            // Selections are at most PER_BUYER_LIMIT_MAX long, so this scan is tiny.
            if seats[..index].contains(seat) {
                return Err(Invalid::DuplicateSeat.into());
            }
        }
        Ok(seats.iter().map(|s| Place::Seat(*s)).collect())
    }

    /// The first run of `count` side-by-side free seats in the grade's best-first order, or, when
    /// no row has room, the best `count` free seats wherever they are.
    fn pick_best(&self, grade: GradeId, count: u16) -> Result<Vec<Place>, Rejection> {
        let list = self
            .grade_seats
            .get(usize::from(grade.0))
            .ok_or(Rejection::UnknownGrade { grade })?;
        let free = &self.grade_free[usize::from(grade.0)];
        let available = free.len() as u32;
        if available < u32::from(count) {
            return Err(Rejection::NotEnoughAvailable { available });
        }
        let count = usize::from(count);
        let mut run: Vec<SeatId> = Vec::with_capacity(count);
        for position in free {
            let seat = list[*position as usize];
            if let Some(last) = run.last()
                && !self.side_by_side(*last, seat)
            {
                run.clear();
            }
            run.push(seat);
            if run.len() == count {
                return Ok(run.into_iter().map(Place::Seat).collect());
            }
        }
        let scattered = free
            .iter()
            .take(count)
            .map(|p| Place::Seat(list[*p as usize]));
        Ok(scattered.collect())
    }

    fn side_by_side(&self, left: SeatId, right: SeatId) -> bool {
        let (a, b) = (
            &self.spec.seats[left.0 as usize],
            &self.spec.seats[right.0 as usize],
        );
        a.section == b.section && a.row == b.row && a.number + 1 == b.number
    }

    fn pick_zone(&self, zone: ZoneId, count: u16) -> Result<Vec<Place>, Rejection> {
        if usize::from(zone.0) >= self.spec.zones.len() {
            return Err(Rejection::UnknownZone { zone });
        }
        let available = self.zone_free(zone);
        if available < u32::from(count) {
            return Err(Rejection::NotEnoughAvailable { available });
        }
        Ok(vec![Place::Zone(zone); usize::from(count)])
    }

    fn active_hold(&self, buyer: ActorId, hold: HoldId) -> Result<&Hold, Rejection> {
        let found = self.holds.get(&hold).ok_or(Rejection::UnknownHold)?;
        if found.buyer != buyer {
            return Err(Rejection::NotYourHold);
        }
        match found.status {
            HoldStatus::Active => Ok(found),
            HoldStatus::Expired => Err(Rejection::HoldExpired),
            HoldStatus::Released | HoldStatus::Confirmed(_) => Err(Rejection::UnknownHold),
        }
    }

    fn decide_release(&self, buyer: ActorId, hold: HoldId) -> Decided {
        let found = self.active_hold(buyer, hold)?;
        let event = Event::HoldReleased {
            performance: self.spec.performance,
            hold,
            places: found.places.clone(),
        };
        Ok((Reply::Released { hold }, vec![event]))
    }

    fn decide_confirm(
        &self,
        now_ms: u64,
        buyer: ActorId,
        hold: HoldId,
        payment_ref: &str,
        amount_won: Won,
        (booking, first_ticket): (BookingId, TicketId),
    ) -> Decided {
        if payment_ref.is_empty() || payment_ref.len() > PAYMENT_REF_LEN_MAX {
            return Err(Invalid::PaymentRef.into());
        }
        if self.cancelled {
            return Err(Rejection::PerformanceCancelled);
        }
        let active = self.active_hold(buyer, hold)?;
        // `tick` expires every hold due by `now_ms` before any command is decided, so an active
        // hold here is always before its deadline (invariant 5).
        debug_assert!(active.expires_at_ms > now_ms);
        if amount_won != active.amount_won {
            return Err(Rejection::WrongAmount {
                expected_won: active.amount_won,
            });
        }
        let tickets = (0..active.places.len() as u64)
            .map(|i| TicketId(first_ticket.0 + i))
            .collect();
        let reply = Reply::Confirmed {
            booking,
            tickets,
            amount_won,
        };
        let event = Event::BookingConfirmed {
            performance: self.spec.performance,
            hold,
            booking,
            first_ticket,
            payment_ref: payment_ref.to_owned(),
            paid_won: amount_won,
            booked_at_ms: now_ms,
            booking_fee_won: active.booking_fees_won(),
        };
        Ok((reply, vec![event]))
    }

    fn decide_cancel(
        &self,
        now_ms: u64,
        buyer: ActorId,
        booking: BookingId,
        asked: &[TicketId],
        refund: RefundId,
    ) -> Decided {
        let found = self
            .bookings
            .get(&booking)
            .ok_or(Rejection::UnknownBooking)?;
        if found.buyer != buyer {
            return Err(Rejection::NotYourBooking);
        }
        let tickets = self.tickets_to_cancel(found, asked)?;
        let mut refund_won = 0;
        let mut fee_won = 0;
        let mut booking_fee_kept_won = 0;
        let mut booking_fee_refunded_won = 0;
        let booking_day = fees::same_korean_day(found.booked_at_ms, now_ms);
        for ticket in &tickets {
            let price_won = self.tickets[ticket].price_won;
            let booking_fee_won = self.tickets[ticket].booking_fee_won;
            let fee = self
                .spec
                .fees
                .fee_won(
                    price_won,
                    found.booked_at_ms,
                    now_ms,
                    self.spec.starts_at_ms,
                )
                .ok_or(Rejection::CancellationClosed)?;
            // A seller's schedule could ask for more than the price; never refund below zero.
            let fee = fee.min(price_won);
            fee_won += fee;
            refund_won += price_won - fee;
            if booking_day {
                refund_won += booking_fee_won;
                booking_fee_refunded_won += booking_fee_won;
            } else {
                booking_fee_kept_won += booking_fee_won;
            }
        }
        let reply = Reply::Cancelled {
            booking,
            tickets: tickets.clone(),
            refund_won,
            fee_won,
            booking_fee_kept_won,
        };
        let places = tickets.iter().map(|t| self.tickets[t].place).collect();
        let event = Event::TicketsCancelled {
            performance: self.spec.performance,
            booking,
            tickets,
            refund_won,
            fee_won,
            booking_fee_refunded_won,
            places,
        };
        let mut events = vec![event];
        events.extend(self.refund_owed(booking, refund, refund_won));
        Ok((reply, events))
    }

    /// The `RefundOwed` that follows a cancellation giving money back (none for a free one).
    fn refund_owed(&self, booking: BookingId, refund: RefundId, amount_won: Won) -> Option<Event> {
        (amount_won > 0).then(|| Event::RefundOwed {
            performance: self.spec.performance,
            booking,
            refund,
            payment_ref: self.bookings[&booking].payment_ref.clone(),
            amount_won,
        })
    }

    /// Bookings with at least one valid ticket.
    fn bookings_with_valid_tickets(&self) -> impl Iterator<Item = (&BookingId, &Booking)> {
        self.bookings
            .iter()
            .filter(|(_, b)| b.tickets.iter().any(|t| !self.tickets[t].cancelled))
    }

    fn decide_cancel_performance(
        &self,
        now_ms: u64,
        reason: &str,
        first_refund: RefundId,
    ) -> Decided {
        if reason.is_empty() || reason.len() > CANCEL_REASON_LEN_MAX {
            return Err(Invalid::CancelReason.into());
        }
        let mut budget = CANCEL_PERFORMANCE_STEP_MAX;
        let active: Vec<(&HoldId, &Hold)> = self
            .holds
            .iter()
            .filter(|(_, h)| h.status == HoldStatus::Active)
            .take(budget)
            .collect();
        let valid_bookings = self.bookings_with_valid_tickets().count();
        if self.cancelled && active.is_empty() && valid_bookings == 0 {
            return Err(Rejection::PerformanceCancelled);
        }
        let mut events = Vec::new();
        if !self.cancelled {
            events.push(Event::PerformanceCancelled {
                performance: self.spec.performance,
                reason: reason.to_owned(),
                at_ms: now_ms,
            });
        }
        for (hold, found) in &active {
            events.push(Event::HoldReleased {
                performance: self.spec.performance,
                hold: **hold,
                places: found.places.clone(),
            });
        }
        budget -= active.len();
        let mut refund_won = 0;
        // Ids go to refunds owed only (a booking paid 0원 owes none), so they stay consecutive.
        let mut owed_so_far = 0;
        for (booking, found) in self.bookings_with_valid_tickets().take(budget) {
            let tickets: Vec<TicketId> = found
                .tickets
                .iter()
                .copied()
                .filter(|t| !self.tickets[t].cancelled)
                .collect();
            // Called off: everything back, booking fees included.
            let booking_fees: Won = tickets
                .iter()
                .map(|t| self.tickets[t].booking_fee_won)
                .sum();
            let refund: Won = tickets
                .iter()
                .map(|t| self.tickets[t].price_won)
                .sum::<Won>()
                + booking_fees;
            let places = tickets.iter().map(|t| self.tickets[t].place).collect();
            events.push(Event::TicketsCancelled {
                performance: self.spec.performance,
                booking: *booking,
                tickets,
                refund_won: refund,
                fee_won: 0,
                booking_fee_refunded_won: booking_fees,
                places,
            });
            let id = RefundId(first_refund.0 + owed_so_far);
            if let Some(owed) = self.refund_owed(*booking, id, refund) {
                owed_so_far += 1;
                events.push(owed);
            }
            refund_won += refund;
        }
        let bookings_cancelled = events
            .iter()
            .filter(|e| matches!(e, Event::TicketsCancelled { .. }))
            .count();
        let reply = Reply::PerformanceCancelled {
            performance: self.spec.performance,
            holds_released: active.len() as u32,
            bookings_cancelled: bookings_cancelled as u32,
            refund_won,
            bookings_left: (valid_bookings - bookings_cancelled) as u32,
        };
        Ok((reply, events))
    }

    /// A buyer joins the waitlist. Checks in this order (docs/protocol.md lists them): shape
    /// (billing reference, quantity), the spec's switch, call-off, sales closed, grade, the
    /// per-buyer ticket limit, the per-buyer entries, the waitlist's size.
    fn decide_join(
        &self,
        now_ms: u64,
        buyer: ActorId,
        asked: WaitlistAsk,
        entry: WaitlistEntryId,
    ) -> Decided {
        let WaitlistAsk {
            grade,
            quantity,
            together,
            mode,
        } = asked;
        if let WaitlistMode::AutoPay { billing_ref } = mode
            && (billing_ref.is_empty() || billing_ref.len() > BILLING_REF_LEN_MAX)
        {
            return Err(Invalid::BillingRef.into());
        }
        if quantity == 0 {
            return Err(Invalid::EmptySelection.into());
        }
        if quantity > PER_BUYER_LIMIT_MAX {
            return Err(Invalid::TooManyPlaces.into());
        }
        if !self.spec.waitlist.enabled {
            return Err(Rejection::WaitlistClosed);
        }
        if self.cancelled {
            return Err(Rejection::PerformanceCancelled);
        }
        if now_ms >= self.spec.starts_at_ms {
            return Err(Rejection::SalesClosed);
        }
        if let Some(grade) = grade
            && usize::from(grade.0) >= self.spec.grades.len()
        {
            return Err(Rejection::UnknownGrade { grade });
        }
        let already = self.buyer_places(buyer);
        if usize::from(already) + usize::from(quantity) > usize::from(self.spec.per_buyer_limit) {
            return Err(Rejection::OverBuyerLimit {
                limit: self.spec.per_buyer_limit,
                already,
            });
        }
        if self.waitlist.buyer_entries(buyer) >= usize::from(WAITLIST_ENTRIES_PER_BUYER_MAX) {
            return Err(Rejection::TooManyWaitlistEntries {
                limit: WAITLIST_ENTRIES_PER_BUYER_MAX,
            });
        }
        if self.waitlist.entries.len() >= WAITLIST_ENTRIES_MAX {
            return Err(Rejection::WaitlistFull);
        }
        let position = self.waitlist.waiting().count() as u32 + 1;
        let event = Event::WaitlistJoined {
            performance: self.spec.performance,
            entry,
            buyer,
            grade,
            quantity,
            together,
            mode: mode.clone(),
            joined_at_ms: now_ms,
        };
        Ok((Reply::WaitlistJoined { entry, position }, vec![event]))
    }

    /// A live entry of the actor's.
    fn own_entry(
        &self,
        actor: ActorId,
        entry: WaitlistEntryId,
    ) -> Result<&WaitlistEntry, Rejection> {
        let found = self
            .waitlist
            .entries
            .get(&entry)
            .ok_or(Rejection::UnknownWaitlistEntry)?;
        if found.buyer != actor {
            return Err(Rejection::NotYourWaitlistEntry);
        }
        Ok(found)
    }

    /// The events that end an entry, giving its offer's hold back first when it has one.
    fn end_entry(
        &self,
        entry: WaitlistEntryId,
        found: &WaitlistEntry,
        reason: WaitlistEndReason,
    ) -> Vec<Event> {
        let mut events = Vec::with_capacity(2);
        if let Some(hold) = found.offer {
            events.push(Event::HoldReleased {
                performance: self.spec.performance,
                hold,
                places: self.holds[&hold].places.clone(),
            });
        }
        events.push(Event::WaitlistEntryEnded {
            performance: self.spec.performance,
            entry,
            reason,
        });
        events
    }

    fn decide_leave(&self, actor: ActorId, entry: WaitlistEntryId) -> Decided {
        let found = self.own_entry(actor, entry)?;
        let reply = Reply::WaitlistLeft {
            entry,
            released: found.offer,
        };
        Ok((reply, self.end_entry(entry, found, WaitlistEndReason::Left)))
    }

    fn decide_decline(&self, actor: ActorId, entry: WaitlistEntryId) -> Decided {
        let found = self.own_entry(actor, entry)?;
        let hold = found.offer.ok_or(Rejection::NoWaitlistOffer)?;
        let events = self.end_entry(entry, found, WaitlistEndReason::Declined);
        Ok((Reply::OfferDeclined { entry, hold }, events))
    }

    fn decide_charge_failed(&self, entry: WaitlistEntryId, reason: &str) -> Decided {
        if reason.is_empty() || reason.len() > CHARGE_FAILURE_REASON_LEN_MAX {
            return Err(Invalid::ChargeFailureReason.into());
        }
        let found = self
            .waitlist
            .entries
            .get(&entry)
            .ok_or(Rejection::UnknownWaitlistEntry)?;
        if found.mode == WaitlistMode::Offer {
            return Err(Rejection::NotAutoPay);
        }
        let hold = found.offer.ok_or(Rejection::NoWaitlistOffer)?;
        let ended = WaitlistEndReason::ChargeFailed {
            reason: reason.to_owned(),
        };
        let events = self.end_entry(entry, found, ended);
        Ok((Reply::ChargeFailureRecorded { entry, hold }, events))
    }

    /// The two events that offer `places` to a waiting entry: the offer, then the hold that
    /// keeps the places for its buyer at the grade prices (plus booking fees) until the claim
    /// or charge window ends.
    fn offer(&self, now_ms: u64, waiting: &WaitlistEntry, offered: Offered) -> [Event; 2] {
        let Offered {
            entry,
            hold,
            places,
            from_reserve,
        } = offered;
        let window_ms = match waiting.mode {
            WaitlistMode::Offer => self.spec.waitlist.claim_window_ms,
            WaitlistMode::AutoPay { .. } => self.spec.waitlist.charge_window_ms,
        };
        let deadline_ms = now_ms + window_ms;
        let booking_fee_won = self.spec.booking_fee_won;
        let amount_won = places
            .iter()
            .map(|p| self.price_won(*p) + booking_fee_won)
            .sum();
        [
            Event::WaitlistOffered {
                performance: self.spec.performance,
                entry,
                hold,
                buyer: waiting.buyer,
                places: places.clone(),
                amount_won,
                deadline_ms,
                mode: waiting.mode.clone(),
                from_reserve,
            },
            Event::PlacesHeld {
                performance: self.spec.performance,
                hold,
                buyer: waiting.buyer,
                places,
                amount_won,
                expires_at_ms: deadline_ms,
                admission: None,
                prices_won: Vec::new(),
                reduced: Vec::new(),
                offer: None,
                booking_fee_won,
            },
        ]
    }

    fn decide_record_refund(
        &self,
        now_ms: u64,
        booking: BookingId,
        refund: RefundId,
        provider_transaction: &str,
        amount_won: Won,
    ) -> Decided {
        if provider_transaction.is_empty()
            || provider_transaction.len() > PROVIDER_TRANSACTION_LEN_MAX
        {
            return Err(Invalid::ProviderTransaction.into());
        }
        let owed = self
            .refunds
            .get(&refund)
            .filter(|r| r.booking == booking)
            .ok_or(Rejection::UnknownRefund)?;
        if let Some(paid) = &owed.paid {
            return Err(Rejection::RefundAlreadyRecorded {
                provider_transaction: paid.clone(),
            });
        }
        if owed.amount_won != amount_won {
            return Err(Rejection::RefundAmountMismatch {
                expected_won: owed.amount_won,
            });
        }
        let event = Event::RefundPaid {
            performance: self.spec.performance,
            booking,
            refund,
            provider_transaction: provider_transaction.to_owned(),
            amount_won,
            at_ms: now_ms,
        };
        Ok((Reply::RefundRecorded { refund }, vec![event]))
    }

    /// The tickets a cancel names, checked; all still-valid ones when it names none.
    fn tickets_to_cancel(
        &self,
        booking: &Booking,
        asked: &[TicketId],
    ) -> Result<Vec<TicketId>, Rejection> {
        // A ticket given away belongs to its new holder: the buyer cannot cancel it.
        let held = |t: &TicketId| self.tickets[t].holder == booking.buyer;
        if asked.is_empty() {
            let valid: Vec<TicketId> = booking
                .tickets
                .iter()
                .copied()
                .filter(|t| !self.tickets[t].cancelled)
                .collect();
            let mine: Vec<TicketId> = valid.iter().copied().filter(held).collect();
            return match (valid.is_empty(), mine.is_empty()) {
                (true, _) => Err(Rejection::TicketAlreadyCancelled {
                    ticket: booking.tickets[0],
                }),
                (false, true) => Err(Rejection::NotYourTicket),
                (false, false) => Ok(mine),
            };
        }
        if asked.len() > booking.tickets.len() {
            return Err(Invalid::DuplicateTicket.into());
        }
        for (index, ticket) in asked.iter().enumerate() {
            if !booking.tickets.contains(ticket) {
                return Err(Rejection::UnknownTicket { ticket: *ticket });
            }
            if asked[..index].contains(ticket) {
                return Err(Invalid::DuplicateTicket.into());
            }
            if self.tickets[ticket].cancelled {
                return Err(Rejection::TicketAlreadyCancelled { ticket: *ticket });
            }
            if !held(ticket) {
                return Err(Rejection::NotYourTicket);
            }
        }
        Ok(asked.to_vec())
    }

    /// A ticket of this performance that can be scanned: issued and not cancelled.
    fn door_ticket(&self, ticket: TicketId) -> Result<&Ticket, Rejection> {
        let found = self
            .tickets
            .get(&ticket)
            .ok_or(Rejection::UnknownTicket { ticket })?;
        if found.cancelled {
            return Err(Rejection::TicketCancelled);
        }
        Ok(found)
    }

    fn gate_known(&self, gate: GateId) -> bool {
        let gates = &self.spec.door.gates;
        gates.is_empty() || gates.iter().any(|g| g.id == gate)
    }

    /// The old `CheckIn`: an online entry at gate 0 with the replies it always had.
    fn decide_check_in(&self, now_ms: u64, ticket: TicketId) -> Decided {
        self.door_ticket(ticket)?;
        let scan = self
            .door
            .decide_entry(ticket, now_ms, GateId(0), ScanSource::Online)
            .map_err(|used| Rejection::AlreadyCheckedIn { at_ms: used.at_ms })?;
        let reply = Reply::CheckedIn {
            ticket,
            at_ms: now_ms,
        };
        Ok((reply, vec![self.scanned(ticket, scan)]))
    }

    fn scanned(&self, ticket: TicketId, scan: Scan) -> Event {
        Event::TicketScanned {
            performance: self.spec.performance,
            ticket,
            scan,
        }
    }

    /// An online scan of a verified code of `generation`, now.
    fn decide_scan(
        &self,
        now_ms: u64,
        ticket: TicketId,
        generation: u8,
        gate: GateId,
        direction: Direction,
    ) -> Decided {
        let found = self.door_ticket(ticket)?;
        if !self.gate_known(gate) {
            return Err(Rejection::UnknownGate { gate });
        }
        // A code of any other generation is not the holder's current one: a transferred or
        // re-bound ticket's old codes never pass.
        if generation != found.generation {
            return Err(Rejection::Revoked);
        }
        let source = ScanSource::Online;
        let (reply, scan) = match direction {
            Direction::Entry => {
                let scan = self
                    .door
                    .decide_entry(ticket, now_ms, gate, source)
                    .map_err(|AlreadyUsed { at_ms, gate }| Rejection::AlreadyUsed {
                        at_ms,
                        gate,
                    })?;
                let reply = Reply::Admitted {
                    ticket,
                    gate,
                    at_ms: now_ms,
                };
                (reply, scan)
            }
            Direction::Exit => {
                let scan = self
                    .door
                    .decide_exit(ticket, now_ms, gate, source)
                    .map_err(|refused| match refused {
                        ExitRefused::NoReentry => Rejection::NoReentry,
                        ExitRefused::NotInside => Rejection::NotInside,
                        ExitRefused::TooManyScans => Rejection::TooManyScans,
                    })?;
                let reply = Reply::Exited {
                    ticket,
                    gate,
                    at_ms: now_ms,
                };
                (reply, scan)
            }
        };
        Ok((reply, vec![self.scanned(ticket, scan)]))
    }

    /// Why an uploaded scan is not recorded before the door's rules are asked, if it is not.
    fn upload_refusal(&self, now_ms: u64, offline: &OfflineScan) -> Option<ScanRefusal> {
        let Some(found) = self.tickets.get(&offline.ticket) else {
            return Some(ScanRefusal::UnknownTicket);
        };
        if found.cancelled || offline.generation != found.generation {
            return Some(ScanRefusal::Revoked);
        }
        if !self.gate_known(offline.gate) {
            return Some(ScanRefusal::UnknownGate);
        }
        if offline.at_ms > now_ms.saturating_add(OFFLINE_SCAN_AHEAD_MS_MAX) {
            return Some(ScanRefusal::ScanAhead);
        }
        None
    }

    /// An offline scanner's upload: each acceptable scan recorded once, first scan wins by
    /// scan time, and the conflicts it makes reported.
    fn decide_upload(&self, now_ms: u64, upload: &[OfflineScan]) -> Decided {
        if upload.len() > UPLOAD_SCANS_MAX {
            return Err(Invalid::TooManyScans.into());
        }
        let refuse = |offline: &OfflineScan, reason| RefusedScan {
            ticket: offline.ticket,
            scanner: offline.scanner,
            nonce: offline.nonce,
            reason,
        };
        let mut refused = Vec::new();
        let mut accepted = Vec::with_capacity(upload.len());
        for offline in upload {
            match self.upload_refusal(now_ms, offline) {
                Some(reason) => refused.push(refuse(offline, reason)),
                None => accepted.push(*offline),
            }
        }
        let merged = self
            .door
            .decide_upload(&accepted)
            .map_err(|_| Invalid::TooManyScans)?;
        refused.extend(
            merged
                .dropped
                .iter()
                .map(|offline| refuse(offline, ScanRefusal::TooManyScans)),
        );
        let reply = Reply::ScansUploaded {
            recorded: merged.scans.len() as u32,
            repeated: merged.repeated as u32,
            refused,
            conflicts: merged.conflicts.clone(),
        };
        if merged.scans.is_empty() {
            return Ok((reply, Vec::new()));
        }
        let event = Event::ScansUploaded {
            performance: self.spec.performance,
            scans: merged
                .scans
                .iter()
                .map(|&(ticket, scan)| TicketScan { ticket, scan })
                .collect(),
            conflicts: merged.conflicts,
        };
        Ok((reply, vec![event]))
    }

    /// A ticket the actor holds and may still change: issued, theirs, not cancelled.
    fn held_ticket(&self, actor: ActorId, ticket: TicketId) -> Result<&Ticket, Rejection> {
        let found = self
            .tickets
            .get(&ticket)
            .ok_or(Rejection::UnknownTicket { ticket })?;
        if found.holder != actor {
            return Err(Rejection::NotYourTicket);
        }
        if found.cancelled {
            return Err(Rejection::TicketCancelled);
        }
        Ok(found)
    }

    fn decide_transfer(
        &self,
        now_ms: u64,
        actor: ActorId,
        ticket: TicketId,
        to: ActorId,
    ) -> Decided {
        let found = self.held_ticket(actor, ticket)?;
        if to == actor {
            return Err(Invalid::SelfTransfer.into());
        }
        if self
            .spec
            .door
            .transfer_until_ms
            .is_none_or(|until| now_ms >= until)
        {
            return Err(Rejection::TransferClosed);
        }
        if self.door.ever_entered(ticket) {
            return Err(Rejection::TicketUsed);
        }
        if found.transfers >= TRANSFERS_PER_TICKET_MAX {
            return Err(Rejection::TooManyTransfers);
        }
        // The per-buyer limit moves with the ticket: the recipient must have room for it.
        let already = self.buyer_places(to);
        if already >= self.spec.per_buyer_limit {
            return Err(Rejection::OverBuyerLimit {
                limit: self.spec.per_buyer_limit,
                already,
            });
        }
        let generation = found.generation + 1;
        let event = Event::TicketTransferred {
            performance: self.spec.performance,
            ticket,
            from: actor,
            to,
            generation,
        };
        let reply = Reply::Transferred {
            ticket,
            to,
            generation,
        };
        Ok((reply, vec![event]))
    }

    fn decide_rebind(&self, actor: ActorId, ticket: TicketId) -> Decided {
        let found = self.held_ticket(actor, ticket)?;
        if found.rebinds >= REBINDS_PER_TICKET_MAX {
            return Err(Rejection::TooManyRebinds);
        }
        let generation = found.generation + 1;
        let event = Event::TicketRebound {
            performance: self.spec.performance,
            ticket,
            generation,
        };
        Ok((Reply::Rebound { ticket, generation }, vec![event]))
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::PlacesHeld {
                hold,
                buyer,
                places,
                amount_won,
                expires_at_ms,
                admission,
                prices_won,
                reduced,
                offer,
                booking_fee_won,
                ..
            } => {
                for place in places {
                    self.take_place(*place, SeatState::Held(*hold));
                }
                if let Some(AppliedOffer::Coupon(coupon)) = offer {
                    let used = self.coupon_uses.entry(*coupon).or_default();
                    used.uses += 1;
                    *used.buyers.entry(*buyer).or_default() += 1;
                }
                if let Some(admission) = admission {
                    self.admissions.entry(*admission).or_insert(AdmissionUse {
                        buyer: *buyer,
                        spent: false,
                    });
                }
                *self.buyer_places.entry(*buyer).or_default() += places.len() as u16;
                let held = Hold {
                    buyer: *buyer,
                    places: places.clone(),
                    amount_won: *amount_won,
                    expires_at_ms: *expires_at_ms,
                    status: HoldStatus::Active,
                    admission: *admission,
                    prices_won: prices_won.clone(),
                    reduced: reduced.clone(),
                    offer: *offer,
                    booking_fee_won: *booking_fee_won,
                };
                self.holds.insert(*hold, held);
            }
            Event::HoldReleased { hold, .. } => self.end_hold(*hold, HoldStatus::Released),
            Event::HoldExpired { hold, .. } => self.end_hold(*hold, HoldStatus::Expired),
            Event::BookingConfirmed {
                hold,
                booking,
                first_ticket,
                payment_ref,
                paid_won,
                booked_at_ms,
                ..
            } => self.confirm(
                *hold,
                *booking,
                *first_ticket,
                payment_ref,
                *paid_won,
                *booked_at_ms,
            ),
            Event::TicketsCancelled {
                tickets,
                refund_won,
                fee_won,
                booking_fee_refunded_won,
                ..
            } => {
                for ticket in tickets {
                    let (place, price_won, holder) = {
                        let found = self
                            .tickets
                            .get_mut(ticket)
                            .expect("cancelled ticket exists");
                        found.cancelled = true;
                        (found.place, found.price_won, found.holder)
                    };
                    self.free_place(place);
                    self.zone_sold_to_free(place);
                    self.release_buyer_places(holder, 1);
                    self.money.revenue_won -= price_won;
                }
                self.money.refunds_won += refund_won;
                self.money.fees_won += fee_won;
                self.money.booking_fees_won -= booking_fee_refunded_won;
            }
            Event::TicketCheckedIn { ticket, at_ms, .. } => {
                let scan = Scan {
                    at_ms: *at_ms,
                    gate: GateId(0),
                    direction: Direction::Entry,
                    source: ScanSource::Online,
                };
                self.door.record(*ticket, scan);
            }
            Event::TicketScanned { ticket, scan, .. } => self.door.record(*ticket, *scan),
            Event::ScansUploaded { scans, .. } => {
                for recorded in scans {
                    self.door.record(recorded.ticket, recorded.scan);
                }
            }
            Event::TicketTransferred {
                ticket,
                from,
                to,
                generation,
                ..
            } => {
                let found = self
                    .tickets
                    .get_mut(ticket)
                    .expect("transferred ticket exists");
                found.holder = *to;
                found.generation = *generation;
                found.transfers += 1;
                self.release_buyer_places(*from, 1);
                *self.buyer_places.entry(*to).or_default() += 1;
            }
            Event::TicketRebound {
                ticket, generation, ..
            } => {
                let found = self.tickets.get_mut(ticket).expect("rebound ticket exists");
                found.generation = *generation;
                found.rebinds += 1;
            }
            Event::RefundOwed {
                booking,
                refund,
                payment_ref,
                amount_won,
                ..
            } => {
                let owed = Refund {
                    booking: *booking,
                    amount_won: *amount_won,
                    payment_ref: payment_ref.clone(),
                    paid: None,
                };
                self.refunds.insert(*refund, owed);
            }
            Event::RefundPaid {
                refund,
                provider_transaction,
                amount_won,
                ..
            } => {
                let owed = self.refunds.get_mut(refund).expect("paid refund is owed");
                owed.paid = Some(provider_transaction.clone());
                self.money.refunds_paid_won += amount_won;
            }
            Event::PerformanceCancelled { .. } => {
                self.cancelled = true;
                // Called off: waiting entries end with it (offers end as their holds are
                // released), and the reserve goes back, though nothing is on sale any more.
                self.waitlist.entries.retain(|_, e| !e.waiting());
                for place in self.waitlist.reserved_places() {
                    self.unreserve(place);
                }
            }
            Event::WaitlistJoined {
                entry,
                buyer,
                grade,
                quantity,
                together,
                mode,
                joined_at_ms,
                ..
            } => {
                let joined = WaitlistEntry {
                    buyer: *buyer,
                    grade: *grade,
                    quantity: *quantity,
                    together: *together,
                    mode: mode.clone(),
                    joined_at_ms: *joined_at_ms,
                    offer: None,
                };
                self.waitlist.entries.insert(*entry, joined);
            }
            Event::WaitlistOffered {
                entry,
                hold,
                places,
                from_reserve,
                ..
            } => {
                let offered = self
                    .waitlist
                    .entries
                    .get_mut(entry)
                    .expect("offered entry waits");
                offered.offer = Some(*hold);
                self.waitlist.offers.insert(*hold, *entry);
                self.waitlist.places_offered += places.len() as u64;
                // Those from the reserve leave it; the `PlacesHeld` that follows takes them all.
                for place in from_reserve {
                    self.unreserve(*place);
                }
            }
            Event::WaitlistEntryEnded { entry, reason, .. } => {
                let ended = self
                    .waitlist
                    .entries
                    .remove(entry)
                    .expect("ended entry is live");
                if let Some(hold) = ended.offer {
                    self.waitlist.offers.remove(&hold);
                    if *reason == WaitlistEndReason::Booked {
                        self.waitlist.places_booked += self.holds[&hold].places.len() as u64;
                    }
                }
            }
            Event::WaitlistReserved { places, .. } => {
                for place in places {
                    match place {
                        Place::Seat(seat) => {
                            self.take_place(*place, SeatState::Reserved);
                            self.waitlist.reserved_seats.insert(*seat);
                        }
                        Place::Zone(zone) => {
                            *self.waitlist.reserved_zones.entry(*zone).or_default() += 1
                        }
                    }
                }
            }
            Event::WaitlistUnreserved { places, .. } => {
                for place in places {
                    self.unreserve(*place);
                }
            }
            Event::PerformanceOpened(_)
            | Event::CommandRecorded { .. }
            | Event::KeysForgotten { .. } => {}
        }
        self.assert_money_balances();
    }

    /// Invariant 6 (DESIGN.md): payments − refunds = seller revenue + fees, for this
    /// performance, after every event. An always-on `assert!`, not a handled error: an event
    /// that unbalances the books is a bug in `decide` or `apply` (a confirm whose payment is not
    /// its tickets' prices, a cancellation whose refund and fee do not add up to what was paid),
    /// and going on would journal, snapshot and replicate the wrong money. Four additions per
    /// event: no measurable cost (docs/benchmarks.md). Written as a sum, not a difference, so a
    /// refund larger than the payments fails here rather than wrapping.
    fn assert_money_balances(&self) {
        let money = &self.money;
        assert_eq!(
            money.payments_won,
            money.refunds_won + money.revenue_won + money.fees_won + money.booking_fees_won,
            "performance {}: money does not balance (payments − refunds ≠ revenue + fees): {money:?}",
            self.spec.performance,
        );
        assert!(
            money.refunds_paid_won <= money.refunds_won,
            "performance {}: more refunded than owed: {money:?}",
            self.spec.performance,
        );
    }

    fn confirm(
        &mut self,
        hold: HoldId,
        booking: BookingId,
        first_ticket: TicketId,
        payment_ref: &str,
        paid_won: Won,
        booked_at_ms: u64,
    ) {
        let held = self.holds.get_mut(&hold).expect("confirmed hold exists");
        held.status = HoldStatus::Confirmed(booking);
        let places = held.places.clone();
        let prices_won = held.prices_won.clone();
        let reduced = held.reduced.clone();
        let discount = match held.offer {
            Some(AppliedOffer::Discount(discount)) => Some(discount),
            _ => None,
        };
        let buyer = held.buyer;
        let booking_fee_won = held.booking_fee_won;
        if let Some(used) = held.admission.and_then(|a| self.admissions.get_mut(&a)) {
            used.spent = true;
        }
        let mut tickets = Vec::with_capacity(places.len());
        for (index, place) in places.into_iter().enumerate() {
            let ticket = TicketId(first_ticket.0 + index as u64);
            match place {
                Place::Seat(seat) => self.seats[seat.0 as usize] = SeatState::Sold(ticket),
                Place::Zone(zone) => {
                    let count = &mut self.zones[usize::from(zone.0)];
                    count.held -= 1;
                    count.sold += 1;
                }
            }
            // Entries from before offers carry no prices: the grade price applied then.
            let price_won = prices_won
                .get(index)
                .copied()
                .unwrap_or_else(|| self.price_won(place));
            self.money.revenue_won += price_won;
            self.money.booking_fees_won += booking_fee_won;
            let issued = Ticket {
                booking,
                place,
                price_won,
                cancelled: false,
                holder: buyer,
                generation: 0,
                transfers: 0,
                rebinds: 0,
                discount: discount.filter(|_| reduced.get(index).copied().unwrap_or(false)),
                booking_fee_won,
            };
            self.tickets.insert(ticket, issued);
            tickets.push(ticket);
        }
        self.money.payments_won += paid_won;
        let booked = Booking {
            buyer,
            hold,
            payment_ref: payment_ref.to_owned(),
            paid_won,
            booked_at_ms,
            tickets,
        };
        self.bookings.insert(booking, booked);
    }

    fn end_hold(&mut self, hold: HoldId, status: HoldStatus) {
        let held = self.holds.get_mut(&hold).expect("ended hold exists");
        held.status = status;
        let places = held.places.clone();
        let buyer = held.buyer;
        if let Some(AppliedOffer::Coupon(coupon)) = held.offer
            && let Some(used) = self.coupon_uses.get_mut(&coupon)
        {
            // The hold was never paid: its use goes back to the coupon.
            used.uses -= 1;
            if let Some(by_buyer) = used.buyers.get_mut(&buyer) {
                *by_buyer -= 1;
                if *by_buyer == 0 {
                    used.buyers.remove(&buyer);
                }
            }
        }
        for place in &places {
            self.free_place(*place);
            if let Place::Zone(zone) = place {
                self.zones[usize::from(zone.0)].held -= 1;
            }
        }
        self.release_buyer_places(buyer, places.len() as u16);
    }

    /// A reserved place back on sale.
    fn unreserve(&mut self, place: Place) {
        match place {
            Place::Seat(seat) => {
                self.waitlist.reserved_seats.remove(&seat);
                self.free_place(place);
            }
            Place::Zone(zone) => {
                if let Some(count) = self.waitlist.reserved_zones.get_mut(&zone) {
                    *count -= 1;
                    if *count == 0 {
                        self.waitlist.reserved_zones.remove(&zone);
                    }
                }
            }
        }
    }

    fn release_buyer_places(&mut self, buyer: ActorId, count: u16) {
        if let Some(places) = self.buyer_places.get_mut(&buyer) {
            *places -= count;
            if *places == 0 {
                self.buyer_places.remove(&buyer);
            }
        }
    }

    fn take_place(&mut self, place: Place, state: SeatState) {
        match place {
            Place::Seat(seat) => {
                self.seats[seat.0 as usize] = state;
                let grade = usize::from(self.spec.seats[seat.0 as usize].grade.0);
                let position = self.seat_grade_index[seat.0 as usize];
                self.grade_free[grade].remove(&position);
            }
            Place::Zone(zone) => self.zones[usize::from(zone.0)].held += 1,
        }
    }

    /// Puts a seat back on sale (zones are counted by the caller, which knows whether the place
    /// was held or sold).
    fn free_place(&mut self, place: Place) {
        if let Place::Seat(seat) = place {
            self.seats[seat.0 as usize] = SeatState::Free;
            let grade = usize::from(self.spec.seats[seat.0 as usize].grade.0);
            let position = self.seat_grade_index[seat.0 as usize];
            self.grade_free[grade].insert(position);
        }
    }

    fn zone_sold_to_free(&mut self, place: Place) {
        if let Place::Zone(zone) = place {
            self.zones[usize::from(zone.0)].sold -= 1;
        }
    }
}
