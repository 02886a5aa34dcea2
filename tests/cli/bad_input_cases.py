"""The bad-input matrix: every command x every class of input a real user has.

Shared by ``tests/cli/test_bad_inputs.py`` (in-process) and ``bench/bad_inputs.py`` (the real console
script). Each case ends with exit 0 and correct output, or exit 2 with at most two lines on stderr and no
traceback. ``build_cases(work, tiny_bert)`` writes the inputs under ``work`` and returns the cases.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

OK, ERROR = "ok", "error"
WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")
#: a path no process may write, root included
UNWRITABLE = "/proc/simsent-cannot-write-here"
#: what a command reading labelled pairs (calibrate --pairs, fit --dev-file) must make of each input
PAIR_FILES = {
    "pairs.data": OK,
    "pairs_gb18030.data": OK,
    "pairs_bom.tsv": OK,
    "malformed.data": OK,
    "missing.data": ERROR,
    "empty.txt": ERROR,
    "nul.txt": ERROR,
    "garbage.txt": ERROR,
    "unknown_columns.csv": ERROR,
    "good.txt": ERROR,
}


@dataclass
class Case:
    """One command run: its arguments, the expected outcome, and an optional check of what it wrote."""

    name: str
    argv: list[str]
    expect: str
    check: Callable[[str, str], None] | None = None
    tags: list[str] = field(default_factory=list)
    #: run as a fresh process whose files may not grow past this many bytes (``ulimit -f``: EFBIG)
    file_size_limit: int | None = None


def _sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = ["".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) for _ in range(n)]
    return list(dict.fromkeys(out))


def write_inputs(work: Path) -> dict[str, str]:
    """Every input file of the matrix; returns name -> path."""
    work.mkdir(parents=True, exist_ok=True)
    sents = _sentences(24)
    pairs = [(a, b, i % 6) for i, (a, b) in enumerate(zip(sents, sents[1:] + sents[:1], strict=True))]
    f: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        path = work / name
        path.write_bytes(data)
        f[name] = str(path)

    text = "\n".join(sents) + "\n"
    put("good.txt", text.encode("utf-8"))
    put("gb18030.txt", text.encode("gb18030"))
    put("bom.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))
    put("crlf.txt", text.replace("\n", "\r\n").encode("utf-8"))
    put("long.txt", (text + "今" * 100_000 + "\n").encode("utf-8"))
    put("nul.txt", text.encode("utf-8") + b"\x00\x00abc\n")
    noise = random.Random(1)
    # high bytes with 0x80 and 0xFF (lead bytes that neither UTF-8 nor GB18030 allows) mixed in
    put("garbage.txt", b"".join(bytes([noise.randrange(128, 255), 0x80, 0xFF]) for _ in range(1000)))
    put("empty.txt", b"")
    put("blank.txt", b"\n  \n\t\n")
    pair_lines = "".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs)
    put("pairs.data", pair_lines.encode("utf-8"))
    put("pairs_gb18030.data", pair_lines.encode("gb18030"))
    put("pairs_crlf.data", pair_lines.replace("\n", "\r\n").encode("utf-8"))
    put("malformed.data", (pair_lines + "only one field\nx\ty\tnot-a-number\n").encode("utf-8"))
    put("bom.csv", ("\ufefftext,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(sents))).encode())
    put("unknown_columns.csv", ("foo,bar\n" + "".join(f"{s},1\n" for s in sents)).encode("utf-8"))
    put("pairs_bom.tsv", ("\ufeffsentence1\tsentence2\tlabel\n" + pair_lines).encode("utf-8"))
    seeds = "".join(
        json.dumps({"text": s, "label": "a" if i % 2 else "b"}, ensure_ascii=False) + "\n"
        for i, s in enumerate(sents[:6])
    )
    put("seeds.jsonl", seeds.encode("utf-8"))
    put("seeds_gb18030.jsonl", seeds.encode("gb18030"))
    nli = "sentence1\tsentence2\tlabel\n" + "".join(
        f"{a}\t{b}\t{lab}\n"
        for a, b in zip(sents[:6], sents[6:12], strict=True)
        for lab in ("entailment", "contradiction")
    )
    put("nli.tsv", nli.encode("utf-8"))
    put("nli_gb18030.tsv", nli.encode("gb18030"))
    put("a_file", b"not a folder\n")
    (work / "a_dir").mkdir(exist_ok=True)
    f["a_dir"] = str(work / "a_dir")
    data = work / "senteval"
    (data / "STS-B").mkdir(parents=True, exist_ok=True)
    (data / "STS-B" / "STS-B.valid.data").write_text(pair_lines, encoding="utf-8")
    f["data_dir"] = str(data)
    return f


def write_models(work: Path, tiny_bert: str) -> dict[str, str]:
    """A good simsent model, broken copies of it, and an index built with it."""
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.search import VectorIndex

    m: dict[str, str] = {}
    good = work / "model"
    if not good.exists():
        SentenceEncoder.from_pretrained(tiny_bert, max_len=32).save(str(good))
    m["model"] = str(good)
    for name, breakage in (
        ("truncated_weights", lambda p: _truncate(p / "model.safetensors")),
        ("garbage_weights", lambda p: (p / "model.safetensors").write_bytes(b"\x13" * 300)),
        ("corrupt_config", lambda p: (p / "simsent_config.json").write_text("{not json", encoding="utf-8")),
        ("corrupt_hf_config", lambda p: (p / "config.json").write_text("[1, 2", encoding="utf-8")),
    ):
        path = work / name
        if not path.exists():
            shutil.copytree(good, path)
            breakage(path)
        m[name] = str(path)
    index = work / "index"
    if not index.exists():
        model = SentenceEncoder.load(str(good))
        VectorIndex.build(model, work / "good.txt", model_path=str(good)).save(str(index))
    m["index"] = str(index)
    for name, breakage in (
        ("index_bad_json", lambda p: (p / "index.json").write_text("{", encoding="utf-8")),
        ("index_bad_records", lambda p: (p / "records.jsonl").write_text('{"id": 1\n', encoding="utf-8")),
        (
            "index_bad_vectors",
            lambda p: [(p / n).write_bytes(b"junk") for n in os.listdir(p) if n.startswith("vectors")],
        ),
    ):
        path = work / name
        if not path.exists():
            shutil.copytree(index, path)
            breakage(path)
        m[name] = str(path)
    return m


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def busy_port() -> tuple[socket.socket, int]:
    """A listening socket on 127.0.0.1 (keep it open while the case runs) and its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


