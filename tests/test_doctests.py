"""Every example in the package's docstrings runs (those marked ``+SKIP`` need a hub model or a GPU)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import simsent

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(simsent.__path__, "simsent.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
