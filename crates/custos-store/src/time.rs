//! Timestamps as stored: milliseconds since the Unix epoch in a `BIGINT`, the same on both
//! backends, so that comparisons in SQL are exact and portable.

use jiff::Timestamp;

use crate::StoreError;

/// The stored form of `t`.
pub(crate) fn to_millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Reads a stored timestamp back.
pub(crate) fn from_millis(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("timestamp {ms}: {e}")))
}
