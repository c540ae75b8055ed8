"""Writing a file or a folder of files all at once: a failure never leaves it half-written.

The one place the tool writes atomically; temporary names are unique (process id and a
random tag), so two writers of the same path never share one.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _tag() -> str:
    """A name part no other writer uses at the same time: process id and a random tag."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a temporary sibling, flushed to disk and renamed
    over ``path`` (:func:`os.replace`): readers see the old file or the new one, never part of
    it. On a failure the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{_tag()}")
    try:
        with tmp.open("w", encoding=encoding, newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``path``; on success it replaces ``path``.

    Everything written into the yielded folder appears at ``path`` at once, by renames. If the
    block raises, or a rename fails, the temporary folder is removed and whatever was at
    ``path`` before is left (or put back) as it was.
    """
    path = Path(path)
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    tag = _tag()
    tmp = parent / f".{path.name}.tmp-{tag}"
    tmp.mkdir()
    old: Path | None = None
    try:
        yield tmp
        if path.exists() or path.is_symlink():
            old = parent / f".{path.name}.old-{tag}"
            path.rename(old)
        try:
            tmp.rename(path)
        except BaseException:
            if old is not None:
                old.rename(path)
                old = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
