"""Shared helpers of the paper reproduction: solving, diagnostics, output files."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

import qdthermo as qd
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.plot import palette
from qdthermo.thermo.currents import one_way_fluxes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MAX_POINTS", "REGIME_COLORS", "REGIME_LABELS", "currents", "regimes", "solve_grid", "symmetric_axis",
    "diagnostics",
    "merge_diagnostics", "save_figure", "STYLE", "styled", "write_netcdf", "caption", "fattrs", "add_caption",
]

Array = NDArray[np.float64]

#: display colour and label of each qdthermo.Regime code: the one palette of qdthermo.plot.palette
REGIME_COLORS = palette.REGIME_COLORS
REGIME_LABELS = palette.REGIME_LABELS


#: largest number of parameter points solved in one batch by :func:`solve_grid` (bounds the peak memory: the
#: NumPy route's temporaries, ~1.1 kB a point; 10^5 gave 560 MB peak RSS for `qdthermo paper`, 5 x 10^4 450-470 MB
#: at the same CPU time)
MAX_POINTS = 50_000


#: what :func:`solve_grid` keeps of each solved chunk: name -> array over the chunk's grid
Extract = Callable[[qd.SteadyState, PaperConfig], Mapping[str, ArrayLike]]


def _device(cfg: PaperConfig, F_E_scaled: ArrayLike, F_N: ArrayLike, x: ArrayLike, eps_R: ArrayLike,
            T_b: ArrayLike, gamma: Mapping[str, ArrayLike]) -> qd.Device:
    """The two-force device (PHYSICS.md section 7): ``F_E_scaled`` = eps_L F_E, ``x`` fixes U_eff = (x - 1) eps_L."""
    _, U, J = interaction(x, cfg.eps_L)
    return qd.coupled_transport(np.asarray(F_E_scaled, dtype=float) / cfg.eps_L, F_N, eps_L=cfg.eps_L, eps_R=eps_R,
                                U=U, J=J, T_ref=T_b, mu_ref=cfg.mu_b, gamma=dict(gamma))


def regimes(res: qd.SteadyState, cfg: PaperConfig, by: str = "forces") -> Mapping[str, np.ndarray]:
    """Regime codes of J_E and J_N with the configured zero tolerances (``cfg.force_tol``, ``cfg.flux_tol``)."""
    return res.classify(force_tol=cfg.force_tol, flux_tol=cfg.flux_tol, by=by)


def currents(res: qd.SteadyState, cfg: PaperConfig) -> dict[str, ArrayLike]:
    """The usual extract of :func:`solve_grid`: J_N, J_E (lead t), their regimes, the entropy production."""
    reg = regimes(res, cfg)
    return {"J_N": res.particle_current["t"], "J_E": res.energy_current["t"], "regime_J_N": reg["J_N"],
            "regime_J_E": reg["J_E"], "entropy_production": res.entropy_production}


def solve_grid(cfg: PaperConfig, F_E_scaled: ArrayLike, F_N: ArrayLike, x: ArrayLike, eps_R: ArrayLike | None = None,
               *, T_b: ArrayLike | None = None, gamma: Mapping[str, ArrayLike] | None = None,
               extract: Extract = currents, max_points: int = MAX_POINTS) -> tuple[dict[str, np.ndarray],
                                                                                   dict[str, float]]:
    """Solve the two-force device on the broadcast grid of the inputs, in chunks of at most ``max_points``.

    The one grid solver of the paper: every figure and scan calls it.  The
    grid is flattened (the points are independent) and each chunk of at most
    ``max_points`` points is solved with :func:`qdthermo.solve`, reduced by ``extract`` to the arrays
    that are kept, and checked by :func:`diagnostics`.

    Parameters
    ----------
    cfg
        Fixed parameters (eps_L, T_b, mu_b, Gamma, tolerances).
    F_E_scaled, F_N, x, eps_R
        Broadcastable arrays: F~_E = eps_L F_E, F_N, x = (eps_L + U_eff)/eps_L
        and the level of dot R (default ``cfg.eps_R``).
    T_b, gamma
        Temperature of the reference leads b, r and the couplings ``{"t": .., "b": .., "r": ..}``,
        broadcastable like the forces (default ``cfg.T_b`` and ``cfg.gamma`` for every lead).
    extract
        ``extract(result, cfg) -> {name: array}``, each array broadcastable to
        the chunk's grid (default :func:`currents`).
    max_points
        Chunk size bound.

    Returns
    -------
    arrays, diagnostics
        ``{name: array of the full grid shape}`` and the worst-case
        :func:`diagnostics` over all chunks.
    """
    gam = {lead: cfg.gamma for lead in "tbr"} if gamma is None else dict(gamma)
    args = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (
        F_E_scaled, F_N, x, cfg.eps_R if eps_R is None else eps_R, cfg.T_b if T_b is None else T_b,
        *(gam[lead] for lead in "tbr"))))
    shape = args[0].shape
    flat = [a.ravel() for a in args]  # the points are independent: chunk the flattened grid
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    diags = []
    for start in range(0, flat[0].size, max_points):
        chunk = [a[start:start + max_points] for a in flat]
        fe, fn, xc, eR, T = chunk[:5]
        res = qd.solve(_device(cfg, fe, fn, xc, eR, T, dict(zip("tbr", chunk[5:]))))
        for name, value in extract(res, cfg).items():  # a copy: a view would keep the whole result alive
            parts[name].append(np.broadcast_to(np.array(value), chunk[0].shape))
        diags.append(diagnostics(res))
    arrays = {name: np.concatenate(v).reshape(shape) for name, v in parts.items()}
    return arrays, merge_diagnostics(diags)


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
    denom = np.abs(sigma) + _entropy_noise(res)
    g = float(np.max(s.channel_coupling))
    e_point = np.maximum(np.abs(s.channel_energy).max(axis=-1), s.lead_temperature.max(axis=-1))
    e_scale = float(np.max(e_point))
    E = np.asarray(s.energies)
    idx = {lab: k for k, lab in enumerate(s.state_labels)}
    U_eff = E[..., idx["11"]] - E[..., idx["10"]] - E[..., idx["01"]] + E[..., idx["00"]]
    ok = np.broadcast_to(np.abs(U_eff) >= U_EFF_CONDITION * e_point, sigma.shape)
    worst, n_nan = _force_residual(res, ok)
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


def _entropy_noise(res: qd.SteadyState) -> np.ndarray:
    """``S_noise = sum_c (k_c^+ P_i + k_c^- P_j)(|w_c| + |mu_c|)/T_c``: the one-way entropy-flow scale per point."""
    s, P = res.system, res.populations
    forward, backward = one_way_fluxes(s, res.rates, P)
    one_way = forward + backward
    return np.asarray((one_way * (np.abs(s.channel_energy) + np.abs(s.channel_chemical_potential))
                       / s.channel_temperature).sum(axis=-1))


def _force_residual(res: qd.SteadyState, ok: np.ndarray) -> tuple[float, int]:
    """Worst |F_micro - F_macro| over the points ``ok`` (energy forces times T_min) and the NaN count there."""
    T_min = res.system.lead_temperature.min(axis=-1)
    micro, F = res.microscopic_forces, res.forces
    worst, n_nan = 0.0, 0
    for k in ("F_E", "F_R", "F_N"):
        d = np.abs(np.asarray(micro[k]) - np.asarray(F[k]))
        if k != "F_N":
            d = d * T_min
        d = np.broadcast_to(d, ok.shape)[ok]
        finite = np.isfinite(d)
        n_nan += int(np.count_nonzero(~finite))
        if finite.any():
            worst = max(worst, float(d[finite].max()))
    return worst, n_nan


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
    """Parameter caption printed under every figure, ``extra`` on its own line (``eps_R=False`` where eps_R varies)."""
    text = "Parameters: " + cfg.base_text(eps_R=eps_R) + "."
    if extra:
        text += "\n" + extra
    if cfg.quick:
        text += " [--quick: coarse grids]"
    return text


def add_caption(fig: "Figure", text: str, fontsize: float = 8.0) -> float:
    """Put ``text`` (each line wrapped to the figure width) at the bottom of ``fig``; return its height fraction."""
    import textwrap

    width_in, height_in = fig.get_size_inches()
    chars = max(int(width_in * 72 / (0.6 * fontsize)), 40)
    lines = [line for part in text.split("\n") for line in textwrap.wrap(part, chars)]
    fig.text(0.5, 0.004, "\n".join(lines), ha="center", va="bottom", fontsize=fontsize)
    return (len(lines) * 1.25 * fontsize / 72 + 0.06) / height_in


def save_figure(fig: "Figure", out: Path, stem: str, cfg: PaperConfig) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.<vector_format>`` (in the paper's :data:`STYLE`); return the paths."""
    import matplotlib as mpl
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    paths = [out / f"{stem}.png", out / f"{stem}.{cfg.vector_format}"]
    engine = fig.get_layout_engine()
    # after fig.tight_layout() the figure keeps a placeholder engine that lays nothing out, yet savefig draws
    # the whole figure once more for it before drawing it into the file: drop it while saving (one draw a file)
    idle = isinstance(engine, PlaceHolderLayoutEngine)
    if idle:
        fig._layout_engine = None  # type: ignore[attr-defined]  # set_layout_engine("none") would keep it
    try:
        with mpl.rc_context(STYLE):  # type: ignore[arg-type]
            fig.savefig(paths[0], dpi=cfg.dpi, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
            fig.savefig(paths[1], metadata={"Creator": "qdthermo paper"})
    finally:
        if idle:
            fig._layout_engine = engine  # type: ignore[attr-defined]
    return paths


#: zlib level of the PNG files: 1 writes them ~3x faster than the default 6 (lossless either way: the same
#: pixels), for files ~15% larger
PNG_COMPRESS_LEVEL = 1

#: Matplotlib settings of the paper's figures, applied with ``rc_context`` (never globally)
STYLE: dict[str, Any] = {"hatch.linewidth": 0.6, "svg.hashsalt": "qdthermo"}


def styled(plot: Callable[[xr.Dataset, PaperConfig], "Figure"]) -> Callable[[xr.Dataset, PaperConfig], "Figure"]:
    """Decorator: run a figure function inside ``matplotlib.rc_context(STYLE)`` (no global state changes)."""
    import functools

    @functools.wraps(plot)
    def wrapper(ds: xr.Dataset, cfg: PaperConfig) -> "Figure":
        import matplotlib as mpl

        with mpl.rc_context(STYLE):  # type: ignore[arg-type]
            return plot(ds, cfg)

    return wrapper


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
