//! Readers, writers and validators for the data formats Meridian exchanges with the outside
//! world. No database: everything works over `Read`/`Write`.

pub mod gzip;
pub mod iati;
pub mod results_sheet;
