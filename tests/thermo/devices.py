"""Random devices shared by the thermodynamics tests (batched: one call, many points)."""

from __future__ import annotations

import numpy as np

import qdthermo as qd


def random_three_terminal(seed: int, n: int = 64, *, t_ratio: float = 10.0) -> qd.Device:
    """Random batch of the paper's device; temperatures span a ratio up to ``t_ratio``."""
    rng = np.random.default_rng(seed)
    logT = rng.uniform(0, np.log(t_ratio), size=(3, n))
    T0 = rng.uniform(0.05, 2.0, size=n)
    return qd.three_terminal(
        eps_L=rng.uniform(-3, 3, n), eps_R=rng.uniform(-3, 3, n),
        U=rng.uniform(0, 3, n), J=rng.uniform(0, 12, n),
        T={lead: T0 * np.exp(logT[k]) for k, lead in enumerate("tbr")},
        mu={lead: rng.uniform(-2, 2, n) for lead in "tbr"},
        gamma={(lead, tr): rng.uniform(0.01, 3, n)
               for lead, trs in (("t", ("1->2", "3->4")), ("b", ("1->2", "3->4")), ("r", ("1->3", "2->4")))
               for tr in trs},
    )


def random_network(seed: int, n: int = 16) -> qd.Device:
    """A random network of 1-3 dots, 1-3 leads each, random interactions, batch of ``n``."""
    rng = np.random.default_rng(seed)
    n_dots = int(rng.integers(1, 4))
    species = ["up", "down", "spinless"]
    dots = tuple(qd.Dot(f"D{k}", rng.uniform(-2, 2, n), species[int(rng.integers(3))]) for k in range(n_dots))
    leads = []
    for k in range(n_dots):
        for m in range(int(rng.integers(1, 4))):
            leads.append(qd.Lead(f"l{k}{m}", f"D{k}", rng.uniform(0.1, 3, n), rng.uniform(-2, 2, n),
                                 rng.uniform(0.05, 2, n)))
    inter = tuple(qd.Interaction((f"D{a}", f"D{b}"), rng.uniform(0, 2, n), rng.uniform(0, 4, n))
                  for a in range(n_dots) for b in range(a + 1, n_dots) if rng.random() < 0.8)
    ref = leads[int(rng.integers(len(leads)))].name
    return qd.Device(dots=dots, leads=tuple(leads), interactions=inter, reference_lead=ref)


def disconnected_at_middle() -> qd.Device:
    """The paper's device at 3 points; at the middle one lead t is decoupled (with lead b off, the state graph
    is disconnected: no unique steady state, an invalid point)."""
    gamma_t = np.array([1.0, 0.0, 2.0])
    return qd.three_terminal(eps_L=0.3, eps_R=-0.2, U=1.0, J=0.5, T={"t": 2.0, "b": 1.0, "r": 1.5},
                             mu={"t": 0.3, "b": 0.0, "r": 0.1}, gamma={"t": gamma_t, "b": 0.0, "r": 1.0})
