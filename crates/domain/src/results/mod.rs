//! Results-based management: the vocabulary of results matrices and indicators
//! ([`model`]), the aggregation maths (`aggregate`, coming), the Strategic Results Framework
//! (`srf`, coming) and the reference lists of the Global Compact for Migration and the SDGs
//! (`reference`, coming).

pub mod aggregate;
pub mod model;
pub mod reference;
pub mod srf;

pub use model::*;

#[cfg(test)]
mod tests;
