"""The code's shape, kept as it is written down in the README: no function over 80 lines in
the harness or the adapters (the one-way stages are checked by `lint-imports`, which
`make test` runs before the tests)."""

from __future__ import annotations

import ast

from conftest import ROOT

MAX_LINES = 80


def test_no_function_is_over_80_lines():
    long = []
    for folder in ("bench", "adapters"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > MAX_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n})")
    assert not long, "functions over 80 lines: " + ", ".join(long)
