"""The dot_array preset: geometry, per-dot and batch parameters, validation, the hot/cold example."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.model.arrays import array_bonds, dot_array

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "dot_array_hot_cold.py"


def test_chain_structure() -> None:
    dev = dot_array(4, [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7], T=[1, 2, 3, 4], mu=0.1, gamma=[1, 2, 3, 4])
    assert dev.dot_names == ("d0", "d1", "d2", "d3")
    assert dev.lead_names == ("l0", "l1", "l2", "l3")
    assert dev.lead_dots == ("d0", "d1", "d2", "d3")
    assert [i.dots for i in dev.interactions] == [("d0", "d1"), ("d1", "d2"), ("d2", "d3")]
    assert [float(i.coulomb) for i in dev.interactions] == [0.5, 0.6, 0.7]
    assert float(dev.lead("l2").temperature) == 3.0
    assert dev.shape == ()
    E = dev.finalized().energies
    assert E[0b1111] == pytest.approx(1.0 + 0.5 + 0.6 + 0.7)
    assert E[0b0101] == pytest.approx(0.1 + 0.3)  # d0 and d2 filled: not neighbours


def test_grid_bonds_and_two_leads() -> None:
    assert array_bonds((2, 3)) == ((0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5))
    assert array_bonds(3) == ((0, 1), (1, 2))
    dev = dot_array((2, 3), 0.0, 1.0, T=1.0, leads_per_dot=2)
    assert len(dev.dots) == 6
    assert dev.lead_names[:4] == ("l0a", "l0b", "l1a", "l1b")
    assert len(dev.interactions) == 7
    assert dev.reference_lead == "l5b"


def test_batch_convention_trailing_axis() -> None:
    eps = np.linspace(-1, 1, 5)
    dev = dot_array(3, eps[:, None], 0.5, T=[1.0, 2.0, 3.0], mu=np.zeros((5, 3)), gamma=1.0)
    assert dev.shape == (5,)
    res = qd.solve(dev)
    assert res.populations.shape == (5, 8)
    single = qd.solve(dot_array(3, eps[2], 0.5, T=[1.0, 2.0, 3.0]))
    np.testing.assert_allclose(res.populations[2], single.populations, atol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_or_shape": 0}, r"n_or_shape .* got 0"),
    ({"n_or_shape": (2, 0)}, r"n_or_shape"),
    ({"n_or_shape": 2.5}, r"n_or_shape"),
    ({"n_or_shape": 25}, r"<= 24"),
    ({"n_or_shape": (5, 5)}, r"<= 24"),
    ({"levels": [0.0, 1.0]}, r"levels .*length 3 .*got shape \(2,\)"),
    ({"levels": [0.0, np.nan, 1.0]}, r"levels .*finite"),
    ({"U_nn": -1.0}, r"U_nn .*non-negative .*-1.0"),
    ({"U_nn": [1.0, 1.0, 1.0]}, r"U_nn .*length 2"),
    ({"T": [1.0, 0.0, 1.0]}, r"T .*positive .*0.0"),
    ({"gamma": -0.5}, r"gamma .*non-negative"),
    ({"mu": [0, 0]}, r"mu .*length 3"),
    ({"leads_per_dot": 3}, r"leads_per_dot must be 1 or 2, got 3"),
    ({"T": [1.0, 2.0, 3.0], "leads_per_dot": 2}, r"T .*length 6"),
])
def test_validation(kwargs: dict, match: str) -> None:
    args = {"n_or_shape": 3, "levels": 0.0, "U_nn": 0.5, "T": 1.0, "mu": 0.0, "gamma": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        dot_array(**args)


def test_hot_cold_example_runs() -> None:
    res = runpy.run_path(str(EXAMPLE))["main"](6)
    J_Q = res.heat_current_array
    assert J_Q[::2].sum() > 0 > J_Q[1::2].sum()
    np.testing.assert_allclose(res.particle_current_array, 0.0, atol=1e-14)
    assert abs(res.energy_current_array.sum()) < 1e-14
    assert float(res.entropy_production) == pytest.approx(float(res.entropy_production_macro), rel=1e-9)


def test_docstring_example() -> None:
    import doctest

    import qdthermo.model.arrays as mod

    result = doctest.testmod(mod, verbose=False)
    assert result.failed == 0 and result.attempted > 0
