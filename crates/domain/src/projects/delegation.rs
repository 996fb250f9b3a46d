//! Delegation of authority (being written).
