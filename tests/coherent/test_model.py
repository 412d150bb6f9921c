"""qd.Tunnel in the device description, the serial double dot preset and the many-body Hamiltonian."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.kinetics.hamiltonian import annihilators, hamiltonian


def _dots() -> tuple[qd.Dot, ...]:
    return (qd.Dot("A", 0.1, "up"), qd.Dot("B", 0.2, "up"), qd.Dot("C", 0.3, "down"))


def _device(*tunnels: qd.Tunnel) -> qd.Device:
    return qd.Device(dots=_dots(), leads=(qd.Lead("l", "A", 1.0),), tunnels=tunnels)


def test_tunnel_validation() -> None:
    with pytest.raises(ValueError, match="unknown dot 'Z'"):
        _device(qd.Tunnel(("A", "Z"), 0.5))
    with pytest.raises(ValueError, match="two different dots"):
        _device(qd.Tunnel(("A", "A"), 0.5))
    with pytest.raises(ValueError, match="conserves spin"):
        _device(qd.Tunnel(("A", "C"), 0.5))
    with pytest.raises(ValueError, match="must be real"):
        qd.Tunnel(("A", "B"), 0.5j)
    with pytest.raises(ValueError, match="NaN|finite|nan"):
        qd.Tunnel(("A", "B"), np.nan)
    with pytest.raises(ValueError, match=r"do not broadcast.*t\('A', 'B'\)"):
        qd.Device(dots=(qd.Dot("A", np.zeros(3), "up"), qd.Dot("B", 0.2, "up")), leads=(qd.Lead("l", "A", 1.0),),
                  tunnels=(qd.Tunnel(("A", "B"), np.zeros(4)),))
    dev = _device(qd.Tunnel(("A", "B"), np.linspace(0, 1, 5)))
    assert dev.shape == (5,)
    assert not dev.tunnels[0].amplitude.flags.writeable


def test_hamiltonian_fermionic_signs() -> None:
    c = annihilators(3)
    eye = np.eye(8)
    for a in range(3):
        for b in range(3):
            np.testing.assert_array_equal(c[a] @ c[b].T + c[b].T @ c[a], eye * (a == b))
            np.testing.assert_array_equal(c[a] @ c[b] + c[b] @ c[a], 0.0)
    # hopping A <-> C across an occupied B picks up a minus sign: <011| c_C^+ c_A |110> (bits A, B, C)
    dev = qd.Device(dots=(qd.Dot("A", 0.0, "x"), qd.Dot("B", 0.0, "x"), qd.Dot("C", 0.0, "x")),
                    leads=(qd.Lead("l", "A", 1.0),), tunnels=(qd.Tunnel(("A", "C"), 1.0),))
    H = hamiltonian(dev)
    assert H[0b110, 0b011] == -1.0 and H[0b100, 0b001] == 1.0
    np.testing.assert_array_equal(H, H.T)


def test_serial_double_dot_hamiltonian_batch() -> None:
    eps_L = np.array([[0.0], [1.0]])
    dev = qd.serial_double_dot(eps_L, -0.5, np.array([0.1, 0.2, 0.3]), U=2.0, T={"L": 1.0, "R": 2.0},
                               mu={"L": 0.5, "R": -0.5}, gamma={"L": 0.3, "R": 0.4})
    assert dev.shape == (2, 3)
    assert dev.lead_names == ("L", "R") and dev.lead_dots == ("L", "R")
    H = hamiltonian(dev)
    assert H.shape == (2, 3, 4, 4)
    # states "00", "10", "01", "11"
    np.testing.assert_allclose(H[1, 2], [[0, 0, 0, 0], [0, 1.0, 0.3, 0], [0, 0.3, -0.5, 0], [0, 0, 0, 2.5]])
    res = qd.solve(dev, approach="global")
    assert res.density_matrix.shape == (2, 3, 4, 4) and res.populations.shape == (2, 3, 4)
    assert res.entropy_production.shape == (2, 3) and res.second_law_violated.shape == (2, 3)
    assert res.approach == "global" and res.state_labels == ("00", "10", "01", "11")
    with pytest.raises(TypeError):
        res.particle_current["L"] = 0  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown lead"):
        qd.serial_double_dot(0, 0, 0.1, T={"L": 1.0, "X": 1.0})
    with pytest.raises(ValueError, match="no value"):
        qd.serial_double_dot(0, 0, 0.1, mu={"L": 1.0})


def test_transition_couplings_are_refused_by_density_matrix_approaches() -> None:
    dev = qd.Device(dots=(qd.Dot("A", 0.0, "x"), qd.Dot("B", 0.5, "x")),
                    leads=(qd.Lead("l", "A", 1.0, 0.0, {"00->10": 1.0, "01->11": 0.5}), qd.Lead("r", "B", 1.0)),
                    tunnels=(qd.Tunnel(("A", "B"), 0.3),))
    with pytest.raises(ValueError, match="Pauli approach only"):
        qd.solve(dev, approach="global")
    # an energy-dependent coupling Gamma(w) is evaluated at the eigen-transition energies
    lead = qd.Lead("l", "A", 1.0, 0.0, lambda w: 0.5 + 0.0 * w)
    dev2 = qd.Device(dots=dev.dots, leads=(lead, dev.leads[1]), tunnels=dev.tunnels)
    dev3 = qd.Device(dots=dev.dots, leads=(qd.Lead("l", "A", 1.0, 0.0, 0.5), dev.leads[1]), tunnels=dev.tunnels)
    np.testing.assert_allclose(qd.solve(dev2, approach="global").density_matrix,
                               qd.solve(dev3, approach="global").density_matrix, atol=1e-14)
