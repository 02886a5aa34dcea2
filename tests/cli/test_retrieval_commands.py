"""CLI: index build/add/search, calibrate, mine (through simsent.cli.main.main), serve (a subprocess)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改", "手机号码修改"]


@pytest.fixture(scope="module")
def model_dir(tiny_bert, tmp_path_factory):
    """A simsent folder of tiny_bert."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    out = str(tmp_path_factory.mktemp("tiny") / "model")
    SentenceEncoder.load(tiny_bert).save(out)
    return out


def test_index_build_add_search(model_dir, tmp_path, capsys, cli):
    corpus = tmp_path / "faq.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps({"id": f"q{i}", "text": t, "answer": f"a{i}"}, ensure_ascii=False)
            for i, t in enumerate(TEXTS[:4])
        )
        + "\n",
        encoding="utf-8",
    )
    ix = str(tmp_path / "ix")
    code, out, err = cli(
        "index", "build", model_dir, "--corpus", str(corpus), "--output", ix, "--backend", "hnsw"
    )
    assert code == 0, err
    assert "indexed 4 rows (hnsw" in out
    assert "is now --index-backend" in err  # the old spelling still works, with a notice
    more = tmp_path / "more.txt"
    more.write_text("\n".join(TEXTS[4:]) + "\n", encoding="utf-8")
    code, out, err = cli("index", "add", ix, "--corpus", str(more))
    assert code == 0, err
    assert "6 in total" in out
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "q1", "text": "我想去北京"}\n', encoding="utf-8")
    code, out, err = cli("index", "add", ix, "--corpus", str(dup))
    assert code == 2 and "duplicate id 'q1'" in err
    code, out, err = cli("index", "search", ix, "花呗怎么还款", "手机号码修改", "-k", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert (
        lines[0] == "query: 花呗怎么还款" and lines[1].split("\t")[2] == "q3" and '"answer": "a3"' in lines[1]
    )
    assert lines[3] == "query: 手机号码修改" and lines[4].split("\t")[3] == "手机号码修改"
    code, out, _ = cli("index", "search", ix, "今天天气不错", "-k", "1", "--json")
    assert json.loads(out)["hits"][0]["id"] == "q0"


def test_index_errors(model_dir, tiny_bert, tmp_path, capsys, cli):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    ix = str(tmp_path / "ix")
    assert cli("index", "build", model_dir, "--corpus", str(corpus), "--output", ix).code == 0
    from simsent.modeling.sentence_encoder import SentenceEncoder

    other = str(tmp_path / "other")
    SentenceEncoder.from_pretrained(tiny_bert, pooling="cls").save(other)
    code, _, err = cli("index", "search", ix, "今天", "--model", other)
    assert code == 2 and "another model" in err
    code, _, err = cli(
        "index", "build", model_dir, "--corpus", str(tmp_path / "nope.txt"), "--output", ix
    )
    assert code == 2 and "file not found" in err
    code, _, err = cli("index", "search", str(tmp_path / "nothing"), "q")
    assert code == 2 and "no index" in err
    code, _, err = cli(
        "index", "build", model_dir, "--corpus", str(corpus), "--output", ix, "--backend", "x"
    )
    assert code == 2 and "unknown index backend" in err


def test_calibrate_then_mine(model_dir, tmp_path, capsys, cli):
    work = str(tmp_path / "m")
    shutil.copytree(model_dir, work)
    pairs = tmp_path / "pairs.data"
    pairs.write_text(
        "今天天气不错\t今天天气很好\t1\n花呗怎么还款\t手机号码修改\t0\n我想去北京\t我想去上海\t1\n"
        "银行卡密码修改\t今天天气很好\t0\n",
        encoding="utf-8",
    )
    code, out, err = cli("calibrate", work, "--pairs", str(pairs), "--metric", "accuracy")
    assert code == 0, err
    assert "threshold" in out and f"stored in {work}" in out
    cfg = json.loads((tmp_path / "m" / "simsent_config.json").read_text(encoding="utf-8"))
    assert set(cfg["threshold"]) == {"value", "metric"} and cfg["threshold"]["metric"] == "accuracy"
    code, _, err = cli("calibrate", work, "--pairs", str(pairs), "--metric", "auc")
    assert code == 2 and "f1 or accuracy" in err

    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        '{"text": "花呗怎么还款", "label": "repay"}\n{"text": "今天天气不错", "label": "weather"}\n',
        encoding="utf-8",
    )
    pool = tmp_path / "pool.txt"
    pool.write_text("今天天气很好\n花呗怎么还钱\n今天天气不错\n", encoding="utf-8")
    out_file = tmp_path / "mined.jsonl"
    code, out, err = cli(
        "mine",
        work,
        "--seeds",
        str(seeds),
        "--pool",
        str(pool),
        "--output",
        str(out_file),
        "--threshold",
        "0.0",
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert {r["label"] for r in rows} == {"repay", "weather"}
    assert all(set(r) == {"label", "text", "score", "nearest_seed"} for r in rows)
    assert "今天天气不错" not in {r["text"] for r in rows}  # a seed is not a candidate
    code, out, err = cli(
        "mine", work, "--seeds", str(seeds), "--pool", str(pool)
    )  # calibrated threshold
    assert code == 0, err
    assert "mined" in err
    code, _, err = cli("mine", work, "--seeds", str(pool), "--pool", str(pool))
    assert code == 2 and "label" in err


def test_serve_command_starts_and_answers(model_dir):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")  # the [serve] extra
    pytest.importorskip("uvicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "simsent.cli.main", "-q", "serve", model_dir, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline, ok = time.time() + 60, False
        while time.time() < deadline and proc.poll() is None:
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert ok, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
        r = httpx.post(
            f"http://127.0.0.1:{port}/similarity", json={"sentences1": ["今天"], "sentences2": ["今天"]}
        )
        assert r.status_code == 200 and r.json()["scores"][0] == pytest.approx(1, abs=1e-4)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_eval_queries_in_a_faq_base(tiny_bert, tmp_path, cli):
    import json

    queries = tmp_path / "q.tsv"
    queries.write_text("花呗怎么还款\t花呗如何还款\n额度怎么提高\t怎样提高额度\n花呗怎么还款\t还款方式\n",
                       encoding="utf-8")
    faq = tmp_path / "faq.txt"
    faq.write_text("花呗如何还款\n怎样提高额度\n银行卡密码修改\n今天天气不错\n", encoding="utf-8")
    out = tmp_path / "r.json"
    r = cli("eval", tiny_bert, "--queries", queries, "--corpus", faq, "--output", out)
    assert r.code == 0, r.err
    assert "| queries | corpus | R@1 | R@5 | R@10 | mrr@10 | ndcg@10 |" in r.out
    got = json.loads(out.read_text(encoding="utf-8"))
    assert "tasks" not in got  # only the retrieval was asked for
    m = got["retrieval"]
    assert m["queries"] == 2 and m["corpus"] == 5  # '还款方式' added to the FAQ base
    assert 0 <= m["recall@1"] <= m["recall@5"] <= 100 and m["corpus_file"] == str(faq)
    r = cli("eval", tiny_bert, "--corpus", faq)
    assert r.code == 2 and "give --queries" in r.err
    empty = tmp_path / "none.tsv"
    empty.write_text("问题\t问题\n", encoding="utf-8")
    r = cli("eval", tiny_bert, "--queries", empty)
    assert r.code == 2 and "no query with a positive" in r.err
