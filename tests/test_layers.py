"""The layers are a contract: checked with import-linter, plus no import cycles between modules."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
importlinter = pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_cycles_between_modules() -> None:
    graph = grimp.build_graph("qdthermo", cache_dir=None)
    graph.remove_module("qdthermo")  # `from qdthermo import __version__` is not a cycle between layers
    modules = sorted(graph.modules)
    cycles = []
    for a, b in itertools.permutations(modules, 2):
        if a < b and graph.direct_import_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a):
            cycles.append((a, b))
    assert not cycles, f"import cycles: {cycles}"


def test_model_and_kinetics_import_nothing_above_them() -> None:
    graph = grimp.build_graph("qdthermo", cache_dir=None)
    above = ("qdthermo.thermo", "qdthermo.sweeps", "qdthermo.plot", "qdthermo.paper", "qdthermo.cli")
    for low in ("qdthermo.model", "qdthermo.kinetics"):
        for module in graph.find_descendants(low) | {low}:
            for imported in graph.find_modules_directly_imported_by(module):
                assert not imported.startswith(above), f"{module} imports {imported}"
