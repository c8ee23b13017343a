"""The audit trail: every change of state and every sign-in, append-only and hash-chained."""
