"""RecordStore: records by position and id from a file, duplicate ids refused, hash clashes kept exact,
old index folders (records without offsets) still load, appending to a loaded index keeps both parts."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import DataError
from simsent.search import VectorIndex
from simsent.search import records as records_module
from simsent.search.records import OFFSETS, RecordStore


def test_records_come_back_by_position_and_id_after_save_and_open(tmp_path):
    store = RecordStore()
    store.append(["a", "b"], ["一", None], [{"k": 1}, {}])
    store.append(["c"], ["三"], [{}])
    assert [r["id"] for r in store] == ["a", "b", "c"] and store[1]["text"] is None
    assert store.position("c") == 2 and store.position("zz") is None
    store.save(str(tmp_path))
    opened = RecordStore.open(str(tmp_path))
    assert isinstance(opened._offsets[0], np.memmap)  # offsets stay on disk until read
    assert list(opened) == list(store) and opened.position("a") == 0 and opened[0]["payload"] == {"k": 1}


def test_duplicate_ids_are_refused_within_a_batch_and_against_earlier_rows():
    store = RecordStore()
    store.append(["a"], ["x"], [{}])
    with pytest.raises(DataError, match="duplicate id 'a'"):
        store.append(["b", "a"], ["y", "z"], [{}, {}])
    with pytest.raises(DataError, match="duplicate id 'q'"):
        store.append(["q", "q"], ["y", "z"], [{}, {}])
    assert len(store) == 1


def test_ids_that_share_a_hash_are_told_apart(monkeypatch, tmp_path):
    def clashing(ids):  # every id hashes to one of two values
        return np.array([len(i) % 2 for i in ids], np.uint64)

    monkeypatch.setattr(records_module, "id_hashes", clashing)
    store = RecordStore()
    store.append(["a", "b"], ["1", "2"], [{}, {}])
    store.append(["cc", "d"], ["3", "4"], [{}, {}])
    assert [store.position(i) for i in ["a", "b", "cc", "d", "e"]] == [0, 1, 2, 3, None]
    with pytest.raises(DataError, match="duplicate id 'b'"):
        store.append(["b"], ["5"], [{}])
    store.save(str(tmp_path))
    assert RecordStore.open(str(tmp_path)).position("d") == 3


def test_an_index_saved_before_record_offsets_loads_and_grows(tmp_path):
    idx = VectorIndex(4, engine="numpy")
    idx.add(np.eye(4), ids=["w", "x", "y", "z"], texts=["甲", "乙", "丙", "丁"])
    idx.save(tmp_path / "ix")
    for name in (OFFSETS, "records_id_hashes.npy", "records_id_order.npy"):  # format 1 had none of these
        (tmp_path / "ix" / name).unlink()
    old = VectorIndex.load(tmp_path / "ix")
    assert old.get("y")["text"] == "丙" and old.search(np.eye(4)[2:3], k=1).ids == [["y"]]
    old.add(np.ones((1, 4)), ids=["v"], texts=["戊"])
    with pytest.raises(DataError, match="duplicate"):
        old.add(np.ones((1, 4)), ids=["w"])
    old.save(tmp_path / "ix")
    again = VectorIndex.load(tmp_path / "ix")
    assert list(again.texts) == ["甲", "乙", "丙", "丁", "戊"] and again.get("v")["id"] == "v"
    assert (tmp_path / "ix" / OFFSETS).exists()


def test_a_cut_records_file_is_a_one_line_error(tmp_path):
    idx = VectorIndex(4, engine="numpy")
    idx.add(np.eye(4), texts=["a", "b", "c", "d"])
    idx.save(tmp_path / "ix")
    data = (tmp_path / "ix" / "records.jsonl").read_bytes()
    (tmp_path / "ix" / "records.jsonl").write_bytes(data[:-5])
    with pytest.raises(DataError, match="damaged|offsets"):
        VectorIndex.load(tmp_path / "ix")


def test_records_wait_beside_the_output_and_leave_nothing_behind(tmp_path):
    store = RecordStore(spool_dir=str(tmp_path))
    store.append(["a"], ["x"], [{}])
    spools = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-records-")]
    assert len(spools) == 1 and (spools[0] / "records.jsonl").exists()
    (tmp_path / "saved").mkdir()
    store.save(str(tmp_path / "saved"))
    store.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_a_full_spool_disk_is_one_line_naming_where(tmp_path, monkeypatch):
    import errno

    store = RecordStore(spool_dir=str(tmp_path))
    store.append(["a"], ["x"], [{}])

    class Full:
        def writelines(self, lines):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self): ...

        def close(self): ...

    monkeypatch.setattr(store, "_out", Full())
    with pytest.raises(DataError, match=f"cannot write {tmp_path}/.tmp-records-.*no space left on device"):
        store.append(["b"], ["y"], [{}])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
