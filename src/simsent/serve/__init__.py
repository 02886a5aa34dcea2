"""HTTP service: :func:`create_app` builds a FastAPI app around a model and an optional index.

Example:
    >>> from simsent.serve import create_app
    >>> app = create_app(model, index=None, max_texts=64, max_chars=512)   # doctest: +SKIP
"""

from simsent.serve.app import create_app

__all__ = ["create_app"]
