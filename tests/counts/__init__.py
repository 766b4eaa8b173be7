"""counts family tests."""
