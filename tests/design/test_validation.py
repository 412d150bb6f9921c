"""Bad input: ValueError naming the parameter, its value and the allowed range."""

from __future__ import annotations

import math

import pytest

import qdthermo as qd

KW = dict(T={"L": 1.0, "R": 0.5}, mu=0.0, gamma=1.0)
VARY = {"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}


def test_unknown_objective_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"maximize = 'powr'.*allowed: \[.*'power'.*'efficiency'"):
        qd.optimize(qd.single_dot, maximize="powr", vary=VARY, **KW)
    with pytest.raises(ValueError, match=r"minimize = 'particle_current'.*'particle_current_L'"):
        qd.optimize(qd.single_dot, minimize="particle_current", vary=VARY, **KW)  # has a lead dimension


def test_exactly_one_sense():
    with pytest.raises(ValueError, match="exactly one of maximize= or minimize="):
        qd.optimize(qd.single_dot, vary=VARY, **KW)
    with pytest.raises(ValueError, match="exactly one of maximize= or minimize="):
        qd.optimize(qd.single_dot, maximize="power", minimize="cop", vary=VARY, **KW)


@pytest.mark.parametrize("key", ["mu_X", "foo", "species", "T_L_R"])
def test_unknown_vary_key(key):
    with pytest.raises(ValueError, match=rf"vary: unknown parameter '{key}'.*allowed: \[.*'mu_L'"):
        qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-1.0, 1.0), key: (0.1, 1.0)}, **KW)


@pytest.mark.parametrize("bounds", [(5.0, 5.0), (3.0, -3.0), (-math.inf, 1.0), (math.nan, 1.0), (0.0, math.inf)])
def test_bad_bounds(bounds):
    with pytest.raises(ValueError, match=r"vary\['eps'\] = .*: bounds must be finite lo < hi"):
        qd.optimize(qd.single_dot, maximize="power", vary={"eps": bounds}, **KW)


@pytest.mark.parametrize("bounds", [1.0, (1.0,), (1.0, 2.0, 3.0), ("a", "b")])
def test_bounds_not_a_pair(bounds):
    with pytest.raises(ValueError, match=r"vary\['eps'\] = .* must be a pair \(lo, hi\); allowed range"):
        qd.optimize(qd.single_dot, maximize="power", vary={"eps": bounds}, **KW)


def test_physical_range_of_temperatures_and_couplings():
    with pytest.raises(ValueError, match=r"vary\['T_R'\] = \(0.0, 2.0\).*lo > 0.*T_R > 0"):
        qd.optimize(qd.single_dot, maximize="power", vary={"T_R": (0.0, 2.0)}, eps=1.0, T=1.0)
    with pytest.raises(ValueError, match=r"vary\['gamma_L'\] = \(-1.0, 2.0\).*gamma_L >= 0"):
        qd.optimize(qd.single_dot, maximize="power", vary={"gamma_L": (-1.0, 2.0)}, eps=1.0, **KW)


def test_empty_vary_and_varied_and_fixed():
    with pytest.raises(ValueError, match="vary = {} must be a non-empty dict"):
        qd.optimize(qd.single_dot, maximize="power", vary={}, eps=1.0, **KW)
    with pytest.raises(ValueError, match=r"\['eps'\] are both varied and fixed"):
        qd.optimize(qd.single_dot, maximize="power", vary=VARY, eps=1.0, **KW)
    with pytest.raises(ValueError, match="cannot build 'single_dot'"):
        qd.optimize(qd.single_dot, maximize="power", vary={"mu_L": (-1.0, 1.0)}, **KW)  # eps missing


@pytest.mark.parametrize(("constraints", "match"), [
    ({"effic": (0.1, None)}, r"constraints key = 'effic'.*allowed"),
    ({"efficiency": (None, None)}, r"constraints\['efficiency'\] = \(None, None\).*at least one bound"),
    ({"efficiency": (0.5, 0.1)}, r"constraints\['efficiency'\] = \(0.5, 0.1\).*lo <= hi"),
    ({"efficiency": 0.3}, r"constraints\['efficiency'\] = 0.3 must be a pair"),
    ({"efficiency": (math.nan, None)}, r"constraints\['efficiency'\]"),
])
def test_bad_constraints(constraints, match):
    with pytest.raises(ValueError, match=match):
        qd.optimize(qd.single_dot, maximize="power", vary=VARY, constraints=constraints, **KW)


def test_infeasible_constraint_is_reported():
    with pytest.raises(ValueError, match=r"no feasible point found.*efficiency in \[0.9, inf\]"):
        qd.optimize(qd.single_dot, maximize="power", vary=VARY, constraints={"efficiency": (0.9, None)},
                    samples=64, starts=1, **KW)


def test_unknown_preset_and_bad_pareto_objectives():
    with pytest.raises(ValueError, match="unknown preset 'single'"):
        qd.optimize("single", maximize="power", vary=VARY, **KW)
    with pytest.raises(ValueError, match="at least two quantities"):
        qd.pareto(qd.single_dot, objectives=("power",), vary=VARY, **KW)
    with pytest.raises(ValueError, match="at least two quantities"):
        qd.pareto(qd.single_dot, objectives="power", vary=VARY, **KW)
    with pytest.raises(ValueError, match=r"objectives\['power'\] = 'up'; allowed: 'maximize'"):
        qd.pareto(qd.single_dot, objectives={"power": "up", "efficiency": "max"}, vary=VARY, **KW)
    with pytest.raises(ValueError, match=r"objectives = \('power', 'eff'\)|'eff'.*allowed"):
        qd.pareto(qd.single_dot, objectives=("power", "eff"), vary=VARY, **KW)


def test_fixed_values_must_be_scalars_and_sizes_positive():
    with pytest.raises(ValueError, match="fixed parameters must be scalars"):
        qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-1.0, 1.0)}, T={"L": [1.0, 2.0], "R": 0.5})
    with pytest.raises(ValueError, match="samples = 0 and starts = 4 must be >= 1"):
        qd.optimize(qd.single_dot, maximize="power", vary=VARY, samples=0, **KW)
