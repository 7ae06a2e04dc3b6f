"""tap_coupa."""
