"""building_blocks family."""
