//! Results-based management: the vocabulary of results matrices and indicators
//! ([`model`]), the aggregation maths ([`aggregate`]), the Strategic Results Framework
//! ([`srf`]), disaggregation keys and combinations ([`combination`]) and the reference lists of the Global Compact for Migration and the SDGs
//! ([`reference`](mod@reference)).

pub mod aggregate;
pub mod combination;
pub mod model;
pub mod partial;
pub mod reference;
pub mod srf;

pub use model::*;

#[cfg(test)]
mod tests;
