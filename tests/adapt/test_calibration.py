"""Threshold calibration: the sweep, label handling, storing into the model folder."""

from __future__ import annotations

import json
import os

import pytest

from simsent.adapt.calibration import best_threshold, calibrate_model, pair_labels
from simsent.errors import ConfigError, DataError


def test_best_threshold_f1_and_accuracy():
    r = best_threshold([0.9, 0.8, 0.7, 0.3, 0.2], [1, 1, 0, 1, 0], metric="f1")
    # cut after 0.3 gives tp=3 fp=1 fn=0 -> f1 0.857 (better than 0.8 after the first two)
    assert r["value"] == pytest.approx(0.25) and r["f1"] == pytest.approx(6 / 7)
    a = best_threshold([0.9, 0.8, 0.7, 0.3, 0.2], [1, 1, 0, 1, 0], metric="accuracy")
    assert a["accuracy"] == pytest.approx(0.8) and a["metric"] == "accuracy"
    assert best_threshold([0.5, 0.5, 0.1], [1, 0, 0])["value"] == pytest.approx(0.3)  # never splits ties
    with pytest.raises(DataError, match="both"):
        best_threshold([0.1, 0.2], [1, 1])
    with pytest.raises(ConfigError):
        best_threshold([0.1, 0.2], [1, 0], metric="auc")


def test_pair_labels():
    assert pair_labels([{"score": 1}, {"score": 0}]).tolist() == [True, False]
    with pytest.raises(ConfigError, match="positive-threshold"):
        pair_labels([{"score": 4.5}, {"score": 1.0}])
    assert pair_labels([{"score": 4.5}, {"score": 1.0}], 4.0).tolist() == [True, False]


def test_calibrate_stores_threshold_in_simsent_folder(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    folder = str(tmp_path / "m")
    SentenceEncoder.load(tiny_bert).save(folder)
    (tmp_path / "m" / "train_history.json").write_text("{}")
    pairs = tmp_path / "pairs.data"
    pairs.write_text(
        "今天天气不错\t今天天气很好\t1\n花呗怎么还款\t修改密码\t0\n我想去北京\t我想去上海\t1\n"
        "吃饭\t银行卡借钱还款\t0\n",
        encoding="utf-8",
    )
    r = calibrate_model(folder, str(pairs), metric="accuracy")
    assert r["stored_in"] == folder
    loaded = SentenceEncoder.load(folder)
    assert loaded.extra_config["threshold"] == {"value": r["value"], "metric": "accuracy"}
    assert os.path.isfile(os.path.join(folder, "train_history.json"))  # other files kept
    with open(os.path.join(folder, "simsent_config.json"), encoding="utf-8") as f:
        assert json.load(f)["threshold_calibration"]["pairs"] == 4


def test_calibrate_plain_model_needs_output(tiny_bert, tmp_path):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text(
        '{"sentence1": "今天", "sentence2": "天气", "label": 1}\n'
        '{"sentence1": "花呗", "sentence2": "密码", "label": 0}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="--output"):
        calibrate_model(tiny_bert, str(pairs))
    out = str(tmp_path / "calibrated")
    r = calibrate_model(tiny_bert, str(pairs), output=out)
    from simsent.modeling.sentence_encoder import SentenceEncoder

    assert SentenceEncoder.load(out).extra_config["threshold"]["value"] == r["value"]
