//! credential (in progress).
