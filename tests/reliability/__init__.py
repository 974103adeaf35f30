"""Reliability: a real node process under faults (kill -9, a locked or full database)."""
