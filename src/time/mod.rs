//! Local time without libc: the zone reader and the timestamp formats.
//! Pure code over bytes (the zone file is read once, at start), tested
//! against Python's output for the same zones.

mod format;
mod zone;

pub use format::{ctime, iso8601, stamp, Format, Tm};
pub use zone::{Local, Zone, KEEP};