def build_cases(work: Path, tiny_bert: str, port: int | None = None) -> list[Case]:
    """The whole matrix (``port``: a port already in use, for ``serve``)."""
    f = write_inputs(work)
    m = write_models(work, tiny_bert)
    out = str(work / "out")
    cases: list[Case] = []
    fast_train = [
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
        "--no-resume",
        "--max-len",
        "16",
    ]

    def add(name, argv, expect, check=None, limit=None):
        cases.append(Case(name, [str(a) for a in argv], expect, check, file_size_limit=limit))

    def wrote(path):
        def check(_out, _err):
            assert os.path.exists(path), f"{path} was not written"

        return check

    # ---------------------------------------------------------------- input files, per command
    readable = {
        "good.txt": OK,
        "gb18030.txt": OK,
        "bom.txt": OK,
        "crlf.txt": OK,
        "long.txt": OK,
        "pairs.data": OK,
        "pairs_gb18030.data": OK,
        "pairs_crlf.data": OK,
        "malformed.data": OK,
        "bom.csv": OK,
        "missing.txt": ERROR,
        "empty.txt": ERROR,
        "blank.txt": ERROR,
        "a_dir": ERROR,
        "nul.txt": ERROR,
        "garbage.txt": ERROR,
        "unknown_columns.csv": ERROR,
    }

    def src(name):
        return f.get(name, str(work / name))

    for name, expect in readable.items():
        o = f"{out}/train-{name}"
        add(
            f"train --train-file {name}",
            ["train", "--model", m["model"], "--train-file", src(name), "--output", o, *fast_train],
            expect,
            wrote(o) if expect == OK else None,
        )
        o = f"{out}/encode-{name}.npy"

        def enc_check(_o, err, o=o, name=name):
            import numpy as np

            vecs = np.load(o)
            assert vecs.ndim == 2 and len(vecs) > 0 and np.isfinite(vecs).all(), name

        add(
            f"encode --input {name}",
            ["encode", m["model"], "--input", src(name), "--output", o],
            expect,
            enc_check if expect == OK else None,
        )
        add(
            f"whiten --corpus {name}",
            ["whiten", m["model"], "--corpus", src(name), "--output", f"{out}/whiten-{name}", "--dim", "4"],
            expect,
        )
        add(
            f"index build --corpus {name}",
            ["index", "build", m["model"], "--corpus", src(name), "--output", f"{out}/index-{name}"],
            expect,
        )
        add(
            f"pretrain --corpus {name}",
            [
                "pretrain",
                "--corpus",
                src(name),
                "--output",
                f"{out}/mlm-{name}",
                "--layers",
                "1",
                "--hidden",
                "16",
                "--heads",
                "2",
                "--max-steps",
                "2",
                "--batch-size",
                "4",
                "--no-progress",
            ],
            expect,
        )
        add(
            f"distill --corpus {name}",
            [
                "distill",
                "--teacher",
                m["model"],
                "--corpus",
                src(name),
                "--output",
                f"{out}/distill-{name}",
                "--epochs",
                "1",
                "--cache-dir",
                f"{out}/cache",
                "--emb-dim",
                "8",
                "--filters",
                "4",
            ],
            expect,
        )
    for name, expect in PAIR_FILES.items():
        add(
            f"calibrate --pairs {name}",
            [
                "calibrate",
                m["model"],
                "--pairs",
                src(name),
                "--output",
                f"{out}/cal-{name}",
                "--positive-threshold",
                "4",
            ],
            expect,
        )
        add(
            f"train cosent --train-file {name}",
            [
                "train",
                "--model",
                m["model"],
                "--train-file",
                src(name),
                "--objective",
                "cosent",
                "--output",
                f"{out}/cosent-{name}",
                *fast_train,
            ],
            expect,
        )
    for name, expect in {
        "seeds.jsonl": OK,
        "seeds_gb18030.jsonl": OK,
        "good.txt": ERROR,
        "empty.txt": ERROR,
        "nul.txt": ERROR,
        "missing.jsonl": ERROR,
    }.items():
        add(
            f"mine --seeds {name}",
            [
                "mine",
                m["model"],
                "--seeds",
                src(name),
                "--pool",
                f["good.txt"],
                "--threshold",
                "0.5",
                "--output",
                f"{out}/mined-{name}.jsonl",
            ],
            expect,
        )
    for name, expect in {"gb18030.txt": OK, "bom.txt": OK, "empty.txt": ERROR, "garbage.txt": ERROR}.items():
        add(
            f"mine --pool {name}",
            ["mine", m["model"], "--seeds", f["seeds.jsonl"], "--pool", src(name), "--threshold", "0.5"],
            expect,
        )
        add(
            f"index add --corpus {name}",
            ["index", "add", _copy_index(m["index"], work, name), "--corpus", src(name)],
            expect,
        )
    for name, expect in {
        "nli.tsv": OK,
        "nli_gb18030.tsv": OK,
        "empty.txt": ERROR,
        "nul.txt": ERROR,
        "unknown_columns.csv": ERROR,
        "missing.tsv": ERROR,
    }.items():
        add(
            f"data nli-to-triplets {name}",
            ["data", "nli-to-triplets", src(name), f"{out}/trip-{name}.jsonl"],
            expect,
        )

    fast_fit = ["--recipes", "raw", "--poolings", "mean", "--whiten-dims", "4", "--max-len", "16"]
    for name, expect in PAIR_FILES.items():
        o = f"{out}/fit-dev-{name}"
        add(
            f"fit --dev-file {name}",
            [
                "fit",
                "--model",
                m["model"],
                "--train-file",
                f["good.txt"],
                "--dev-file",
                src(name),
                "--output",
                o,
                *fast_fit,
            ],
            expect,
            wrote(os.path.join(o, "leaderboard.md")) if expect == OK else None,
        )
    for name, expect in {
        "gb18030.txt": OK,
        "bom.txt": OK,
        "pairs.data": OK,
        "empty.txt": ERROR,
        "blank.txt": ERROR,
        "a_dir": ERROR,
        "nul.txt": ERROR,
        "garbage.txt": ERROR,
    }.items():
        add(
            f"fit --train-file {name}",
            [
                "fit",
                "--model",
                m["model"],
                "--train-file",
                src(name),
                "--dev-file",
                f["pairs.data"],
                "--output",
                f"{out}/fit-train-{name}",
                *fast_fit,
            ],
            expect,
        )
        add(
            f"sweep --extra-text {name}",
            [
                "sweep",
                "--model",
                m["model"],
                "--task",
                "STS-B",
                "--data-dir",
                f["data_dir"],
                "--sizes",
                "4",
                "--seeds",
                "1",
                "--batch-size",
                "4",
                "--max-len",
                "16",
                "--extra-text",
                src(name),
                "--output",
                f"{out}/sweep-{name}",
            ],
            expect,
        )
    add(
        "sweep data dir missing",
        [
            "sweep",
            "--model",
            m["model"],
            "--data-dir",
            str(work / "no-data"),
            "--output",
            f"{out}/sweep-nodata",
        ],
        ERROR,
    )

    # ---------------------------------------------------------------- models
    for name in ("truncated_weights", "garbage_weights", "corrupt_config", "corrupt_hf_config"):
        add(
            f"encode model={name}",
            ["encode", m[name], "--input", f["good.txt"], "--output", f"{out}/x.npy"],
            ERROR,
        )
        add(f"similarity model={name}", ["similarity", m[name], "今天", "明天"], ERROR)
        add(
            f"train --model {name}",
            [
                "train",
                "--model",
                m[name],
                "--train-file",
                f["good.txt"],
                "--output",
                f"{out}/t-{name}",
                *fast_train,
            ],
            ERROR,
        )
        add(f"eval model={name}", ["eval", m[name], "--tasks", "STS-B", "--data-dir", f["data_dir"]], ERROR)
    add(
        "calibrate graded labels without --positive-threshold",
        ["calibrate", m["model"], "--pairs", f["pairs.data"], "--output", f"{out}/cal-graded"],
        ERROR,
    )
    add("similarity missing model", ["similarity", str(work / "no-model"), "a", "b"], ERROR)
    add("similarity empty text", ["similarity", m["model"], " ", "b"], ERROR)
    add("similarity zero-width text", ["similarity", m["model"], "\u200b\u200d", "b"], ERROR)
    add("eval ok", ["eval", m["model"], "--tasks", "STS-B", "--data-dir", f["data_dir"]], OK)

    # ---------------------------------------------------------------- indexes
    for name in ("index_bad_json", "index_bad_records", "index_bad_vectors"):
        add(f"index search {name}", ["index", "search", m[name], "今天"], ERROR)
        add(f"index add {name}", ["index", "add", m[name], "--corpus", f["good.txt"]], ERROR)
    add("index search empty query", ["index", "search", m["index"], ""], ERROR)
    add("index search blank query", ["index", "search", m["index"], "  "], ERROR)
    add("index search ok", ["index", "search", m["index"], "今天天气"], OK)
    add("index search -k 0", ["index", "search", m["index"], "今天", "-k", "0"], ERROR)
    add("index search missing", ["index", "search", str(work / "no-index"), "今天"], ERROR)

    # ---------------------------------------------------------------- output paths
    outputs = {"existing file": f["a_file"], "under a file": f["a_file"] + "/sub", "not writable": UNWRITABLE}
    for what, path in outputs.items():
        add(
            f"fit --output {what}",
            [
                "fit",
                "--model",
                m["model"],
                "--train-file",
                f["good.txt"],
                "--dev-file",
                f["pairs.data"],
                "--output",
                path,
                *fast_fit,
            ],
            ERROR,
        )
        add(
            f"sweep --output {what}",
            ["sweep", "--model", m["model"], "--data-dir", f["data_dir"], "--sizes", "4", "--output", path],
            ERROR,
        )
        add(
            f"train --output {what}",
            ["train", "--model", m["model"], "--train-file", f["good.txt"], "--output", path, *fast_train],
            ERROR,
        )
        add(
            f"encode --output {what}",
            [
                "encode",
                m["model"],
                "--input",
                f["good.txt"],
                "--output",
                path + ("" if what == "existing file" else "/v.npy"),
            ],
            ERROR if what != "existing file" else OK,
        )
        add(
            f"whiten --output {what}",
            ["whiten", m["model"], "--corpus", f["good.txt"], "--output", path],
            ERROR,
        )
        add(
            f"index build --output {what}",
            ["index", "build", m["model"], "--corpus", f["good.txt"], "--output", path],
            ERROR,
        )
        add(
            f"pretrain --output {what}",
            [
                "pretrain",
                "--corpus",
                f["good.txt"],
                "--output",
                path,
                "--layers",
                "1",
                "--hidden",
                "16",
                "--heads",
                "2",
                "--max-steps",
                "1",
                "--no-progress",
            ],
            ERROR,
        )
        add(
            f"eval --output {what}",
            [
                "eval",
                m["model"],
                "--tasks",
                "STS-B",
                "--data-dir",
                f["data_dir"],
                "--output",
                path + "/m.json",
            ],
            ERROR,
        )
        add(
            f"mine --output {what}",
            [
                "mine",
                m["model"],
                "--seeds",
                f["seeds.jsonl"],
                "--pool",
                f["good.txt"],
                "--threshold",
                "0.5",
                "--output",
                path + "/m.jsonl",
            ],
            ERROR,
        )
        add(
            f"data nli-to-triplets output {what}",
            ["data", "nli-to-triplets", f["nli.tsv"], path + "/t.jsonl"],
            ERROR,
        )
    add(
        "encode output without .npy",
        ["encode", m["model"], "--input", f["good.txt"], "--output", f"{out}/vectors.bin"],
        OK,
        wrote(f"{out}/vectors.bin"),
    )

    # ---------------------------------------------------------------- numbers and devices
    for flag, value in (
        ("--lr", "nan"),
        ("--lr", "-1"),
        ("--lr", "inf"),
        ("--batch-size", "0"),
        ("--epochs", "0"),
        ("--max-len", "0"),
        ("--temperature", "0"),
        ("--dropout", "nan"),
        ("--warmup-ratio", "nan"),
        ("--device", "gpu9"),
        ("--device", "cuda:77"),
    ):
        argv = [
            "train",
            "--model",
            m["model"],
            "--train-file",
            f["good.txt"],
            "--output",
            f"{out}/n",
            *fast_train,
        ]
        argv = [a for a in argv]  # the flag under test comes last and wins
        add(f"train {flag} {value}", [*argv, flag, value], ERROR)
    for flag, value in (
        ("--lr", "nan"),
        ("--batch-size", "0"),
        ("--mlm-probability", "nan"),
        ("--max-minutes", "nan"),
        ("--device", "cuda:77"),
        ("--device", "tpu"),
    ):
        add(
            f"pretrain {flag} {value}",
            [
                "pretrain",
                "--corpus",
                f["good.txt"],
                "--output",
                f"{out}/p",
                "--layers",
                "1",
                "--hidden",
                "16",
                "--heads",
                "2",
                "--max-steps",
                "1",
                "--no-progress",
                flag,
                value,
            ],
            ERROR,
        )
    for flag, value in (("--lr", "nan"), ("--epochs", "0"), ("--batch-size", "0")):
        add(
            f"distill {flag} {value}",
            [
                "distill",
                "--teacher",
                m["model"],
                "--corpus",
                f["good.txt"],
                "--output",
                f"{out}/d",
                "--cache-dir",
                f"{out}/cache",
                flag,
                value,
            ],
            ERROR,
        )
    add(
        "whiten --dim 0",
        ["whiten", m["model"], "--corpus", f["good.txt"], "--output", f"{out}/w0", "--dim", "0"],
        ERROR,
    )
    add(
        "whiten --eps nan",
        ["whiten", m["model"], "--corpus", f["good.txt"], "--output", f"{out}/w1", "--eps", "nan"],
        ERROR,
    )
    add(
        "eval --batch-size 0",
        ["eval", m["model"], "--tasks", "STS-B", "--data-dir", f["data_dir"], "--batch-size", "0"],
        ERROR,
    )
    add(
        "mine --threshold nan",
        ["mine", m["model"], "--seeds", f["seeds.jsonl"], "--pool", f["good.txt"], "--threshold", "nan"],
        ERROR,
    )
    add(
        "encode --device cuda:77",
        ["encode", m["model"], "--input", f["good.txt"], "--output", f"{out}/d.npy", "--device", "cuda:77"],
        ERROR,
    )
    if port is not None:
        add("serve port in use", ["serve", m["model"], "--port", str(port)], ERROR)
    add("serve broken model", ["serve", m["corrupt_config"]], ERROR)
    add("serve --port -1", ["serve", m["model"], "--port", "-1"], ERROR)
    sents = _sentences(24)
    for case in _sibling("r2").round2_cases(work / "round2", tiny_bert, f, m["model"], sents, fast_train):
        add(*case)
    f["data_dir_constant"] = _sibling("r2").write_constant_sts(work / "round3", sents)
    for case in _sibling("r3").round3_cases(work / "round3", f, m["model"], sents, fast_train, port):
        add(*case)
    return cases


