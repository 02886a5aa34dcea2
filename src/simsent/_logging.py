"""Logging helpers of the library (the CLI alone configures handlers and levels).

Example:
    >>> import logging
    >>> warn_once(logging.getLogger("simsent.demo"), "dim %d exceeds the rank", 300)
"""

from __future__ import annotations

import logging

_WARNED: set[tuple[str, str]] = set()


def warn_once(logger: logging.Logger, message: str, *args: object) -> None:
    """Log ``message`` as a warning the first time this process meets it (by its template), later at
    DEBUG: a run that whitens many candidates says a rank warning once, not once per candidate."""
    key = (logger.name, message)
    if key in _WARNED:
        logger.debug(message, *args)
        return
    _WARNED.add(key)
    logger.warning(message + " (said once per run)", *args)
