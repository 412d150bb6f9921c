"""Alternating hot and cold leads on a chain of capacitively coupled dots (qdthermo dot_array preset).

Each dot of a chain has its own lead; even dots see a hot lead, odd dots a
cold one, all at the same chemical potential.  No particle can pass between
dots (capacitive coupling only), so every lead's particle current is zero,
yet energy flows: a hot dot's charge fluctuations, transmitted by the
nearest-neighbour Coulomb interaction U, drive the cold neighbours (Coulomb
drag of heat).  The script prints the heat current of every lead (positive:
from the lead into the array), checks energy conservation and the second
law, and compares the Schnakenberg (microscopic) and -sum J_Q/T
(macroscopic) entropy production.

Run:  python docs/examples/dot_array_hot_cold.py [n_dots]
"""

from __future__ import annotations

import sys

import numpy as np

import qdthermo as qd
from qdthermo.model.arrays import dot_array


def main(n: int = 8) -> qd.SteadyState:
    T = np.where(np.arange(n) % 2 == 0, 2.0, 0.5)  # k_B T of the leads [energy unit]: hot, cold, hot, ...
    levels = np.zeros(n)  # all levels at the chemical potential
    dev = dot_array(n, levels, U_nn=1.0, T=T, mu=0.0, gamma=1.0)
    res = qd.solve(dev)
    print(f"{n} dots, {res.system.n_states} states, route {res.route!r}, residual {float(res.residual):.1e}")
    print(" lead    T    J_N [rate]   J_Q [energy*rate]")
    for lead, t in zip(res.system.lead_names, T):
        print(f"{lead:>5} {t:4.1f} {float(res.particle_current[lead]):+11.2e} {float(res.heat_current[lead]):+14.6f}")
    J_Q = res.heat_current_array
    print(f"heat in from the hot leads {J_Q[::2].sum():+.6f}, into the cold leads {-J_Q[1::2].sum():+.6f}")
    print(f"energy conservation: sum_leads J_E = {res.energy_current_array.sum():+.1e}")
    print(f"entropy production: Schnakenberg {float(res.entropy_production):.10f}, "
          f"-sum J_Q/T {float(res.entropy_production_macro):.10f}")
    return res


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
