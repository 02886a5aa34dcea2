"""Round 2 of the bad-input matrix: model folders users did not make, text files and labels that fooled
round 1, write faults a shell can cause, noise. Cases are built by ``round2_cases`` and added to the
matrix by ``bad_input_cases.build_cases``."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

OK, ERROR = "ok", "error"
SIMPLIFIED = "我们今天去北京吃饭这个问题应该怎么处理请问银行账户的密码忘记了怎么办开通花呗额度\n"
TRADITIONAL = "我們今天去台北吃飯這個問題應該怎麼處理請問銀行帳戶的密碼忘記了怎麼辦開通花唄額度\n"


def _st_model(tiny_bert: str, path: Path, *heads, pooling=("mean",), **kwargs) -> str:
    """A folder written by sentence-transformers itself from its own modules."""
    import torch
    from sentence_transformers import SentenceTransformer, models

    if not path.exists():
        torch.manual_seed(0)
        modules = [models.Transformer(tiny_bert, max_seq_length=32), models.Pooling(32, pooling_mode=pooling)]
        SentenceTransformer(modules=[*modules, *heads], device="cpu", **kwargs).save(str(path))
    return str(path)


def _broken_copy(tiny_bert: str, path: Path, breakage: Callable[[Path], None]) -> str:
    if not path.exists():
        shutil.copytree(tiny_bert, path)
        breakage(path)
    return str(path)


def _edit_json(name: str, **changes) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        cfg = json.loads((path / name).read_text(encoding="utf-8"))
        cfg.update(changes)
        (path / name).write_text(json.dumps(cfg), encoding="utf-8")

    return edit


def _add_module(kind: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        modules.append(
            {
                "idx": len(modules),
                "name": kind,
                "path": f"9_{kind}",
                "type": f"sentence_transformers.models.{kind}",
            }
        )
        (path / "modules.json").write_text(json.dumps(modules), encoding="utf-8")

    return edit


def write_models(work: Path, tiny_bert: str, good_model: str) -> dict[str, str]:
    """Hub-style folders (written by sentence-transformers) and broken Hugging Face folders."""
    import torch
    from sentence_transformers import models

    m: dict[str, str] = {}
    m["st_dense_relu_layernorm"] = _st_model(
        tiny_bert,
        work / "st_dense",
        models.Dense(32, 16, activation_function=torch.nn.ReLU()),
        models.LayerNorm(16),
        models.Normalize(),
    )
    m["st_cls_mean"] = _st_model(tiny_bert, work / "st_cls_mean", pooling=("cls", "mean"))
    m["st_prompts"] = _st_model(
        tiny_bert, work / "st_prompts", prompts={"query": "query: "}, default_prompt_name="query"
    )
    for kind in ("CNN", "LSTM", "StaticEmbedding"):
        m[f"st_{kind}"] = _broken_copy(m["st_cls_mean"], work / f"st_{kind}", _add_module(kind))
    m["st_no_prompt_tokens"] = _broken_copy(
        m["st_cls_mean"], work / "st_no_prompt", _edit_json("1_Pooling/config.json", include_prompt=False)
    )
    m["st_path_outside"] = _broken_copy(m["st_cls_mean"], work / "st_outside", _path_outside)
    m["config_3_layers"] = _broken_copy(
        tiny_bert, work / "cfg3", _edit_json("config.json", num_hidden_layers=3)
    )
    m["config_roberta"] = _broken_copy(
        tiny_bert, work / "cfg_roberta", _edit_json("config.json", model_type="roberta")
    )
    m["config_wide"] = _broken_copy(tiny_bert, work / "cfg_wide", _edit_json("config.json", hidden_size=64))
    m["no_tokenizer"] = _broken_copy(tiny_bert, work / "no_tok", _drop_tokenizer)
    m["vocab_too_big"] = _broken_copy(tiny_bert, work / "big_vocab", _grow_vocab)
    m["dense_path_outside"] = _broken_copy(
        good_model, work / "simsent_outside", _edit_json("simsent_config.json", dense_paths=["../../etc"])
    )
    return m


def _path_outside(path: Path) -> None:
    modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    modules[1]["path"] = "../.."
    (path / "modules.json").write_text(json.dumps(modules), encoding="utf-8")


def _drop_tokenizer(path: Path) -> None:
    for name in os.listdir(path):
        if name.startswith(("tokenizer", "vocab", "special")):
            os.remove(path / name)


def _grow_vocab(path: Path) -> None:
    (path / "tokenizer.json").unlink()
    with open(path / "vocab.txt", "a", encoding="utf-8") as f:
        f.write("".join(f"extra{i}\n" for i in range(50)))


def _pairs(sents: list[str], label: str) -> str:
    return "".join(f"{a}\t{b}\t{label}\n" for a, b in zip(sents, sents[1:], strict=False))


def write_inputs(work: Path, sents: list[str]) -> dict[str, str]:
    """Text files and labels round 1 did not hold."""
    f: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        (work / name).write_bytes(data)
        f[name] = str(work / name)

    put("big5.txt", (TRADITIONAL * 12).encode("big5"))
    put("gbk_simplified.txt", (SIMPLIFIED * 12).encode("gb18030"))
    put("gbk_or_big5.txt", bytes([0xB0, 0xA1, 0x0A]))
    put("late_nul.txt", ("\n".join(sents) + "\n").encode() * 4000 + b"\x00\n")
    put("quote.tsv", ("text\n" + '"' + sents[0] + "\n" + "\n".join(sents[1:]) + "\n").encode())
    put(
        "many_malformed.data",
        (_pairs(sents, "1") + "bad line\n" * 20_000).encode(),
    )
    put(
        "pairs_nan.data",
        "".join(
            f"{a}\t{b}\t{s}\n"
            for a, b, s in zip(sents, sents[1:], ["nan", "inf", *(i % 6 for i in range(30))], strict=False)
        ).encode(),
    )
    put("pairs_constant.data", _pairs(sents, "1").encode())
    put("pairs_identical.data", "".join(f"{a}\t{a}\t{i % 2}\n" for i, a in enumerate(sents)).encode())
    put(
        "seeds_null_label.jsonl",
        (
            json.dumps({"text": sents[0], "label": "a"})
            + "\n"
            + json.dumps({"text": sents[1], "label": None})
            + "\n"
        ).encode(),
    )
    put("one_sentence.txt", ((sents[0] + "\n") * 20).encode())
    f["data_dir_constant"] = write_constant_sts(work, sents)
    return f


def write_constant_sts(work: Path, sents: list[str]) -> str:
    """A data dir whose STS-B valid split has one label (3) on every pair: an undefined Spearman."""
    data = work / "senteval_constant" / "STS-B"
    data.mkdir(parents=True, exist_ok=True)
    (data / "STS-B.valid.data").write_text(
        "".join(f"{a}\t{b}\t3\n" for a, b in zip(sents, sents[1:], strict=False)), encoding="utf-8"
    )
    return str(work / "senteval_constant")


def _vectors_match_sentence_transformers(model: str, npy: str, texts_file: str) -> Callable[[str, str], None]:
    def check(_out: str, _err: str) -> None:
        import numpy as np
        from sentence_transformers import SentenceTransformer

        texts = [t for t in Path(texts_file).read_text(encoding="utf-8").splitlines() if t.strip()]
        theirs = SentenceTransformer(model, device="cpu").encode(texts)
        np.testing.assert_allclose(np.load(npy), theirs, atol=1e-5)

    return check


def _rows(npy: str, n: int) -> Callable[[str, str], None]:
    def check(_out: str, _err: str) -> None:
        import numpy as np

        assert len(np.load(npy)) == n, f"{len(np.load(npy))} rows, expected {n}"

    return check


def _quiet(max_lines: int) -> Callable[[str, str], None]:
    def check(_out: str, err: str) -> None:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) <= max_lines, f"{len(lines)} lines on stderr: {lines[:3]}"
        assert "faiss" not in err, "faiss speaks at INFO"

    return check


def _readable_by_others(path: str) -> Callable[[str, str], None]:
    def check(_out: str, _err: str) -> None:
        for root, _dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, n) for n in files)]:
                mode = stat.S_IMODE(os.stat(name).st_mode)
                assert mode & 0o004, f"{name} is not readable by others ({oct(mode)})"

    return check


def round2_cases(
    work: Path, tiny_bert: str, f: dict[str, str], good_model: str, sents: list[str], fast: list[str]
) -> list:
    """(name, argv, expect, check) of round 2 (``fast``: the matrix's short-training options)."""
    m = write_models(work, tiny_bert, good_model)
    f = {**f, **write_inputs(work, sents)}
    out = str(work / "out2")
    cases: list[tuple] = []

    def add(name, argv, expect, check=None):
        cases.append((name, [str(a) for a in argv], expect, check))

    for name in ("st_dense_relu_layernorm", "st_cls_mean", "st_prompts"):
        npy = f"{out}/{name}.npy"
        add(
            f"encode {name}",
            ["encode", m[name], "--input", f["good.txt"], "--output", npy],
            OK,
            _vectors_match_sentence_transformers(m[name], npy, f["good.txt"]),
        )
    for name in (
        "st_CNN",
        "st_LSTM",
        "st_StaticEmbedding",
        "st_no_prompt_tokens",
        "st_path_outside",
        "config_3_layers",
        "config_roberta",
        "config_wide",
        "no_tokenizer",
        "vocab_too_big",
        "dense_path_outside",
    ):
        add(
            f"encode {name}",
            ["encode", m[name], "--input", f["good.txt"], "--output", f"{out}/{name}.npy"],
            ERROR,
        )
    add("serve st_CNN", ["serve", m["st_CNN"]], ERROR)
    add(
        "train textcnn --pooling cls",
        [
            "train",
            "--model",
            "textcnn",
            "--train-file",
            f["good.txt"],
            "--pooling",
            "cls",
            "--output",
            f"{out}/cnn",
            *fast,
        ],
        ERROR,
    )
    add(
        "train one distinct sentence",
        [
            "train",
            "--model",
            good_model,
            "--train-file",
            f["one_sentence.txt"],
            "--output",
            f"{out}/one",
            *fast,
        ],
        ERROR,
    )
    n_good = len([t for t in Path(f["good.txt"]).read_text(encoding="utf-8").splitlines() if t.strip()])
    for name, expect, rows in (
        ("big5.txt", OK, 12),
        ("gbk_simplified.txt", OK, 12),
        ("gbk_or_big5.txt", ERROR, 0),
        ("late_nul.txt", ERROR, 0),
        ("quote.tsv", OK, n_good),
    ):
        npy = f"{out}/enc-{name}.npy"
        add(
            f"encode --input {name}",
            ["encode", good_model, "--input", f[name], "--output", npy],
            expect,
            _rows(npy, rows) if expect == OK else None,
        )
    add(
        "--encoding utf-8 on a GBK file",
        [
            "--encoding",
            "utf-8",
            "encode",
            good_model,
            "--input",
            f["gb18030.txt"],
            "--output",
            f"{out}/forced.npy",
        ],
        ERROR,
    )
    add(
        "encode 20,000 malformed lines",
        ["encode", good_model, "--input", f["many_malformed.data"], "--output", f"{out}/many.npy"],
        OK,
        _quiet(12),
    )
    add(
        "index build says nothing of faiss",
        ["index", "build", good_model, "--corpus", f["good.txt"], "--output", f"{out}/idx"],
        OK,
        _quiet(6),
    )
    add(
        "calibrate --pairs with nan/inf labels",
        [
            "calibrate",
            good_model,
            "--pairs",
            f["pairs_nan.data"],
            "--output",
            f"{out}/cal",
            "--positive-threshold",
            "4",
        ],
        OK,
    )
    add(
        "mine --seeds with a null label",
        [
            "mine",
            good_model,
            "--seeds",
            f["seeds_null_label.jsonl"],
            "--pool",
            f["good.txt"],
            "--output",
            f"{out}/mined.jsonl",
        ],
        ERROR,
    )
    add(
        "eval constant labels says undefined",
        ["eval", good_model, "--tasks", "STS-B", "--data-dir", f["data_dir_constant"]],
        OK,
        lambda o, e: (
            None
            if "spearman undefined: every label is 3" in o
            else (_ for _ in ()).throw(AssertionError("no reason given for the undefined spearman"))
        ),
    )
    fast_fit = ["--recipes", "raw", "--poolings", "mean", "--whiten-dims", "4", "--max-len", "16"]
    for name in ("pairs_constant.data", "pairs_identical.data"):
        add(
            f"fit --dev-file {name}",
            [
                "fit",
                "--model",
                good_model,
                "--train-file",
                f["good.txt"],
                "--dev-file",
                f[name],
                "--output",
                f"{out}/fit-{name}",
                *fast_fit,
            ],
            ERROR,
        )
    add(
        "similarity with a GBK argument",
        ["similarity", good_model, os.fsdecode("今天天气".encode("gbk")), "今天天气"],
        OK,
    )
    add(
        "similarity with undecodable bytes",
        ["similarity", good_model, os.fsdecode(b"\xff\xfe\xff"), "x"],
        ERROR,
    )
    add(
        "train writes a folder others can read",
        ["train", "--model", good_model, "--train-file", f["good.txt"], "--output", f"{out}/shared", *fast],
        OK,
        _readable_by_others(f"{out}/shared"),
    )
    return cases
