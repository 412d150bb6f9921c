"""The tutorial in docs/ is executed, block after block in one namespace, so it cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def test_tutorial_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace: dict[str, object] = {}
    for k, block in enumerate(blocks):
        exec(compile(block, f"{TUTORIAL}:block{k}", "exec"), namespace)
    assert (tmp_path / "tutorial_J_N.png").stat().st_size > 1000
