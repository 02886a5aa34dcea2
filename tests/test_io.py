"""simsent._io: what a user's files and disks can do to a run (encodings, pipes, permissions, disk full)."""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from simsent import _io
from simsent.errors import DataError

SIMPLIFIED = "我们今天去北京吃饭，这个问题应该怎么处理？请问银行账户的密码忘记了怎么办。开通花呗额度\n"
TRADITIONAL = "我們今天去台北吃飯，這個問題應該怎麼處理？請問銀行帳戶的密碼忘記了怎麼辦。開通花唄額度\n"


@pytest.fixture(autouse=True)
def _no_forced_encoding(monkeypatch):
    monkeypatch.delenv(_io.ENCODING_ENV, raising=False)


def test_big5_is_told_from_gbk(tmp_path):
    (tmp_path / "big5.txt").write_bytes((TRADITIONAL * 10).encode("big5"))
    (tmp_path / "gbk.txt").write_bytes((SIMPLIFIED * 10).encode("gb18030"))
    assert _io.detect_encoding(tmp_path / "big5.txt") == "big5"
    assert _io.detect_encoding(tmp_path / "gbk.txt") == "gb18030"
    with _io.open_text(tmp_path / "big5.txt") as f:
        assert f.readline() == TRADITIONAL


def test_a_doubtful_gbk_or_big5_file_asks_for_the_encoding(tmp_path):
    (tmp_path / "x.txt").write_bytes(bytes([0xB0, 0xA1, 0x0A]))  # 啊 in GBK, 某 in Big5: both common
    with pytest.raises(DataError, match="pass --encoding gb18030 or --encoding big5"):
        _io.detect_encoding(tmp_path / "x.txt")


def test_a_forced_encoding_that_does_not_fit_names_the_offset(tmp_path, monkeypatch):
    (tmp_path / "gbk.txt").write_bytes(b"abc\n" + SIMPLIFIED.encode("gb18030"))
    monkeypatch.setenv(_io.ENCODING_ENV, "utf-8")
    with pytest.raises(DataError, match=r"not utf-8 \(--encoding\): undecodable byte at offset 4"):
        _io.detect_encoding(tmp_path / "gbk.txt")


def test_nul_bytes_anywhere_are_binary(tmp_path):
    (tmp_path / "late.txt").write_bytes(b"a\n" * 100_000 + b"\x00\n")
    with pytest.raises(DataError, match="NUL byte at offset 200000"):
        _io.detect_encoding(tmp_path / "late.txt")


def test_a_pipe_is_read_and_can_be_read_twice(tmp_path):
    from simsent.data.readers import read_pairs

    fifo = str(tmp_path / "pairs.data")
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w", encoding="utf-8") as f:
            f.write("今天\t明天\t1\n你好\t您好\t0\n")

    writer = threading.Thread(target=feed)
    writer.start()
    copy = _io.check_input_file(fifo)
    writer.join()
    assert copy != fifo and _io.check_input_file(fifo) == copy
    assert [r["score"] for r in read_pairs(copy)] == [1.0, 0.0]


