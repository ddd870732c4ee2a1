//! # huren-issuer — a province's licence and seal issuing service
//!
//! Departments issue standardized e-licences signed with the province's keys, and make
//! electronic seals (SPEC §8, [`seals`]) with its seal maker; the service
//! allocates status-list indices, publishes signed status lists, renders QR codes, enforces
//! scoped bearer tokens and keeps a hash-chained audit log, on SQLite (default) or PostgreSQL.
//! SPEC §3, §4, §7 and §10 are the contract.

pub mod anchor;
pub mod app;
pub mod audit;
pub mod catalogue;
pub mod config;
pub mod copies;
pub mod http;
pub mod issuance;
pub mod keyring;
pub mod metrics;
pub mod publish;
pub mod record_status;
pub mod render;
pub mod seals;
pub mod status_index;
pub mod store;
pub mod tlog;
pub mod tokens;

#[cfg(test)]
mod testing;

pub use app::App;
pub use config::IssuerConfig;
pub use issuance::Issuer;
