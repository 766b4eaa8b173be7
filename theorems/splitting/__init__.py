"""splitting family."""
