"""physics family."""
