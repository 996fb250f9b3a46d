//! Projects (the PRIMA core): the lifecycle state machine, project codes, money and exchange
//! rates, and delegation of authority with segregation of duties.

pub mod delegation;
pub mod lifecycle;
pub mod money;
