"""in context family."""
