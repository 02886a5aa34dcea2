"""One door for a model folder: each kind is told apart once, and the encoder is built from that."""

from __future__ import annotations

import json
import shutil

import pytest

from simsent.errors import ModelLoadError
from simsent.modeling.folder import describe_model_folder


def test_each_kind_of_folder_is_told_apart(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    assert describe_model_folder(tiny_bert).kind == "transformers"
    assert describe_model_folder("some-org/some-model").kind == "hub"
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="cls")
    model.save(str(tmp_path / "saved"))
    saved = describe_model_folder(str(tmp_path / "saved"))
    assert saved.kind == "simsent" and saved.config["pooling"] == "cls"
    shutil.copytree(tmp_path / "saved", tmp_path / "st")
    (tmp_path / "st" / "simsent_config.json").unlink()  # what sentence-transformers itself would write
    st = describe_model_folder(str(tmp_path / "st"))
    assert st.kind == "sentence-transformers" and st.st is not None
    again = SentenceEncoder.from_pretrained(str(tmp_path / "st"))
    assert again.pooling.mode == "cls"


def test_a_config_that_is_not_an_object_or_points_outside_is_refused(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    SentenceEncoder.from_pretrained(tiny_bert).save(str(tmp_path / "m"))
    cfg = tmp_path / "m" / "simsent_config.json"
    good = json.loads(cfg.read_text(encoding="utf-8"))
    cfg.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not a JSON object"):
        describe_model_folder(str(tmp_path / "m"))
    cfg.write_text(json.dumps({**good, "encoder_path": "../../etc"}), encoding="utf-8")
    with pytest.raises(ModelLoadError):
        SentenceEncoder.from_pretrained(str(tmp_path / "m"))
