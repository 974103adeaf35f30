"""Security: hostile input, tampering, and who may do what, against a real node process."""
