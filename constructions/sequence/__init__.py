"""sequence family."""