def _sibling(round_name: str):
    """``bad_input_cases_<round_name>`` beside this file (loaded by path, not as a package)."""
    import importlib.util
    import sys

    name = f"bad_input_cases_{round_name}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_console(case: Case) -> tuple[int, str, str]:
    """``simsent`` with the case's arguments as a fresh process (under its file-size limit, if any)."""
    return _sibling("r3").run_console(case.argv, case.file_size_limit)


def _copy_index(index: str, work: Path, tag: str) -> str:
    """A private copy of the good index, so that cases adding to it do not see each other."""
    path = work / f"index-copy-{tag}"
    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(index, path)
    return str(path)


def judge(case: Case, code: int, out: str, err: str) -> str | None:
    """``None`` when the run ended as the matrix asks, else what went wrong (one line)."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if "Traceback" in err or "Traceback" in out:
        return f"traceback (exit {code})"
    if case.expect == OK:
        if code != 0:
            return f"exit {code}, expected 0: {lines[-1] if lines else ''}"
        if case.check is not None:
            try:
                case.check(out, err)
            except Exception as exc:  # the check's own message names the problem
                return f"wrong output: {exc}"
        return None
    if code != 2:
        return f"exit {code}, expected 2: {lines[-1] if lines else out.strip()[-200:]}"
    errors = [line for line in lines if line.startswith("error:")]
    if not errors:
        return f"no 'error:' line: {lines[-1] if lines else ''}"
    if len(errors) > 1 or len(errors[0]) > 600:
        return "more than one error line, or an error line of over 600 characters"
    return None
