#![recursion_limit = "512"]
//! The HTTP API under `/api/v2` that gateways serve beside the WebSocket: accounts and sessions,
//! sellers, the catalog, the board and bookings. JSON in and out, errors as
//! `application/problem+json` with stable codes ([`error`]), every field validated with a
//! message that says what is wrong, and an OpenAPI document at `/api/openapi.json` ([`openapi`]).
//!
//! Layout, leaves first (a file uses only files above it; `app` is the top):
//! - [`store`]: every SQL statement, one file per concern, typed rows; PostgreSQL in production
//!   and SQLite in `picket up`. [`media`]: where banners are kept. [`limit`], [`error`],
//!   [`json`], [`paging`]: shared pieces.
//! - [`approval`]: a company's approval status and the seller-approval setting. [`metrics`]: the
//!   API's own counters and reading a metrics registry back into samples.
//! - [`catalog`]: the "show published" announcement the notifier reads. [`seats_left`]: the
//!   seats-left read model; [`seat_states`]: each seat's state for sellers' dashboards. [`state`]: the shared [`Api`] and its configuration.
//! - [`auth`]: sessions and guests (the edge's signed tokens); [`operator`]: the one check of the
//!   operator token; [`client`]: the client's address (through trusted proxies only) that the
//!   per-address limits count by.
//! - Forms and validation without I/O: [`venues`], [`grades`], [`offers`], [`shows`] (with a
//!   show's door settings); [`holdings`]: who holds a ticket after its transfers.
//! - [`admission`]: the waiting room's admission on the HTTP payment path.
//! - [`restore`]: the durable record of every sale, and putting back the sales the waiting
//!   room's store lost.
//! - Handlers: [`accounts`], [`sellers`], [`manage`] (venues, shows, performances, staff),
//!   [`browse`], [`board`], [`banners`], [`bookings`], [`tickets`] and its WebSocket
//!   stream for scanners, [`scanner`]; [`publish`] is the one place that talks
//!   to the ledger, the waiting room and NATS for the catalog; [`sales`]: the operator's routes
//!   for a sale and for opening a performance directly; [`tickets`]: tickets at the door online;
//!   [`transfer`]: giving a ticket to another member, "my tickets" and printed codes; [`door`]:
//!   the door offline (the manifest key, the signed manifest, offline scanners' uploads, the door
//!   counters); [`reminders`]: reminders before ticket openings and "my reminders";
//!   [`notification_settings`]: a member's language and channels per kind of notification.
//! - [`projection`] (bookings as buyers see them) and [`follow`], which follows the ledger into
//!   it and the seats-left read model.
//! - [`platform`]: the admin's view of the services (gateways' connections, ledger leaders and
//!   standbys) from a [`state::PlatformSource`] that `picket up` sets.
//! - The admin dashboard's platform views: [`admin`] (sales on now everywhere), [`operations`]
//!   (error and rejection rates, the refund backlog, the last reconciliation, from the metrics).
//! - [`app`]: builds the [`Api`] and its router.

pub mod accounts;
pub mod admin;
pub mod admission;
pub mod app;
pub mod approval;
pub mod auth;
pub mod autopay;
pub mod banners;
pub mod billing;
pub mod board;
pub mod bookings;
pub mod browse;
pub mod catalog;
pub mod client;
pub mod dashboard;
pub mod door;
pub mod error;
pub mod follow;
pub mod grades;
pub mod holdings;
pub mod json;
pub mod limit;
pub mod manage;
pub mod media;
pub mod metrics;
pub mod notification_settings;
pub mod notifications;
pub mod offers;
pub mod openapi;
pub mod operations;
pub mod operator;
pub mod paging;
pub mod payments;
pub mod platform;
pub mod projection;
pub mod publish;
pub mod push;
pub mod reminders;
pub mod restore;
pub mod sales;
pub mod scanner;
pub mod seat_states;
pub mod seats_left;
pub mod sellers;
pub mod settlement;
pub mod shows;
pub mod state;
pub mod store;
pub mod taxonomy;
pub mod tickets;
pub mod transfer;
pub mod vapid;
pub mod venues;
pub mod waitlist;

pub use app::router;
pub use auth::{Authenticated, Role, authenticate, bearer};
pub use json::JsonBody;
pub use state::{Api, ApiConfig, ApiStartError, PUBLISHED_BUFFER_MAX, now_ms};
