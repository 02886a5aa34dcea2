import pytest

from simsent.data.tasks import TASKS, check_task, load_task, parse_tasks, positive_threshold, task_file
from simsent.errors import ConfigError, DataError


def test_registry(tmp_path):
    (tmp_path / "STS-B").mkdir()
    (tmp_path / "STS-B" / "STS-B.valid.data").write_text("a\tb\t5\n", encoding="utf-8")
    assert load_task("sts-b", "valid", str(tmp_path)) == [{"sentence1": "a", "sentence2": "b", "score": 5.0}]
    with pytest.raises(DataError, match="STS-B/STS-B.test.data"):
        task_file(str(tmp_path), "STS-B", "test")
    assert parse_tasks("all") == list(TASKS)
    assert parse_tasks("atec, bq") == ["ATEC", "BQ"]
    with pytest.raises(ConfigError):
        check_task("MNLI")
    assert positive_threshold("STS-B") == 4.0 and positive_threshold("BQ") == 1.0
