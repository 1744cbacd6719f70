//! What the edge's two halves share — the WebSocket gateway (`picket-gateway`) and the HTTP API
//! (`picket-api`) — so neither reaches into the other:
//!
//! - [`dashboard`]: the seller's live dashboard, and how the gateway asks the API's side for it.
//! - [`token`]: signed session, guest and admission tokens with rotating keys; any process with
//!   the key ring verifies them without asking anyone.
//! - [`id`]: ids on the wire as decimal strings (JavaScript's numbers stop being exact at 2^53).
//! - [`outcome`]: the ledger's outcome as clients read it, its ids as strings.
//! - [`identity`]: who a client is (`m:<member>` or `g:<device>`) and the ledger actor it books as.
//! - [`clock`]: the wall clock, read in one place.
//! - [`operator`]: the one check of the operator token (and of bearer headers).
//! - [`problem`]: errors over HTTP as `application/problem+json`, built in one place.
//! - [`spec`]: the performance spec as operators send it, its id a string.
//! - [`secret`]: token keys and the operator token kept in files by the embedded default.

pub mod clock;
pub mod dashboard;
pub mod id;
pub mod identity;
pub mod operator;
pub mod outcome;
pub mod problem;
pub mod secret;
pub mod spec;
pub mod token;
