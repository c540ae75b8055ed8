"""Run the docs' code blocks and compare every shown output with what the command prints.

Blocks are marked by their info string:

- ```` ```bash run ```` : shell lines, each ``forcemodel ...`` (run in-process),
  ``mkdir -p DIR``, ``cat FILE`` or a ``cat > FILE <<'EOF'`` (or ``>>``, to append)
  here-document; expected exit status 0;
  ```` ```bash run exit=2 ````: the same, the last line expected to exit with status 2;
- ```` ```python run ````: Python, run in one namespace shared by all Python blocks of a page;
- ```` ```text output ````: right after a run block: exactly what that block printed;
  ```` ```text output lines=A-B ```` shows only lines A to B (1-based) of it, and
  ```` ```text output match=WORD ```` only the lines that contain WORD.

The comparison is exact, line by line, after normalising only what must vary from run to run
(trailing spaces, the forcemodel version); tables are printed at a fixed terminal width.

Every ```` ```bash ```` block of a page must be marked ``run``, so none escapes testing.

When a change of the code changes what the commands print, regenerate every output block of
every page in one command (then read the diff before committing it)::

    python -m tests.cli.docs_blocks --update        # or: FORCEMODEL_UPDATE_DOCS=1 pytest ...
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The pages whose blocks run, in the order they are run (each in a fresh folder).
PAGES = (DOCS / "tutorial.md",)
#: The terminal width the outputs are shown at.
WIDTH = 100
#: Set to regenerate the output blocks instead of checking them.
UPDATE_ENV = "FORCEMODEL_UPDATE_DOCS"

FENCE = re.compile(r"^```(\S*)(.*)$")
HEREDOC = re.compile(r"^cat (>>?) (\S+) <<'EOF'$")


@dataclass
class Block:
    lang: str
    tags: list[str]
    code: str
    line: int  # the fence's line (1-based)
    end: int  # the closing fence's line (1-based)
    output: Block | None = None  # the output block that follows, if any

    def tag(self, name: str) -> str | None:
        for tag in self.tags:
            if tag.startswith(f"{name}="):
                return tag.split("=", 1)[1]
        return None

    @property
    def expected_exit(self) -> int:
        return int(self.tag("exit") or 0)


@dataclass
class Page:
    path: Path
    lines: list[str]
    blocks: list[Block] = field(default_factory=list)


def read_page(path: Path) -> Page:
    """The run blocks of a page, each with the output block right after it (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page(path, lines)
    previous: Block | None = None
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                previous = None
            i += 1
            continue
        lang, tags, start = m.group(1), m.group(2).split(), i + 1
        end = start
        while not lines[end].startswith("```"):
            end += 1
        block = Block(lang, tags, "\n".join(lines[start:end]) + "\n", i + 1, end + 1)
        where = f"{path.name}:{i + 1}"
        if lang == "bash":
            assert "run" in tags, f"{where}: bash block not marked `run`"
        if "run" in tags:
            page.blocks.append(block)
            previous = block
        elif lang == "text" and "output" in tags:
            assert previous is not None, f"{where}: output block after no run block"
            assert previous.output is None, f"{where}: a second output block for one run block"
            previous.output = block
            previous = None
        else:
            previous = None
        i = end + 1
    return page


def normalise(text: str) -> list[str]:
    """The lines of ``text`` without what must vary: trailing spaces, the version."""
    from forcemodel import __version__

    out = []
    for line in text.splitlines():
        line = line.rstrip().replace(f"forcemodel {__version__}", "forcemodel <version>")
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def shown(block: Block, printed: list[str]) -> list[str]:
    """The part of ``printed`` that the output block shows (its ``lines=``/``match=``)."""
    assert block.output is not None
    span = block.output.tag("lines")
    word = block.output.tag("match")
    if span is not None:
        a, _, b = span.partition("-")
        return printed[int(a) - 1 : int(b or a)]
    if word is not None:
        return [line for line in printed if word in line]
    return printed


def run_bash(block: Block, page: Page, cwd: Path) -> tuple[int, str]:
    """Run the lines of a bash block; return the last exit status and the combined output."""
    from typer.testing import CliRunner

    from forcemodel.cli import app

    runner = CliRunner()
    lines = block.code.splitlines()
    output, status = [], 0
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        where = f"{page.path.name}:{block.line + 1 + i}"
        i += 1
        if not line or line.startswith("#"):
            continue
        if m := HEREDOC.match(line):
            end = lines.index("EOF", i)
            with (cwd / m.group(2)).open("a" if m.group(1) == ">>" else "w", encoding="utf-8") as f:
                f.write("\n".join(lines[i:end]) + "\n")
            i = end + 1
            continue
        words = shlex.split(line, comments=True)
        if words[:2] == ["mkdir", "-p"]:
            for d in words[2:]:
                (cwd / d).mkdir(parents=True, exist_ok=True)
            continue
        if words[0] == "cat" and len(words) == 2:
            output.append((cwd / words[1]).read_text(encoding="utf-8"))
            continue
        assert words[0] == "forcemodel", f"{where}: the test cannot run `{line}`"
        result = runner.invoke(app, words[1:], env={"COLUMNS": str(WIDTH)})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{where}: `{line}` raised") from result.exception
        output.append(result.output)
        status = result.exit_code
        if status != 0 and i < len(lines):
            raise AssertionError(f"{where}: `{line}` exited {status}:\n{result.output}")
    return status, "".join(output)


def run_page(page: Page, cwd: Path) -> list[tuple[Block, list[str]]]:
    """Run every block of ``page`` in ``cwd``; each block with what its output block shows."""
    namespace: dict[str, Any] = {"__name__": "docs"}
    results = []
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for block in page.blocks:
            where = f"{page.path.name}:{block.line}"
            if block.lang == "bash":
                status, text = run_bash(block, page, cwd)
                assert status == block.expected_exit, (
                    f"{where}: exit status {status}, the page expects {block.expected_exit}:\n"
                    f"{text}"
                )
            elif block.lang == "python":
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):
                    exec(compile(block.code, where, "exec"), namespace)
                text = buffer.getvalue()
            else:
                raise AssertionError(f"{where}: cannot run a `{block.lang}` block")
            if block.output is not None:
                results.append((block, shown(block, normalise(text))))
    finally:
        os.chdir(old)
    return results


