"""calibration family."""
