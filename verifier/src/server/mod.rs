//! The verification service (`huren verifier serve`, feature `server`): `POST /v1/verify`,
//! `POST /v1/seals/verify`, `GET /v1/trust`, health, metrics, OpenAPI and the clerk's page
//! (SPEC §7, §8, §9).
//!
//! Verification outcomes are data: HTTP 200 whatever the verdict; 4xx only for requests that
//! are not a licence (or a sealed document) at all (no input, unreadable image, wrong content
//! type, too large, rate limited). Every verification is logged for 用证留痕 with the licence
//! id or esID, verdict, reasons, time and caller — never the holder's name or identifiers,
//! never document content.
//!
//! Modules, top to bottom (each uses only those below it): [`app`] builds and runs the service
//! (router, background refresh); [`service`] is its process plumbing (logging, shutdown
//! signal), [`config`] its settings; `licence` and `seal` are the two verification routes,
//! `ops` the read-only ones, `page` the clerk's page; `audience` decides whom a licence
//! request is verified for (annotated copies, SPEC §11); `request` holds what both verification
//! routes read from a request; `state` what every handler shares; [`problem`] is the one error
//! envelope; [`rate`] decides who a client is and how fast it may go.

pub mod app;
mod audience;
pub mod config;
mod licence;
pub mod metrics;
mod ops;
mod page;
pub mod problem;
pub mod rate;
mod request;
mod seal;
pub mod service;
mod state;

pub use app::{router, App, Background, StartError};
pub use licence::MAX_BODY_BYTES;
pub use metrics::ServerMetrics;
pub use seal::{MAX_DOCUMENT_BYTES, MAX_SEAL_BODY_BYTES, MAX_SIGNATURE_BYTES};
pub use state::{state, state_with_metrics, ServerState};
