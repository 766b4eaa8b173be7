"""physics family: open quantum systems in POVM form, entropy production, manufactured solutions."""
