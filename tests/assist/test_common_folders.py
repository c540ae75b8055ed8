"""Atomic writes (forcemodel.common.folders): the old file or the new one, never a part."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from forcemodel.common.folders import atomic_write_text


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("old\n", encoding="utf-8")
    atomic_write_text(path, "a,b\r\n1,2\n")
    assert path.read_bytes() == b"a,b\r\n1,2\n"  # written as given, no newline translation
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(path, "half written \udcff")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_writers_of_the_same_file_never_share_a_temporary(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    texts = [f"{k}\n" * 2000 for k in range(8)]
    errors: list[BaseException] = []

    def write(text: str) -> None:
        try:
            for _ in range(20):
                atomic_write_text(path, text)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_text(encoding="utf-8") in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
