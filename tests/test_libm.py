"""``qdthermo._libm``: the kernels' lane-parallel ``exp`` equals the C library's bit for bit."""

from __future__ import annotations

import struct
from fractions import Fraction
from math import isqrt

import numpy as np
import pytest

from qdthermo import _compiled, _libm
from qdthermo._libm import exp_row, log_row

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="needs Numba")


@_compiled.kernel(error_model="numpy")
def _exp_rows(x: np.ndarray, out: np.ndarray, sign: float) -> None:  # pragma: no cover - compiled
    for r in range(x.shape[0]):
        exp_row(x.shape[1], x[r], out[r], sign)


def _exp(x: np.ndarray, sign: float) -> np.ndarray:
    x2 = np.ascontiguousarray(x, dtype=np.float64).reshape(1, -1)
    out = np.empty_like(x2)
    _exp_rows(x2, out, sign)
    return out[0]


def _arguments() -> np.ndarray:
    rng = np.random.default_rng(7)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 709.78, 709.79, -708.3, -708.4, -745.1, -745.2, 511.9999999,
             512.0, -512.0, 1023.9, 1024.0, 2.0**-54, -(2.0**-54), 2.0**-55, 1e-300, 5e-324, 1.0, -1.0]
    return np.concatenate([
        rng.uniform(-40.0, 40.0, 400_000),  # Fermi arguments of the usual points
        rng.uniform(-1100.0, 1100.0, 100_000),  # overflow, underflow, subnormal results
        np.exp(rng.uniform(np.log(2.0**-60), np.log(1e3), 200_000)) * rng.choice([-1.0, 1.0], 200_000),
        np.array(edges), np.nextafter(np.array(edges[5:17]), np.inf)])


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_exp_row_is_the_libraries_exp_bit_for_bit(sign: float) -> None:
    x = _arguments()
    with np.errstate(over="ignore"):
        expected = np.exp(sign * x)
    got = _exp(x, sign)
    same = (got.view(np.uint64) == expected.view(np.uint64)) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), f"{int((~same).sum())} of {x.size} differ, e.g. x = {x[~same][:3]!r}"


def test_exp_row_handles_short_rows() -> None:
    for m in (0, 1, 3, 5, 17):
        x = np.linspace(-3.0, 3.0, m)
        np.testing.assert_array_equal(_exp(x, 1.0), np.exp(x))


def test_table_is_two_to_the_k_over_128() -> None:
    """``2^(k/128) = H_k (1 + T_k)``: ``H_k`` the nearest double, ``T_k`` the nearest double to the rest."""
    for k in range(128):
        y = 1 << (120 * 128 + k)
        for _ in range(7):  # the 128th root, to 120 bits
            y = isqrt(y)
        exact = Fraction(y, 1 << 120)
        head = float(exact)
        tail = float((exact - Fraction(head)) / Fraction(head))
        bits_head = struct.unpack("<Q", struct.pack("<d", head))[0]
        assert int(_libm.EXP_TABLE[2 * k + 1]) == (bits_head - (k << 45)) % 2**64
        assert int(_libm.EXP_TABLE[2 * k]) == struct.unpack("<Q", struct.pack("<d", tail))[0]


@_compiled.kernel(error_model="numpy")
def _log_rows(x: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    for r in range(x.shape[0]):
        log_row(x.shape[1], x[r], out[r])


def test_log_row_is_the_libraries_log_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    near_hi = 1 + float.fromhex("0x1.09p-4")  # the near-1 path: 1 - 1/16 <= x < near_hi
    x = np.concatenate([
        rng.uniform(0.0, 1.0, 300_000),  # populations
        1.0 + rng.uniform(-0.07, 0.07, 200_000),  # both sides of the near-1 path's edges
        np.exp(rng.uniform(-745.0, 709.0, 200_000)),
        rng.uniform(-1.0, 0.0, 1000),
        np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 5e-324, 2.2250738585072014e-308, 1 - 2.0**-4,
                  np.nextafter(1 - 2.0**-4, 0), near_hi, np.nextafter(near_hi, 0), np.nextafter(1, 0),
                  np.nextafter(1, 2), 0.6875, np.nextafter(0.6875, 0), 1.7976931348623157e308])])
    x2 = x.reshape(1, -1)
    got = np.empty_like(x2)
    _log_rows(x2, got)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.log(x)
    same = (got[0].view(np.uint64) == expected.view(np.uint64)) | (np.isnan(got[0]) & np.isnan(expected))
    assert same.all(), f"{int((~same).sum())} of {x.size} differ, e.g. x = {x[~same][:3]!r}"
