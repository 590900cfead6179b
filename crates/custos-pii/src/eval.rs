//! Eval (to come).
