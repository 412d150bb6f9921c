"""Names shadow nothing: every submodule of a qdthermo package is reachable as its attribute."""

from __future__ import annotations

import importlib
import pkgutil
import types

import qdthermo


def test_no_function_shadows_a_module() -> None:
    shadowed = []
    for info in pkgutil.walk_packages(qdthermo.__path__, "qdthermo."):
        if info.name.split(".")[-1].startswith("__"):
            continue
        module = importlib.import_module(info.name)
        parent, _, name = info.name.rpartition(".")
        attr = getattr(importlib.import_module(parent), name)
        if not isinstance(attr, types.ModuleType) or attr is not module:
            shadowed.append(f"{info.name} is shadowed by {attr!r}")
    assert not shadowed, shadowed


def test_import_module_paths_work() -> None:
    import qdthermo.kinetics.steady
    import qdthermo.sweeps.run
    import qdthermo.thermo.solver

    assert callable(qdthermo.thermo.solver.solve) and callable(qdthermo.sweeps.run.sweep)
    assert callable(qdthermo.solve) and callable(qdthermo.sweep)
