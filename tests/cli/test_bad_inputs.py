"""Every command x every input class a real user has: exit 0 with correct output, or exit 2 with one
clear ``error:`` line and no traceback (the matrix lives in ``bad_input_cases.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "bad_input_cases", Path(__file__).with_name("bad_input_cases.py")
)
cases_module = importlib.util.module_from_spec(_spec)
sys.modules["bad_input_cases"] = cases_module  # dataclasses look their module up
_spec.loader.exec_module(cases_module)


@pytest.fixture(scope="module")
def matrix(tiny_bert, tmp_path_factory):
    sock, port = cases_module.busy_port()
    work = tmp_path_factory.mktemp("bad-inputs")
    yield {c.name: c for c in cases_module.build_cases(work, tiny_bert, port=port)}
    sock.close()


def test_the_matrix_covers_every_command_and_class(matrix):
    commands = {c.argv[0] for c in matrix.values()}
    assert commands >= {
        "train",
        "eval",
        "encode",
        "similarity",
        "whiten",
        "index",
        "calibrate",
        "mine",
        "serve",
        "pretrain",
        "distill",
        "data",
        "fit",
        "sweep",
        "rerank",
    }
    assert len(matrix) > 150


def test_every_case_ends_clean(matrix, cli):
    failures = []
    for case in matrix.values():
        if case.file_size_limit is not None:  # a limit on this process would cap pytest's own files
            problem = cases_module.judge(case, *cases_module.run_console(case))
            if problem:
                failures.append(f"{case.name}: {problem}")
            continue
        try:
            r = cli(*case.argv)
        except Exception as exc:  # what the console script would print as a traceback
            failures.append(f"{case.name}: traceback {type(exc).__name__}: {str(exc)[:150]}")
            continue
        problem = cases_module.judge(case, r.code, r.out, r.err)
        if problem:
            failures.append(f"{case.name}: {problem}")
    assert not failures, f"{len(failures)} of {len(matrix)} cases:\n" + "\n".join(failures)
