"""Bad input raises ValueError naming the parameter, the value and the allowed range."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import qdthermo as qd

nan, inf = float("nan"), float("inf")


def tt(**kw: Any) -> qd.Device:
    args: dict[str, Any] = {"eps_L": 1.0, "eps_R": 1.0, "U": 0.5, "J": 0.0, "T": 1.0, "mu": 0.0, "gamma": 1.0}
    args.update(kw)
    return qd.three_terminal(**args)


# (build, regex the message must match: parameter ... value ... allowed range)
CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("zero temperature", lambda: tt(T={"t": 0.0, "b": 1.0, "r": 1.0}),
     r"T\['t'\].*must be positive \(allowed range: 0 < .* < inf\), got 0\.0"),
    ("negative temperature", lambda: tt(T=-1.0),
     r"T\['t'\].*must be positive \(allowed range: 0 < .*\), got -1\.0"),
    ("negative temperature in array", lambda: tt(T={"t": 1.0, "b": np.array([1.0, -2.0]), "r": 1.0}),
     r"T\['b'\].*allowed range: 0 < .*got -2\.0 at index \(1,\)"),
    ("negative coupling", lambda: tt(gamma={"t": 1.0, "b": -0.5, "r": 1.0}),
     r"gamma\['b'\].*must be non-negative \(allowed range: 0 <= .* < inf\), got -0\.5"),
    ("negative transition coupling", lambda: tt(gamma={"t": 1.0, ("b", "3->4"): -0.1, "b": 1.0, "r": 1.0}),
     r"gamma\['b', '3->4'\].*non-negative \(allowed range: 0 <= .*\), got -0\.1"),
    ("negative callable coupling", lambda: qd.solve(tt(gamma={"t": lambda w: w - 10.0, "b": 1.0, "r": 1.0})),
     r"gamma\['t'\].*non-negative \(allowed range: 0 <= .*\), got -9\.0"),
    ("NaN temperature", lambda: tt(T={"t": 1.0, "b": nan, "r": 1.0}),
     r"T\['b'\].*must be finite \(allowed range: -inf < .* < inf\), got nan"),
    ("inf chemical potential", lambda: tt(mu={"t": 0.0, "b": 0.0, "r": -inf}),
     r"mu\['r'\].*must be finite \(allowed range: -inf < .*\), got -inf"),
    ("NaN level", lambda: tt(eps_L=np.array([0.0, nan])),
     r"eps_L.*must be finite \(allowed range: -inf < .*\), got nan at index \(1,\)"),
    ("inf level", lambda: tt(eps_R=inf), r"eps_R.*must be finite \(allowed range: -inf < .*\), got inf"),
    ("NaN coupling", lambda: tt(gamma=nan), r"gamma\['t'\].*must be finite.*got nan"),
    ("negative U", lambda: tt(U=-0.1), r"U .*must be non-negative \(allowed range: 0 <= .*\), got -0\.1"),
    ("negative J", lambda: tt(J=-2.0), r"J .*must be non-negative \(allowed range: 0 <= .*\), got -2\.0"),
    ("NaN U", lambda: tt(U=nan), r"U .*must be finite.*got nan"),
    ("complex level", lambda: tt(eps_L=1j), r"eps_L.*must be real"),
    ("string temperature", lambda: tt(T="hot"), r"T\['t'\].*must be a real number.*'hot'"),
    ("unknown lead in T", lambda: tt(T={"t": 1.0, "b": 1.0, "r": 1.0, "x": 2.0}),
     r"^T: unknown lead name\(s\) \['x'\]; allowed leads: \['t', 'b', 'r'\]"),
    ("unknown lead in mu", lambda: tt(mu={"top": 0.0}),
     r"^mu: unknown lead name\(s\) \['top'\]; allowed leads: \['t', 'b', 'r'\]"),
    ("unknown lead in gamma", lambda: tt(gamma={"t": 1.0, "b": 1.0, "r": 1.0, "q": 1.0}),
     r"^gamma: unknown lead name 'q'; allowed leads: \['t', 'b', 'r'\]"),
    ("unknown lead in gamma transition key", lambda: tt(gamma={("q", "1->2"): 1.0}),
     r"^gamma: key \('q', '1->2'\) .*lead in \['t', 'b', 'r'\]"),
    ("unknown transition", lambda: tt(gamma={"t": 1.0, ("t", "1->3"): 1.0, "b": 1.0, "r": 1.0}).finalized(),
     r"gamma\['t'\]: unknown transition\(s\) \['1->3'\]; this lead's transitions are \['00->10', '01->11'\]"),
    ("missing lead", lambda: tt(T={"t": 1.0, "b": 1.0}), r"^T: no value for lead 'r'; give one for each of"),
    ("bad method", lambda: qd.solve(tt(), method="newton"),
     r"method must be one of \[.*'linear'.*'matrix_tree'.*\], got 'newton'"),
    ("F_E = 1/T_ref", lambda: qd.coupled_transport(F_E=0.5, F_N=0.0, T_ref=2.0),
     r"F_E = 0\.5 .*allowed range: F_E < 1/T_ref = 0\.5"),
    ("F_E > 1/T_ref in array", lambda: qd.coupled_transport(F_E=np.array([0.1, 3.0]), F_N=0.0, T_ref=1.0),
     r"F_E = 3\.0 .*allowed range: F_E < 1/T_ref = 1\.0"),
    ("non-positive T_ref", lambda: qd.coupled_transport(F_E=0.1, F_N=0.0, T_ref=0.0),
     r"T_ref.*must be positive \(allowed range: 0 < .*\), got 0\.0"),
    ("NaN F_N", lambda: qd.coupled_transport(F_E=0.1, F_N=nan), r"F_N.*must be finite.*got nan"),
    ("non-positive eps_L in coupled_transport", lambda: qd.coupled_transport(0.1, 0.0, eps_L=-1.0),
     r"eps_L.*must be positive \(allowed range: 0 < .*\), got -1\.0"),
    ("single_dot unknown lead", lambda: qd.single_dot(0.0, T={"L": 1.0, "X": 1.0}),
     r"^T: unknown lead name\(s\) \['X'\]; allowed leads: \['L', 'R'\]"),
    ("single_dot NaN level", lambda: qd.single_dot(nan), r"eps.*must be finite.*got nan"),
    ("sanchez_buttiker asymmetry", lambda: qd.sanchez_buttiker(0.0, 0.0, 1.0, asymmetry=1.5),
     r"asymmetry.*must lie in \[-1, 1\], got 1\.5"),
    ("sanchez_buttiker hot temperature", lambda: qd.sanchez_buttiker(0.0, 0.0, 1.0, T_hot=0.0),
     r"T\['r'\].*must be positive.*got 0\.0"),
    ("reference lead", lambda: tt(reference_lead="z"), r"reference_lead 'z' is not a lead; allowed leads"),
    ("evolve negative time", lambda: qd.evolve(tt(), [0.0, -1.0]),
     r"times must be non-negative \(allowed range: 0 <= times < inf\), got -1\.0"),
    ("evolve unknown initial state", lambda: qd.evolve(tt(), [1.0], initial="22"),
     r"initial state '22' is not a state; allowed: \['00', '10', '01', '11'\]"),
    ("evolve unnormalised initial", lambda: qd.evolve(tt(), [1.0], initial=[0.5, 0.5, 0.5, 0.0]),
     r"initial populations must sum to 1"),
]


@pytest.mark.parametrize(("build", "pattern"), [(b, p) for _, b, p in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_parameter_value_and_range(build: Callable[[], Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        build()


def test_generic_device_structure_errors() -> None:
    dot = qd.Dot("a", 0.0)
    with pytest.raises(ValueError, match=r"lead 'l' is attached to unknown dot 'z'; allowed dots: \['a'\]"):
        qd.Device(dots=(dot,), leads=(qd.Lead("l", "z", 1.0),))
    with pytest.raises(ValueError, match="lead names must be unique"):
        qd.Device(dots=(dot,), leads=(qd.Lead("l", "a", 1.0), qd.Lead("l", "a", 1.0)))
    with pytest.raises(ValueError, match="dot names must be unique"):
        qd.Device(dots=(dot, qd.Dot("a", 1.0)), leads=(qd.Lead("l", "a", 1.0),))
    with pytest.raises(ValueError, match="at least one lead"):
        qd.Device(dots=(dot,), leads=())
    with pytest.raises(ValueError, match=r"interaction names unknown dot 'q'"):
        qd.Device(dots=(dot,), leads=(qd.Lead("l", "a", 1.0),), interactions=(qd.Interaction(("a", "q"), 1.0),))


def test_disconnected_graph_is_reported_not_nan() -> None:
    dev = tt(gamma={"t": 1.0, "b": 1.0, "r": 0.0})  # dot R never exchanges: no unique steady state
    for method in ("matrix_tree", "linear"):
        with pytest.raises(ValueError, match="not unique"):
            qd.solve(dev, method=method)
