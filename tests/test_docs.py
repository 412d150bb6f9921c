"""The tutorial in docs/ is executed, block after block in one namespace, and the outputs it
shows (embedded by ``docs/run_tutorial.py``) must equal a fresh run: they cannot go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"


def _runner():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("run_tutorial", DOCS / "run_tutorial.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_runs_and_its_shown_outputs_are_current() -> None:
    run = _runner()
    text = TUTORIAL.read_text(encoding="utf-8")
    fresh = run.execute(text)
    shown = run.embedded(text)
    assert len(fresh) == len(shown) >= 10
    assert sum(bool(s) for s in shown) >= 8  # the outputs are shown, not only computed
    stale = [k for k, (old, new) in enumerate(zip(shown, fresh)) if not run.same(old, new)]
    assert not stale, f"stale outputs in blocks {stale}: run python docs/run_tutorial.py docs/tutorial.md"


def test_the_comparison_catches_a_changed_number() -> None:
    run = _runner()
    assert run.same("J = 0.125 [1.0 2.0]", "J = 0.12500000001 [1.0 2.0]")
    assert not run.same("J = 0.125", "J = 0.126")
    assert not run.same("J = 0.125", "E = 0.125")