def test_missing_file_under_an_unreadable_folder_says_permission_denied(tmp_path, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(os, "stat", denied)
    with pytest.raises(DataError, match="permission denied"):
        _io.check_input_file(str(tmp_path / "locked" / "x.txt"))


def test_a_path_under_a_file_and_a_folder_are_clear(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataError, match="part of the path is a file"):
        _io.check_input_file(str(tmp_path / "f" / "x.txt"))
    with pytest.raises(DataError, match="is a folder"):
        _io.check_input_file(str(tmp_path))


def test_tab_files_are_not_quoted(tmp_path):
    from simsent.data.readers import read_pairs, read_table

    (tmp_path / "t.tsv").write_text('sentence\n"开头引号\n第二行\n第三行\n', encoding="utf-8")
    assert [r["sentence"] for r in read_table(tmp_path / "t.tsv")] == ['"开头引号', "第二行", "第三行"]
    (tmp_path / "p.tsv").write_text('"甲\t乙\t1\n丙\t丁\t0\n', encoding="utf-8")
    assert len(read_pairs(tmp_path / "p.tsv")) == 2


def test_disk_full_is_one_line_with_the_path_and_the_space_needed(tmp_path):
    full = r"cannot write .*out\.npy: no space left on device \(.* free there, about 2\.0 MB needed\)"
    with pytest.raises(DataError, match=full), _io.write_guard(tmp_path / "out.npy", needed=2 << 20):
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(DataError, match="input/output error"), _io.write_guard(tmp_path / "out.npy"):
        raise OSError(errno.EIO, "Input/output error")
    with pytest.raises(PermissionError), _io.write_guard(tmp_path / "out.npy"):  # others pass through
        raise PermissionError(errno.EACCES, "denied")


def test_atomic_files_get_the_usual_permissions(tmp_path):
    _io.write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o666 & ~_io.umask()
    tmp = _io.temp_dir(str(tmp_path), "save")
    assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o777 & ~_io.umask()


def test_temp_folders_of_killed_runs_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    stale = tmp_path / f".tmp-save-{int(dead.stdout)}-abc"
    stale.mkdir()
    mine = tmp_path / f".tmp-save-{os.getpid()}-xyz"
    mine.mkdir()
    _io.temp_dir(str(tmp_path), "save")
    assert not stale.exists() and mine.exists()


def test_a_locked_output_is_refused_at_once(tmp_path):
    refused = pytest.raises(DataError, match="in use by another train run")
    with _io.folder_lock(tmp_path / "out", "train"), refused, _io.folder_lock(tmp_path / "out", "train"):
        pass
    with _io.folder_lock(tmp_path / "out", "train"):  # released
        pass


def test_library_write_failures_reported_as_runtime_errors_are_one_line(tmp_path, monkeypatch):
    # torch.save's stream writer and faiss.write_index raise RuntimeError, not OSError, on a full disk
    monkeypatch.setattr(_io.faults, "_free_bytes", lambda where: 0)  # the disk is full
    for message in ("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598",
                    "Error in faiss::FileIOWriter: write error in x: No space left on device"):
        with pytest.raises(DataError, match="no space left on device"), _io.write_guard(tmp_path / "m"):
            raise RuntimeError(message)
    with pytest.raises(RuntimeError, match="other"), _io.write_guard(tmp_path / "m"):
        raise RuntimeError("other")


SAFETENSORS = "Error while serializing: I/O error: {} (os error {})"


@pytest.mark.parametrize(
    "error,words",
    [
        (Exception(SAFETENSORS.format("No space left on device", 28)), "no space left.*512 bytes free there"),
        (Exception(SAFETENSORS.format("File too large", 27)), "file too large"),
        (OSError("9600 requested and 5088 written"), "no space left.*512 bytes free there"),  # numpy
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk quota exceeded.*512 bytes free there"),
        (RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), "no space left"),
    ],
    ids=["safetensors-enospc", "safetensors-efbig", "numpy-short", "edquot", "torch-short"],
)
def test_every_writer_s_words_for_a_failed_write_are_one_line(tmp_path, monkeypatch, error, words):
    monkeypatch.setattr(_io.faults, "_free_bytes", lambda where: 512)  # 512 bytes left
    guard = _io.write_guard(tmp_path / "m")
    with pytest.raises(DataError, match=rf"cannot write .*m: {words}") as info, guard:
        raise error
    assert "\n" not in str(info.value)


def test_a_short_write_with_room_left_is_named_as_such(tmp_path):
    with pytest.raises(DataError, match="write was cut short .*free there"), _io.write_guard(tmp_path / "m"):
        raise OSError("9600 requested and 5088 written")  # e.g. over ulimit -f


def test_a_save_inside_another_names_the_outer_path(tmp_path):
    outer = _io.write_guard(tmp_path / "final")
    with pytest.raises(DataError, match=r"cannot write .*/final: no space"), outer, \
            _io.write_guard(tmp_path / ".tmp-export-1/inner"):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_the_lock_file_goes_with_the_lock_even_when_the_block_fails(tmp_path):
    with pytest.raises(ZeroDivisionError), _io.folder_lock(tmp_path / "out", "train"):
        assert (tmp_path / "out.lock").exists()
        raise ZeroDivisionError
    assert not (tmp_path / "out.lock").exists()


def test_strict_json_has_null_where_python_would_write_nan(tmp_path):
    import json

    import numpy as np

    result = {"spearman": float("nan"), "v": np.float32(0.5), "a": np.array([np.inf])}
    _io.write_json(tmp_path / "r.json", result)
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"spearman": None, "v": 0.5, "a": [None]}
