"""A service whose models are persisted (tests/persist)."""
