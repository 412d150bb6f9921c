"""Paper helpers: a saved figure is drawn once per file; the background preload imports quietly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from qdthermo.paper._common import save_figure
from qdthermo.paper.config import PaperConfig
from qdthermo.paper.pipeline import _import_quietly, preload_in_background


def test_save_figure_draws_once_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot(np.arange(4))
    fig.tight_layout()  # leaves a placeholder layout engine, for which savefig would draw once more
    engine = fig.get_layout_engine()
    draws = []
    original = Figure.draw

    def counted(self, renderer):  # type: ignore[no-untyped-def]
        draws.append(type(renderer).__name__)
        return original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    paths = save_figure(fig, tmp_path, "f", PaperConfig())
    assert [p.name for p in paths] == ["f.png", "f.svg"] and all(p.stat().st_size > 0 for p in paths)
    assert len(draws) == 2
    assert fig.get_layout_engine() is engine  # restored


def test_preload_skips_missing_modules() -> None:
    _import_quietly(("qdthermo_no_such_module", "json"))
    preload_in_background().join(timeout=60)
