"""PauliGenerator operations: the group inverse (dense and sparse) and the tilted generator."""

from __future__ import annotations

import numpy as np

import qdthermo as qd
from qdthermo.kinetics.generator import PauliGenerator
from qdthermo.kinetics.network import network
from qdthermo.kinetics.rates import rates


def _generator(device: qd.Device) -> PauliGenerator:
    system = device.finalized()
    return PauliGenerator(network(system), rates(system))


def test_group_inverse_solves_on_the_complement() -> None:
    rng = np.random.default_rng(0)
    for n_dots in (2, 9):  # dense (4 states) and sparse (512 states)
        dev = qd.dot_array(n_dots, levels=rng.uniform(-1, 1, n_dots), U_nn=0.5, T=rng.uniform(0.5, 2, n_dots),
                           mu=rng.uniform(-0.5, 0.5, n_dots), gamma=1.0)
        gen = _generator(dev)
        P0 = gen.steady_state().populations
        b = rng.normal(size=gen.n_states)
        b -= b.sum() / gen.n_states  # zero sum
        x = gen.drazin_apply(P0, b)
        assert abs(x.sum()) < 1e-12
        np.testing.assert_allclose(gen.apply(x), b, atol=1e-10)


def test_tilted_generator_at_zero_field_is_the_generator() -> None:
    gen = _generator(qd.three_terminal(eps_L=1.0, eps_R=0.5, U=0.7, T={"t": 2.0, "b": 1.0, "r": 1.0}))
    d = np.ones((gen.network.n_jumps, 1))
    np.testing.assert_allclose(gen.tilted(d, np.zeros(1)).real, gen.matrix, atol=1e-15)
    W = gen.tilted(d, np.array([0.3]))
    assert np.allclose(np.diagonal(W), np.diagonal(gen.matrix))  # escape rates are not tilted
