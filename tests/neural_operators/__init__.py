"""neural operators family."""
