//! Meridian's persistence: one [`Store`] over SQLite and PostgreSQL.
//!
//! The backend is chosen at run time from the URL (`sqlite://…` or `postgres://…`) and every
//! query is written once, in portable SQL, through sqlx's `Any` driver. Placeholders are `$1`,
//! `$2`, … which both backends accept. One migration tree (`/migrations`) serves both.
//!
//! Every mutation goes through a function here that checks permission
//! ([`meridian_domain::authz::authorize`]), validates, writes, and appends its audit event in
//! the same transaction ([`audit::record`]).

pub mod audit;
mod db;
pub mod demo;
mod error;
pub mod evaluations;
pub mod iati;
pub mod org;
pub mod projects;
pub mod results;
pub mod sessions;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod users;

pub use db::{Backend, Store, Tx, now_text};
pub use error::StoreError;
