"""What every study's report shares: number formats (mean ± std) and the result files (Markdown, CSV,
JSON) written atomically. Each study's own tables live in its folder.

Example:
    >>> _pm({"mean": 81.234, "std": 0.5, "n": 3})
    '81.23 ± 0.50'
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np


def _stats(values: Sequence[float]) -> dict[str, Any]:
    vals = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return {"mean": float("nan"), "std": float("nan"), "n": 0, "values": []}
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    return {"mean": float(np.mean(vals)), "std": std, "n": len(vals), "values": vals}


def _f(x: float, digits: int = 2) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def _pm(s: dict[str, Any]) -> str:
    return f"{_f(s['mean'])} ± {_f(s['std'])}" if s["n"] > 1 else _f(s["mean"])


def write_result_files(
    output: str,
    stem: str,
    markdown: str,
    csv_rows: Sequence[dict[str, Any]],
    prov: dict[str, Any],
    payload: dict[str, Any],
) -> list[str]:
    """Write ``<stem>.md``, ``<stem>.csv`` (provenance as leading ``#`` lines) and ``<stem>.json``
    (``{"provenance": prov, **payload}``): the three files of every simsent results folder."""
    from simsent._io import write_json, write_text

    os.makedirs(output, exist_ok=True)
    md = os.path.join(output, f"{stem}.md")
    write_text(md, markdown)
    buf = io.StringIO()
    buf.write(f"# command: {prov['command']}\n")
    buf.write(f"# config: {json.dumps(prov['config'], ensure_ascii=False)}\n")
    buf.write(f"# versions: {json.dumps(prov['versions'])}\n")
    buf.write(f"# data_files: {json.dumps(prov['data_files'])}\n")
    writer = csv.DictWriter(buf, fieldnames=list(csv_rows[0]) if csv_rows else ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows)
    path_csv = os.path.join(output, f"{stem}.csv")
    write_text(path_csv, buf.getvalue())
    path_json = os.path.join(output, f"{stem}.json")
    write_json(path_json, {"provenance": prov, **payload})
    return [md, path_csv, path_json]
