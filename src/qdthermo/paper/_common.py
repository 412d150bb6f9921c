"""Shared helpers of the paper reproduction: solving, diagnostics, output files."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

import qdthermo as qd
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.plot import palette

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = [
    "REGIME_COLORS", "REGIME_LABELS", "solve_forces", "symmetric_axis", "diagnostics",
    "merge_diagnostics", "save_figure", "write_netcdf", "caption", "fattrs", "add_caption",
]

Array = NDArray[np.float64]

#: display colour and label of each qdthermo.Regime code: the one palette of qdthermo.plot.palette
REGIME_COLORS = palette.REGIME_COLORS
REGIME_LABELS = palette.REGIME_LABELS


def solve_forces(cfg: PaperConfig, F_E_scaled: ArrayLike, F_N: ArrayLike, x: ArrayLike,
                 eps_R: ArrayLike | None = None) -> qd.SteadyState:
    """Solve the two-force device (PHYSICS.md section 7) on broadcast arrays.

    ``F_E_scaled`` is F~_E = eps_L F_E; ``x`` fixes U_eff = (x - 1) eps_L.
    """
    _, U, J = interaction(x, cfg.eps_L)
    dev = qd.coupled_transport(
        np.asarray(F_E_scaled, dtype=float) / cfg.eps_L, F_N,
        eps_L=cfg.eps_L, eps_R=cfg.eps_R if eps_R is None else eps_R, U=U, J=J,
        T_ref=cfg.T_b, mu_ref=cfg.mu_b, gamma=cfg.gamma,
    )
    return qd.solve(dev)


def symmetric_axis(half_width: float, n: int) -> Array:
    """``n`` (made odd) points on [-half_width, half_width] containing 0 exactly."""
    m = max(n // 2, 1)
    pos = np.linspace(0.0, half_width, m + 1)[1:]
    return np.concatenate([-pos[::-1], [0.0], pos])


#: the microscopic forces come from inverting the cycle affinities, which divides by U_eff (PHYSICS.md
#: section 6): points with |U_eff| below this fraction of the energy scale are ill-conditioned and left out
#: of the micro-macro force comparison (they are counted in ``force_micro_skipped``)
U_EFF_CONDITION = 1e-3


def diagnostics(res: qd.SteadyState) -> dict[str, float]:
    """Worst-case residuals of the thermodynamic identities over a batch (claims 1-2).

    Deviations of the entropy production are measured against
    ``|Sigma| + S_noise`` per point, where ``S_noise = sum_c (k_c^+ P_i + k_c^- P_j)
    (|w_c| + |mu_c|) / T_c`` is the scale of the one-way entropy flows: at
    equilibrium the net currents are round-off of the one-way fluxes, so a
    relative deviation from Sigma alone would be meaningless there.

    Returns
    -------
    dict
        ``n_points``; ``sigma_min`` (min Sigma [k_B rate]) and ``n_sigma_negative``;
        ``sigma_micro_macro`` and ``sigma_forces_fluxes`` (max over points of
        |Sigma - Sigma_macro| and |Sigma - sum_k F_k J_k| divided by ``|Sigma| + S_noise``);
        ``force_micro_macro`` (max |F_micro - F_macro|, energy forces in units of
        1/T_min, particle forces dimensionless; over points with
        |U_eff| >= U_EFF_CONDITION x energy scale), ``force_micro_skipped``
        (points left out) and ``force_micro_nan`` (undetermined values among the
        others); ``JN_r`` (max |J_N^r| / Gamma_max); ``energy_residual``
        (max |sum_nu J_E^nu| / (Gamma_max E_scale)); ``particle_residual``
        (max |J_N^t + J_N^b| / Gamma_max).
    """
    s = res.system
    sigma = np.asarray(res.entropy_production)
    macro = np.asarray(res.entropy_production_macro)
    F, Jf = res.forces, res.fluxes
    fj = sum(np.asarray(F[f"F_{k}"]) * np.asarray(Jf[f"J_{k}"]) for k in ("E", "R", "N"))
    P = res.populations
    one_way = res.rates.plus * P[..., s.channel_initial] + res.rates.minus * P[..., s.channel_final]
    noise = (one_way * (np.abs(s.channel_energy) + np.abs(s.channel_chemical_potential))
             / s.channel_temperature).sum(axis=-1)
    denom = np.abs(sigma) + noise
    g = float(np.max(s.channel_coupling))
    T_min = s.lead_temperature.min(axis=-1)
    e_point = np.maximum(np.abs(s.channel_energy).max(axis=-1), s.lead_temperature.max(axis=-1))
    e_scale = float(np.max(e_point))
    E = np.asarray(s.energies)
    idx = {lab: k for k, lab in enumerate(s.state_labels)}
    U_eff = E[..., idx["11"]] - E[..., idx["10"]] - E[..., idx["01"]] + E[..., idx["00"]]
    ok = np.broadcast_to(np.abs(U_eff) >= U_EFF_CONDITION * e_point, sigma.shape)
    micro = res.microscopic_forces
    worst, n_nan = 0.0, 0
    for k in ("F_E", "F_R", "F_N"):
        d = np.abs(np.asarray(micro[k]) - np.asarray(F[k]))
        if k != "F_N":
            d = d * T_min
        d = np.broadcast_to(d, sigma.shape)[ok]
        finite = np.isfinite(d)
        n_nan += int(np.count_nonzero(~finite))
        if finite.any():
            worst = max(worst, float(d[finite].max()))
    I = res.particle_current
    Ec = res.energy_current
    return {
        "n_points": float(sigma.size),
        "sigma_min": float(sigma.min()),
        "n_sigma_negative": float(np.count_nonzero(sigma < 0)),
        "sigma_micro_macro": float(np.max(np.abs(sigma - macro) / denom)),
        "sigma_forces_fluxes": float(np.max(np.abs(sigma - fj) / denom)),
        "force_micro_macro": worst,
        "force_micro_skipped": float(np.count_nonzero(~ok)),
        "force_micro_nan": float(n_nan),
        "JN_r": float(np.max(np.abs(I["r"]))) / g,
        "energy_residual": float(np.max(np.abs(Ec["t"] + Ec["b"] + Ec["r"]))) / (g * e_scale),
        "particle_residual": float(np.max(np.abs(I["t"] + I["b"]))) / g,
    }


def merge_diagnostics(items: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Combine :func:`diagnostics` of several batches (worst case; points added up)."""
    out: dict[str, float] = {}
    for key in items[0]:
        vals = np.array([float(d[key]) for d in items])
        if key in ("n_points", "force_micro_nan", "force_micro_skipped", "n_sigma_negative"):
            out[key] = float(vals.sum())
        elif key == "sigma_min":
            out[key] = float(vals.min())
        else:
            out[key] = float(np.nanmax(vals)) if np.any(np.isfinite(vals)) else np.nan
    return out


