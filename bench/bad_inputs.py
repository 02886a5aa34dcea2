"""The bad-input matrix through the real console script: every case a fresh ``simsent`` process.

The same cases as ``tests/cli/test_bad_inputs.py`` (``tests/cli/bad_input_cases.py``), each run as
``simsent ARGS`` with no standard input; a case is clean when it exits 0 with correct output, or 2 with
one ``error:`` line and no traceback. Writes ``results/bad_inputs.md`` (and ``.json``) with every row.

    python bench/bad_inputs.py [--jobs 2] [--output results/bad_inputs.md]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="cases run at a time")
    ap.add_argument("--output", default=str(ROOT / "results" / "bad_inputs.md"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()

    cases_mod = _load(ROOT / "tests" / "cli" / "bad_input_cases.py", "bad_input_cases")
    conftest = _load(ROOT / "tests" / "conftest.py", "simsent_test_conftest")
    from simsent import __version__

    work = Path(tempfile.mkdtemp(prefix="simsent-bad-inputs-"))
    tiny = conftest.build_tiny_bert(str(work / "tiny_bert"))
    sock, port = cases_mod.busy_port()
    cases = cases_mod.build_cases(work / "w", tiny, port=port)
    exe = shutil.which("simsent") or f"{sys.executable} -m simsent.cli.main"

    def run(case):
        start = time.perf_counter()
        code, out, err = cases_mod.run_console(case)
        problem = cases_mod.judge(case, code, out, err)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        return {
            "case": case.name,
            "expect": case.expect,
            "exit": code,
            "clean": problem is None,
            "problem": problem,
            "error_line": errors[-1] if errors else "",
            "seconds": round(time.perf_counter() - start, 2),
        }

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run, cases))
    seconds = time.perf_counter() - t0
    sock.close()
    clean = sum(r["clean"] for r in rows)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python bench/bad_inputs.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        "# Bad-input matrix through the console script",
        "",
        f"**{clean} of {len(rows)} runs ended clean** (exit 0 with correct output, or exit 2 with one "
        "`error:` line and no traceback).",
        "",
        f"- command: `{command}` ({args.jobs} cases at a time; `{exe} ...` per case, a fresh process each)",
        f"- simsent {__version__}, Python {platform.python_version()}, {platform.platform()}",
        f"- cases: `tests/cli/bad_input_cases.py`, `bad_input_cases_r2.py` and `_r3.py` (the same matrix "
        f"`tests/cli/test_bad_inputs.py` runs in-process); inputs are generated (no public data); "
        f"{seconds:.0f} s in all",
        "- input classes: missing, empty, blank, folder, malformed lines, GB18030, UTF-8 BOM, NUL (binary), "
        "CRLF, a 100k-character line, undecodable bytes, unknown columns; truncated / garbage weights, "
        "corrupt configs and index files; output paths that are a file, under a file, not writable; NaN, "
        "zero and negative numbers; unknown and absent devices; a port in use. Round 2: folders written "
        "by sentence-transformers (Dense+ReLU+LayerNorm, cls+mean, prompts: vectors compared with "
        "SentenceTransformer.encode) and the modules refused (CNN, LSTM, StaticEmbedding, "
        "include_prompt=false, paths outside the folder); config.json disagreeing with the weights "
        "(layers, width, family), no tokenizer, a tokenizer larger than the embeddings; Big5, GBK-or-Big5"
        " undecidable, a forced encoding that does not fit, NUL after 64 KiB, a quote in a TSV, 20,000 "
        "malformed lines (log stays short), nan/inf labels, a null seed label, constant labels (undefined"
        " Spearman), unrankable fit dev files, one distinct training sentence, a TextCNN with cls "
        "pooling, GBK and undecodable arguments, faiss noise, permissions of a trained folder. Round 3: "
        "a shard folder whose manifest claims a missing shard, a resume under another --dropout (after "
        "kill -9), train / export / encode / shards / binary index over a file-size limit (ulimit -f, "
        "EFBIG), UTF-16 without a BOM, a T5 config, weights pickled with code, an ONNX-only folder, constant "
        "dev labels, --max-steps beyond the data, equal labels for cosent / angle / softmax (streamed too), "
        "identical whitening lines, a --ray address that is not Ray, strict JSON, the quantiser's logging",
        "",
        "| # | case | expected | exit | clean | error line (or problem) |",
        "|---:|---|---|---:|---|---|",
    ]
    for i, r in enumerate(rows, 1):
        note = (r["problem"] or r["error_line"]).replace("|", "\\|").replace(str(work), "WORK")[:160]
        lines.append(
            f"| {i} | `{r['case']}` | {r['expect']} | {r['exit']} | {'yes' if r['clean'] else '**no**'} "
            f"| {note} |"
        )
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps(
            {"command": command, "version": __version__, "clean": clean, "runs": len(rows), "rows": rows},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"{clean} of {len(rows)} clean; wrote {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
