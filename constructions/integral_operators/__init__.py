"""integral operators family."""
