"""vntrace.api: the node's HTTP gateway (FastAPI).

:func:`create_app` builds it; ``vntrace serve`` runs it under uvicorn. Routes live in
``routes/`` (one router per resource), request and response models in ``schemas/``,
shared dependencies in ``deps.py``; docs/api.md describes the HTTP surface.
"""

from .main import create_app

__all__ = ["create_app"]
