"""docs/architecture.md: every recipe runs, and what it registers works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qdthermo.kinetics.steady import STEADY_STATE_ROUTES
from qdthermo.thermo.registry import OBSERVABLES, unregister

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_recipes_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    try:
        for k, block in enumerate(blocks):
            exec(compile(block, f"{DOC}:block{k}", "exec"), {})
        out = capsys.readouterr().out.splitlines()
        assert out[0].endswith(" energy")  # the observable's units
        route, diff = out[1].split()
        assert route == "null_space" and float(diff) < 1e-12
        assert (tmp_path / "entropy_production.png").stat().st_size > 1000
    finally:
        if "heat_per_electron_t" in OBSERVABLES:
            unregister("heat_per_electron_t")
        STEADY_STATE_ROUTES.pop("null_space", None)
