//! Corpus (to come).