def fattrs(units: str, long_name: str, **extra: Any) -> dict[str, Any]:
    """``units``/``long_name`` attribute dict."""
    return {"units": units, "long_name": long_name, **extra}


def caption(cfg: PaperConfig, extra: str = "", *, eps_R: bool = True) -> str:
    """Parameter caption printed under every figure (``eps_R=False`` where eps_R varies)."""
    text = "Parameters: " + cfg.base_text(eps_R=eps_R) + "."
    if extra:
        text += " " + extra
    if cfg.quick:
        text += " [--quick: coarse grids]"
    return text


def add_caption(fig: "Figure", text: str, fontsize: float = 7.0) -> float:
    """Put ``text`` (wrapped to the figure width) at the bottom of ``fig``; return its height fraction."""
    import textwrap

    width_in, height_in = fig.get_size_inches()
    chars = max(int(width_in * 72 / (0.6 * fontsize)), 40)
    lines = textwrap.wrap(text, chars)
    fig.text(0.5, 0.004, "\n".join(lines), ha="center", va="bottom", fontsize=fontsize)
    return (len(lines) * 1.25 * fontsize / 72 + 0.06) / height_in


def save_figure(fig: "Figure", out: Path, stem: str, cfg: PaperConfig) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.<vector_format>``; close it; return the paths."""
    import matplotlib.pyplot as plt

    paths = [out / f"{stem}.png", out / f"{stem}.{cfg.vector_format}"]
    fig.savefig(paths[0], dpi=cfg.dpi)
    fig.savefig(paths[1], metadata={"Creator": "qdthermo paper"})
    plt.close(fig)
    return paths


def netcdf_engine() -> Literal["h5netcdf", "scipy"]:
    """``"h5netcdf"`` (NetCDF4) when h5py is importable, else scipy's NetCDF3 writer."""
    if importlib.util.find_spec("h5netcdf") is not None and importlib.util.find_spec("h5py") is not None:
        return "h5netcdf"
    return "scipy"


def write_netcdf(ds: "xr.Dataset", path: Path, cfg: PaperConfig) -> Path:
    """Write ``ds`` (with the configuration in its global attributes) as NetCDF."""
    ds = ds.copy()
    ds.attrs.update({
        "title": ds.attrs.get("title", path.stem),
        "source": "qdthermo paper (reproduction of Ghosh, Gupt, Ghosh, arXiv:2405.01295)",
        "units_convention": "k_B = hbar = e = 1; energies in the energy unit, rates in the rate unit",
        "sign_convention": "currents positive from the lead into the system",
        **{f"config_{k}": _attr(v) for k, v in cfg.as_dict().items()},
    })
    engine = netcdf_engine()
    encoding: dict[str, dict[str, Any]] = {}
    if engine == "h5netcdf":
        for name, var in ds.data_vars.items():
            if var.dtype.kind in "fiu" and var.size > 1000:
                encoding[str(name)] = {"zlib": True, "complevel": 4}
    ds.to_netcdf(path, engine=engine, encoding=encoding)
    return path


def _attr(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    return v
