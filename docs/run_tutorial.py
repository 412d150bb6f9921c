"""Execute a Markdown tutorial and embed each code block's printed output right after it.

Usage::

    python docs/run_tutorial.py docs/tutorial.md          # rewrite the outputs in place
    python docs/run_tutorial.py docs/tutorial.md --check  # exit 1 if an embedded output is stale

The ```python blocks run in order in one namespace (in a temporary folder, with the Agg
backend); after each block that prints, a ```text block headed ``Output:`` holds what it
printed.  ``--check`` (run by the tests) compares the embedded outputs with a fresh run,
numbers to a relative 1e-6 (last digits may differ between BLAS builds), text exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

BLOCK = re.compile(r"```python\n(.*?)```\n(?:\nOutput:\n\n```text\n.*?```\n)?", re.S)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def execute(text: str) -> list[str]:
    """Run every ```python block of ``text`` in one namespace; return what each printed."""
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict[str, object] = {}
    outputs = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for k, match in enumerate(BLOCK.finditer(text)):
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):
                    exec(compile(match.group(1), f"block{k}", "exec"), namespace)
                outputs.append(buffer.getvalue())
        finally:
            os.chdir(cwd)
    return outputs


def embed(text: str, outputs: list[str]) -> str:
    """``text`` with each block's output written after it (blocks that print nothing get none)."""
    it = iter(outputs)

    def replace(match: re.Match[str]) -> str:
        out = next(it)
        block = f"```python\n{match.group(1)}```\n"
        return block + (f"\nOutput:\n\n```text\n{out}```\n" if out else "")

    return BLOCK.sub(replace, text)


def embedded(text: str) -> list[str]:
    """The outputs embedded in ``text``, one per python block ('' where none)."""
    return [m.group(0).split("```text\n", 1)[1][:-4] if "Output:" in m.group(0) else "" for m in BLOCK.finditer(text)]


def same(a: str, b: str, rtol: float = 1e-6) -> bool:
    """Equal text, numbers equal to ``rtol`` (relative) or 1e-12 (absolute)."""
    if NUMBER.sub("#", a).split() != NUMBER.sub("#", b).split():
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if abs(fx - fy) > max(rtol * max(abs(fx), abs(fy)), 1e-12):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    args = parser.parse_args()
    text = args.path.read_text(encoding="utf-8")
    outputs = execute(text)
    if args.check:
        stale = [k for k, (old, new) in enumerate(zip(embedded(text), outputs)) if not same(old, new)]
        for k in stale:
            print(f"block {k}: the embedded output is stale", file=sys.stderr)
        return 1 if stale else 0
    args.path.write_text(embed(text, outputs), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
