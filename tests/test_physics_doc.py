"""docs/physics.md: it exists, its equations are numbered once each, and its Python blocks run.

The blocks run in order in one namespace (like the tutorial); each names the numbered
equations it checks, e.g. ``# checks (P1)-(P5)``, and every equation it names exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PHYSICS = Path(__file__).resolve().parents[1] / "docs" / "physics.md"


def _text() -> str:
    return PHYSICS.read_text(encoding="utf-8")


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", _text(), re.S)


def test_physics_doc_exists_with_numbered_equations() -> None:
    text = _text()
    tags = re.findall(r"\\tag\{(P\d+)\}", text)
    assert tags, "no numbered equations"
    assert len(tags) == len(set(tags)), "an equation number is used twice"
    assert tags == [f"P{k}" for k in range(1, len(tags) + 1)]  # numbered in order, no gap
    for heading in ("The model", "Pauli master equation", "Currents", "Entropy production",
                    "Forces and fluxes", "Response regimes", "Performance", "approximations fail",
                    "Corrections to the specification"):
        assert heading in text, heading
    # sign conventions stated
    assert "positive when it flows from a lead" in text and "k_B = \\hbar = e = 1" in text


def _labels(spec: str) -> set[str]:
    """``(P1)-(P5), (P9)`` -> {"P1", ..., "P5", "P9"}."""
    out: set[str] = set()
    for a, b in re.findall(r"\(P(\d+)\)(?:-\(P(\d+)\))?", spec):
        out.update(f"P{k}" for k in range(int(a), int(b or a) + 1))
    return out


def test_every_block_names_existing_equations() -> None:
    tags = set(re.findall(r"\\tag\{(P\d+)\}", _text()))
    blocks = _blocks()
    assert 3 <= len(blocks) <= 8
    checked: set[str] = set()
    for block in blocks:
        first = re.search(r"# checks (.*)", block)
        assert first, f"block without a '# checks (Pn)' line:\n{block[:200]}"
        names = _labels(block)
        assert names and names <= tags, names - tags
        checked |= names
    # the executable checks cover most numbered equations
    assert len(checked) >= 0.8 * len(tags), sorted(tags - checked)


@pytest.mark.filterwarnings("error")
def test_physics_doc_blocks_run() -> None:
    namespace: dict[str, object] = {}
    for k, block in enumerate(_blocks()):
        exec(compile(block, f"{PHYSICS}:block{k}", "exec"), namespace)
