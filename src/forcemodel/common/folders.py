"""Writing a folder of files all at once: a failure never leaves it half-written."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
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