def mismatches(page: Page, cwd: Path) -> list[str]:
    """Every output block of ``page`` that differs from what its command printed, as a diff."""
    import difflib

    found = []
    for block, got in run_page(page, cwd):
        assert block.output is not None
        want = block.output.code.splitlines()
        if want != got:
            diff = "\n".join(difflib.unified_diff(want, got, "page", "printed", lineterm=""))
            found.append(f"{page.path.name}:{block.output.line}: the output differs:\n{diff}")
    return found


def update(page: Page, cwd: Path) -> int:
    """Rewrite every output block of ``page`` with what its command prints; count changes."""
    lines = list(page.lines)
    changed = 0
    # From the end, so that earlier line numbers stay right.
    for block, got in reversed(run_page(page, cwd)):
        assert block.output is not None
        start, end = block.output.line, block.output.end - 1  # the body, 0-based [start, end)
        if lines[start:end] != got:
            lines[start:end] = got
            changed += 1
    page.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    """``python -m tests.cli.docs_blocks [--update]``: check (or regenerate) every page."""
    doing_update = "--update" in argv
    failed = 0
    for path in PAGES:
        with tempfile.TemporaryDirectory() as tmp:
            page = read_page(path)
            if doing_update:
                n = update(page, Path(tmp))
                print(f"{path.relative_to(DOCS.parent)}: {n} output block(s) regenerated")
            else:
                for problem in mismatches(page, Path(tmp)):
                    print(problem)
                    failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
