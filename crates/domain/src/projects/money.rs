//! Money and exchange rates (being written).
