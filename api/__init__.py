"""vntrace.api: the FastAPI gateway (built in a later issue)."""
