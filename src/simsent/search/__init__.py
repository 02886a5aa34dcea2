"""Vector search over sentence embeddings: :class:`VectorIndex` and corpus readers.

Example:
    >>> from simsent.search import VectorIndex
    >>> index = VectorIndex(dim=4)
    >>> index.add([[1, 0, 0, 0], [0, 1, 0, 0]], ids=["a", "b"])
    >>> index.search(__import__("numpy").array([[0.9, 0.1, 0, 0]]), k=1).ids
    [['a']]
"""

from simsent.search.backends import BACKENDS
from simsent.search.corpus import iter_corpus
from simsent.search.index import SearchResults, VectorIndex

__all__ = ["BACKENDS", "SearchResults", "VectorIndex", "iter_corpus"]
