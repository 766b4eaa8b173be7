"""counts family: exact parameter / MAC / memory counts of transformer architectures."""
