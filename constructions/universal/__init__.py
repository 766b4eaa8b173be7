"""universal family."""
