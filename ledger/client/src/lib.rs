//! How callers (gateways, the API, the load tester) reach the ledger, and everything on the wire
//! between them and the ledger nodes. The server (`picket-ledger`: writer, journal, nodes)
//! depends on this crate for the wire types; this crate never depends on the server, so a
//! caller depends on the core and this crate only.
//!
//! - [`bus`]: the NATS subjects, streams and messages, the performance → partition mapping,
//!   message ids, and the one ordered reader of a stream from a sequence on.
//! - [`nats`]: how every process connects to NATS — TLS against a CA file, a client
//!   certificate, `.creds`/NKey credentials ([`bus::connect_with`] is the one door).
//! - [`wire`]: committed entries, subscriptions and submit errors, whatever the transport.
//! - [`client`]: [`LedgerClient`], in process (through [`LocalLedger`], which the server's
//!   writer handle implements) or over NATS ([`NatsLedger`]).
//! - [`follow`]: [`EntryFollower`], a named reader of a partition's entries that the bus
//!   remembers (a durable JetStream consumer over NATS).
//! - [`seats`]: the seat-map read model, built only from committed events.
//! - [`notify`]: members' live notifications from the notifier to the gateways
//!   (`picket.notify.m.<member>` over NATS, or in process).
//! - [`status`]: ledger nodes' and gateways' status over NATS (`picket.status.>`) and the
//!   [`StatusBoard`] that keeps the latest of each, for the admin dashboard.

pub mod bus;
pub mod client;
pub mod follow;
pub mod nats;
pub mod notify;
pub mod seats;
pub mod status;
pub mod wire;

pub use bus::{BusConfig, BusError, CommandTransport, NatsAuth};
pub use client::{
    ClientStatus, ENTRIES_AFTER_MAX, LedgerClient, LocalLedger, LocalStatus, NatsLedger, ReadError,
};
pub use follow::EntryFollower;
pub use notify::{NoticeSubscription, Notices};
pub use status::{Platform, StatusBoard};
pub use wire::{Committed, SubmitError, Subscription, decode_committed};
