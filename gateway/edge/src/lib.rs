//! What the edge's two halves share — the WebSocket gateway (`picket-gateway`) and the HTTP API
//! (`picket-api`) — so neither reaches into the other:
//!
//! - [`token`]: signed session, guest and admission tokens with rotating keys; any process with
//!   the key ring verifies them without asking anyone.
//! - [`identity`]: who a client is (`m:<member>` or `g:<device>`) and the ledger actor it books as.
//! - [`clock`]: the wall clock, read in one place.
//! - [`operator`]: the one check of the operator token (and of bearer headers).
//! - [`problem`]: errors over HTTP as `application/problem+json`, built in one place.
//! - [`secret`]: token keys and the operator token kept in files by the embedded default.

pub mod clock;
pub mod identity;
pub mod operator;
pub mod problem;
pub mod secret;
pub mod token;
