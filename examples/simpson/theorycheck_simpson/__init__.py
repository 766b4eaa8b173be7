"""theorycheck-simpson: the claims of Simpson's rule as a theorycheck plugin (worked example)."""
