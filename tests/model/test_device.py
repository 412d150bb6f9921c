"""The device description: many-body states, energies, channels, couplings, immutability."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import qdthermo as qd


def test_three_terminal_states_energies_and_channels() -> None:
    eps_L, eps_R, U, J = 0.7, -0.4, 1.3, 2.0
    s = qd.three_terminal(eps_L, eps_R, U=U, J=J).finalized()
    U_eff = U - J / 4  # dot L spin down, dot R spin up: S^z_L S^z_R = -n_L n_R / 4
    assert s.state_labels == ("00", "10", "01", "11")
    np.testing.assert_allclose(s.energies, [0.0, eps_L, eps_R, eps_L + eps_R + U_eff], rtol=0, atol=1e-15)
    assert s.lead_names == ("t", "b", "r")
    assert s.channel_labels == ("t:00->10", "t:01->11", "b:00->10", "b:01->11", "r:00->01", "r:10->11")
    # transition energies of PHYSICS.md section 2: w_21, w_43 (t, b) and w_31, w_42 (r)
    w = [eps_L, eps_L + U_eff, eps_L, eps_L + U_eff, eps_R, eps_R + U_eff]
    np.testing.assert_allclose(s.channel_energy, w, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(s.particle_number, [0, 1, 1, 2])


@pytest.mark.parametrize(
    ("species", "sign"),
    [(("up", "down"), -1.0), (("down", "up"), -1.0), (("up", "up"), 1.0), (("down", "down"), 1.0),
     (("spinless", "up"), 0.0)],
)
def test_exchange_term_follows_the_spins(species: tuple[str, str], sign: float) -> None:
    U, J = 0.5, 2.0
    dev = qd.Device(
        dots=(qd.Dot("a", 1.0, species[0]), qd.Dot("b", 2.0, species[1])),
        leads=(qd.Lead("la", "a", 1.0), qd.Lead("lb", "b", 1.0)),
        interactions=(qd.Interaction(("a", "b"), U, J),),
    )
    E = dev.finalized().energies
    assert E[3] == pytest.approx(3.0 + U + sign * J / 4, abs=1e-15)


def test_three_dot_network_structure() -> None:
    dev = qd.Device(
        dots=(qd.Dot("a", 0.1), qd.Dot("b", 0.2), qd.Dot("c", 0.4)),
        leads=(qd.Lead("x", "a", 1.0), qd.Lead("y", "b", 1.0), qd.Lead("z", "c", 1.0), qd.Lead("w", "c", 2.0)),
        interactions=(qd.Interaction(("a", "c"), 1.0, 0.0),),
    )
    s = dev.finalized()
    assert s.n_states == 8
    assert s.n_channels == 4 * 4  # each lead: one channel per state with its dot empty
    E = dict(zip(s.state_labels, s.energies))
    assert E["101"] == pytest.approx(0.1 + 0.4 + 1.0)
    assert E["110"] == pytest.approx(0.3)
    # every channel fills exactly the lead's dot
    for ell, i, j in zip(s.channel_lead, s.channel_initial, s.channel_final):
        d = "abc".index(dev.leads[ell].dot)
        assert j == i | (1 << d) and i != j


def test_transition_keyed_couplings_both_spellings() -> None:
    g = {("t", "1->2"): 0.3, ("t", "01->11"): 0.7, "b": 1.5, ("r", "2->4"): 0.2, ("r", "00->01"): 2.5}
    s = qd.three_terminal(1.0, 1.0, U=0.5, gamma=g).finalized()
    np.testing.assert_array_equal(s.channel_coupling, [0.3, 0.7, 1.5, 1.5, 2.5, 0.2])


def test_lead_wide_value_fills_missing_transitions() -> None:
    s = qd.three_terminal(1.0, 1.0, gamma={"t": 2.0, ("t", "3->4"): 0.1, "b": 1.0, "r": 1.0}).finalized()
    np.testing.assert_array_equal(s.channel_coupling[:2], [2.0, 0.1])


def test_callable_coupling_is_evaluated_at_the_transition_energies() -> None:
    eps_L, eps_R, U = 0.4, 1.1, 0.9
    s = qd.three_terminal(eps_L, eps_R, U=U, gamma={"t": lambda w: 1.0 + w**2, "b": 1.0, "r": np.exp}).finalized()
    np.testing.assert_allclose(s.channel_coupling, [1 + eps_L**2, 1 + (eps_L + U) ** 2, 1, 1,
                                                    np.exp(eps_R), np.exp(eps_R + U)], rtol=1e-15)


def test_broadcast_shape_and_mismatch() -> None:
    dev = qd.three_terminal(np.zeros((3, 1)), np.zeros((1, 4)), T={"t": np.ones(4), "b": 1.0, "r": 1.0})
    assert dev.shape == (3, 4)
    assert dev.finalized().energies.shape == (3, 4, 4)
    with pytest.raises(ValueError, match=r"do not broadcast.*\(3,\).*\(4,\)"):
        qd.three_terminal(np.zeros(3), np.zeros(4))


def test_device_is_frozen_and_does_not_alias_user_arrays() -> None:
    eps = np.array([0.5, 1.0])
    T_t = np.array([1.0, 2.0])
    dev = qd.three_terminal(eps, 0.3, U=0.2, T={"t": T_t, "b": 1.0, "r": 1.0})
    # the user's arrays stay theirs: writeable, and later edits do not reach the device
    assert eps.flags.writeable and T_t.flags.writeable
    eps[0] = 99.0
    assert dev.dots[0].level[0] == 0.5
    # the stored parameters are read-only, the dataclasses frozen
    with pytest.raises(ValueError, match="read-only"):
        dev.dots[0].level[1] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        dev.leads[0].temperature[0] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev.leads[0].temperature = 3.0  # type: ignore[misc]
    s = dev.finalized()
    for name in ("energies", "channel_energy", "channel_coupling", "lead_temperature", "occupations"):
        assert not getattr(s, name).flags.writeable, name


def test_coupled_transport_parametrisation() -> None:
    F_E, F_N, T_ref, mu_ref = 0.3, -0.8, 1.5, 0.2
    dev = qd.coupled_transport(F_E, F_N, eps_L=1.0, eps_R=0.5, U=0.2, J=2.0, T_ref=T_ref, mu_ref=mu_ref)
    T_t = 1 / (1 / T_ref - F_E)
    assert dev.lead("t").temperature == pytest.approx(T_t)
    assert dev.lead("t").chemical_potential == pytest.approx(T_t * (F_N + mu_ref / T_ref))
    assert dev.lead("b").temperature == dev.lead("r").temperature == T_ref
    assert dev.parameters["x"] == pytest.approx((1.0 + 0.2 - 0.5) / 1.0)
    res = qd.solve(dev)
    assert res.forces["F_E"] == pytest.approx(F_E, rel=1e-14)
    assert res.forces["F_N"] == pytest.approx(F_N, rel=1e-14)
    assert res.forces["F_R"] == 0.0


def test_energies_by_state_equal_the_sum_over_terms_bit_for_bit() -> None:
    """The many-body energies, formed state by state from the occupied terms only, are bit for bit the sum
    over every term times its occupation started at +0.0 (signed zeros too)."""
    from qdthermo.model.system import System

    rng = np.random.default_rng(3)
    sy = System.from_device(qd.coupled_transport(np.linspace(-1, 0.5, 90)[:, None], np.linspace(-3, 3, 70)[None, :],
                                                 eps_L=1.0, J=12.0))
    levels = rng.standard_normal(sy.dot_levels.shape) * 1e3
    levels[::3, ::7, 0] = -0.0
    levels[1, 1, :] = -0.0
    pairs = rng.standard_normal(sy.pair_energies.shape)
    pairs[::4] = -0.0
    occ = sy.occupations
    for lv, pe in [(sy.dot_levels, sy.pair_energies), (levels, pairs)]:
        got = dataclasses.replace(sy, dot_levels=lv, pair_energies=pe).energies
        want = np.zeros(sy.shape + (sy.n_states,))
        for k in range(occ.shape[1]):
            want = want + lv[..., k, None] * occ[:, k]
        for k, (a, b) in enumerate(sy.pair_dots):
            want = want + pe[..., k, None] * (occ[:, a] & occ[:, b])
        assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
