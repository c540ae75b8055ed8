"""The package's layout, checked: import cycles, layers, module and function sizes, thin __init__s.

    python scripts/layout_check.py            # prints every finding; exit 1 if there is one
    python scripts/layout_check.py --graph    # also prints the import graph, one edge a line

Rules (docs/concepts.md, "Layout"):
- no cycle of imports between files (imports under ``if TYPE_CHECKING:`` do not count);
- an engine never imports a face (faces: ``cli``, ``report``, ``service``, ``web``);
- a package ``__init__`` only hands names on: imports, ``__all__``, a docstring, and the lazy
  ``__getattr__``/``__dir__`` of PEP 562;
- no module over 500 lines unless its docstring says why ("Long because ..." or "Why one
  module ...");
- no function body over 120 lines of code (signature and docstring not counted) unless its
  docstring says why (a compiled kernel's one loop).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
FACES = ("cli", "report", "service", "web", "__main__")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120
LAZY_INIT_FUNCTIONS = {"__getattr__", "__dir__"}
#: How a docstring says why its module is long.
REASONS = ("Long because", "Why one module")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.Module, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """The project modules that this module imports (the most specific module of each name)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("forcemodel"):
                    found.add(_nearest(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = here if is_package else here.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            if base.startswith("forcemodel"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else _nearest(base, modules))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(here)
    return found


def _nearest(name: str, modules: set[str]) -> str:
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def _init_has_logic(tree: ast.Module) -> list[str]:
    bad = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.If) and _type_checking(node):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            continue  # __all__, a table of lazy names, a version
        if isinstance(node, ast.Try) and all(
            isinstance(n, ast.Assign | ast.Import | ast.ImportFrom) for n in node.body
        ):
            continue  # try: __version__ = version(...) except ...
        if isinstance(node, ast.FunctionDef) and node.name in LAZY_INIT_FUNCTIONS:
            continue
        bad.append(f"line {node.lineno}: {type(node).__name__}")
    return bad


def check() -> tuple[list[str], dict[str, set[str]]]:
    """Every finding, and the import graph it was read from."""
    files = sorted(ROOT.rglob("*.py"))
    files = [f for f in files if "migrations" not in f.parts]
    modules = {module_name(f) for f in files}
    graph: dict[str, set[str]] = defaultdict(set)
    findings: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        name = module_name(path)
        graph[name] = imports(tree, name, path.name == "__init__.py", modules)
        rel = path.relative_to(ROOT.parent)
        lines = text.count("\n")
        doc = ast.get_docstring(tree) or ""
        if lines > MAX_MODULE_LINES and not any(m in doc for m in REASONS):
            findings.append(f"{rel}: {lines} lines, and its docstring does not say why")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # The body's code: not the signature (a command's options are declarations)
                # and not the docstring.
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:] or body
                length = (node.end_lineno or node.lineno) - body[0].lineno + 1
                if length > MAX_FUNCTION_LINES and "Long because" not in (
                    ast.get_docstring(node) or ""
                ):
                    findings.append(f"{rel}:{node.lineno}: function {node.name} has {length} lines")
        if path.name == "__init__.py":
            logic = _init_has_logic(tree)
            findings.extend(f"{rel}: logic in a package __init__ ({b})" for b in logic)
        if layer(name) not in FACES:
            for target in sorted(graph[name]):
                if layer(target) in FACES:
                    findings.append(f"{rel}: the engine module {name} imports the face {target}")
    for component in cycles(graph):
        findings.append("import cycle: " + " -> ".join(component))
    return findings, graph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="store_true", help="print the import graph")
    args = parser.parse_args()
    findings, graph = check()
    if args.graph:
        for source in sorted(graph):
            for target in sorted(graph[source]):
                print(f"{source} -> {target}")
    for finding in findings:
        print(finding)
    edges = sum(map(len, graph.values()))
    print(f"{len(graph)} modules, {edges} imports, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
