"""Run the whole reproduction: data, figures, claims, report (what ``qdthermo paper`` does).

The pipeline is declared, not hand-wired: :data:`STEPS` lists the data
steps in order, each a function ``(cfg, datasets) -> (new datasets,
diagnostics)`` with the NetCDF file of each new dataset and the figures
drawn from them (pure functions ``(dataset, cfg) -> Figure``).  :func:`run`
executes them, then decides the claims (:func:`qdthermo.paper.claims.evaluate`)
and writes the report, all into a temporary folder beside ``out`` that
replaces ``out`` only when everything is written: an interrupted run leaves
the previous output untouched.

>>> from qdthermo.paper.config import PaperConfig, QUICK     # doctest: +SKIP
>>> run(PaperConfig().replace(**QUICK), Path("out"))        # doctest: +SKIP
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from qdthermo.paper import conditions, design, devices, edges, fig1, fig3, fig4, fig5, fluctuations
from qdthermo.paper._common import save_figure, write_netcdf
from qdthermo.paper.claims import Claim, PaperData, evaluate
from qdthermo.paper.config import QUICK, PaperConfig, load_toml, parse_set

if TYPE_CHECKING:
    from matplotlib.figure import Figure
else:
    Figure = Any

__all__ = ["STEPS", "PaperRun", "Step", "build_config", "run"]

Datasets = Mapping[str, xr.Dataset]
Diagnostics = Mapping[str, float]


@dataclass(frozen=True)
class PaperRun:
    """Outcome of :func:`run`."""

    cfg: PaperConfig
    claims: list[Claim]
    notes: list[str]
    files: list[Path]
    timings: Mapping[str, float]
    data: PaperData | None = None

    @property
    def passed(self) -> bool:
        """True when every claim passes."""
        return all(c.passed for c in self.claims)

    def summary(self) -> str:
        """One line: how many claims pass, which fail."""
        n = sum(c.passed for c in self.claims)
        failed = [c.key for c in self.claims if not c.passed]
        text = f"{n}/{len(self.claims)} claims PASS"
        return text + (f"; FAILED: {', '.join(failed)}" if failed else "")


def build_config(quick: bool = False, config_file: str | Path | None = None,
                 overrides: tuple[str, ...] | list[str] = ()) -> PaperConfig:
    """Defaults, then ``--quick``, then the TOML file, then ``--set`` (later wins).

    The F~_E windows (``fe_max``, ``quad_fe``, ``line_fe_max``) that are not
    given scale with ``eps_L/T_b`` (F~_E < eps_L/T_b keeps T_t finite): the
    defaults are 0.9, 0.9 and 0.95 of that limit.

    Raises
    ------
    ValueError
        Naming the offending parameter (unknown name, wrong type, out of range).
    """
    changes: dict[str, Any] = dict(QUICK) if quick else {}
    if config_file is not None:
        changes.update(load_toml(config_file))
    changes.update(parse_set(overrides))
    base = PaperConfig()
    # F~_E must stay below eps_L/T_b: F~_E windows not given follow that limit (defaults are for eps_L/T_b = 1)
    limit = changes.get("eps_L", base.eps_L) / changes.get("T_b", base.T_b)
    ref = base.eps_L / base.T_b
    for name in ("fe_max", "quad_fe", "line_fe_max"):
        if name not in changes:
            changes[name] = getattr(base, name) * limit / ref
    return base.replace(**changes)


@dataclass(frozen=True)
class Step:
    """One data step of the pipeline.

    Attributes
    ----------
    name
        Progress-bar label (and key of its diagnostics in the report).
    compute
        ``compute(cfg, datasets) -> (new datasets, diagnostics or None)``:
        reads earlier datasets by key, returns new ones by key.
    files
        Dataset key -> NetCDF file written for it (keys not listed are kept in memory only).
    figures
        ``(stem, dataset key, plot)``: ``plot(dataset, cfg) -> Figure`` saved as ``stem.png`` and
        ``stem.<vector_format>``.
    ahead
        The step reads no earlier dataset (``compute(cfg, {})`` is its result): it may run in a
        worker process from the start of the pipeline, which then also draws its figures.
    """

    name: str
    compute: Callable[[PaperConfig, Datasets], tuple[dict[str, xr.Dataset], Diagnostics | None]]
    files: Mapping[str, str]
    figures: tuple[tuple[str, str, Callable[[xr.Dataset, PaperConfig], "Figure"]], ...] = ()
    ahead: bool = False


def _levels(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    return {"levels": fig1.compute(cfg)}, None


def _plane(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    ds, diag = fig3.compute(cfg)
    return {"plane": ds}, diag


def _cuts(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    ds, diag = fig4.compute(cfg)
    return {"cuts": ds}, diag


def _icc(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    ds, diag, perf = fig5.compute(cfg)
    return {"icc": ds, "icc_performance": perf}, diag


def _devices(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    return {"devices": devices.compute(cfg, data["icc"], data["icc_performance"])}, None


def _conditions(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    from qdthermo.paper._common import merge_diagnostics

    ds, diag = conditions.compute(cfg)
    rnd, diag_r = conditions.compute_random(cfg)
    return {"conditions": ds, "random": rnd}, merge_diagnostics([diag, diag_r])


def _edges(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    return {"edges": edges.compute(cfg)}, None


def _fluctuations(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    ds, diag = fluctuations.compute(cfg)
    return {"fluctuations": ds}, diag


def _design(cfg: PaperConfig, data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None]:
    return {"design": design.compute(cfg)}, None


#: the pipeline, in order (diagnostics are reported under the step's name)
STEPS: list[Step] = [
    Step("FIG. 1", _levels, {"levels": "fig1_levels.nc"}, (("fig1_levels", "levels", fig1.plot),)),
    Step("FIG. 3", _plane, {"plane": "fig3_force_plane.nc"}, (("fig3_force_plane", "plane", fig3.plot),)),
    Step("FIG. 4", _cuts, {"cuts": "fig4_one_force.nc"}, (("fig4_one_force", "cuts", fig4.plot),)),
    Step("FIG. 5", _icc, {"icc": "fig5_icc_regions.nc"}, (("fig5_icc_regions", "icc", fig5.plot),)),
    Step("engine/refrigerator", _devices, {"devices": "devices.nc"}, (("devices", "devices", devices.plot),)),
    Step("conditions + random scan", _conditions, {"conditions": "conditions.nc", "random": "random_scan.nc"},
         (("conditions", "conditions", conditions.plot),)),
    Step("exact ICC edges", _edges, {"edges": "icc_edges.nc"}, (("icc_edges", "edges", edges.plot),), ahead=True),
    Step("fluctuations", _fluctuations, {"fluctuations": "fluctuations_icc.nc"},
         (("fluctuations_icc", "fluctuations", fluctuations.plot),)),
    Step("design", _design, {"design": "design_icc.nc"}, (("design_icc", "design", design.plot),), ahead=True),
]


def _run_step(step: Step, cfg: PaperConfig, data: dict[str, xr.Dataset], diags: dict[str, Diagnostics],
              out: Path, figures: _Figures | None = None) -> list[Path | Future[list[Path]]]:
    """Compute one step into ``data``/``diags``; write its NetCDF files and figures into ``out``.

    With ``figures``, each figure is drawn and saved by a worker process while
    the pipeline goes on (its entry is a future of the saved paths).
    """
    drawn: list[Path] | None = None
    if figures is None:
        new, diag = step.compute(cfg, data)
    else:
        new, diag, drawn = figures.computed(step, cfg, data)
    data.update(new)
    if diag is not None:
        diags[step.name] = diag
    files: list[Path | Future[list[Path]]] = [write_netcdf(new[key], out / name, cfg)
                                              for key, name in step.files.items()]
    if drawn is not None:  # a step run ahead: its worker drew its figures as soon as its data existed
        return files + list(drawn)
    for stem, key, plot in step.figures:
        if figures is not None:
            files.append(figures.submit(plot, data[key], cfg, out, stem))
        else:
            files += save_figure(plot(data[key], cfg), out, stem, cfg)
    return files


def render_figure(plot: Callable[[xr.Dataset, PaperConfig], Figure], ds: xr.Dataset, cfg: PaperConfig,
                  out: Path, stem: str) -> list[Path]:
    """Draw ``plot(ds, cfg)`` and save it as ``stem.png`` and ``stem.<vector_format>`` in ``out``."""
    return save_figure(plot(ds, cfg), out, stem, cfg)


def compute_and_draw(step: Step, cfg: PaperConfig,
                     out: Path) -> tuple[dict[str, xr.Dataset], Diagnostics | None, list[Path]]:
    """A step that reads no earlier dataset, then its figures: its datasets, diagnostics and figure files.

    Run ahead in a worker, the figures are drawn as soon as the data exist (while the driver computes the
    other steps), not once the pipeline reaches the step.
    """
    new, diag = step.compute(cfg, {})
    return new, diag, [p for stem, key, plot in step.figures for p in render_figure(plot, new[key], cfg, out, stem)]


class _Figures:
    """Worker processes: the :attr:`Step.ahead` steps and the figures run there while the other steps compute.

    The figure functions are pure functions of their dataset and the
    configuration, so a figure drawn in a worker is the one drawn in
    process; the same holds for the steps that read no earlier dataset.
    The workers are forked from the driver when that is safe (:func:`_start_method`): they start with
    its modules imported, at no cost; else they fork from a server that has imported the modules once.
    """

    def __init__(self, n_workers: int) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context(_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["qdthermo.paper.pipeline", *WORKER_MODULES])
        self.pool = ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_one_blas_thread)
        self.ahead: dict[str, Future[tuple[dict[str, xr.Dataset], Diagnostics | None, list[Path]]]] = {}

    def start_ahead(self, steps: list[Step], cfg: PaperConfig, out: Path) -> None:
        """Start the steps that need no earlier dataset, each with its figures (:func:`compute_and_draw`).

        With ``fork``, the first submission forks the workers.  The only other threads then are the idle
        pool of the BLAS library, which re-initialises itself in the child (``pthread_atfork``): Python
        3.12's warning about forking a multi-threaded process does not apply.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
            for step in steps:
                if step.ahead:
                    self.ahead[step.name] = self.pool.submit(compute_and_draw, step, cfg, out)

    def computed(self, step: Step, cfg: PaperConfig,
                 data: Datasets) -> tuple[dict[str, xr.Dataset], Diagnostics | None, list[Path] | None]:
        """The step's datasets and diagnostics, and its figure files if a worker ran it ahead (else None:
        computed here, the figures still to draw)."""
        future = self.ahead.pop(step.name, None)
        return (*step.compute(cfg, data), None) if future is None else future.result()

    def submit(self, plot: Callable[[xr.Dataset, PaperConfig], Figure], ds: xr.Dataset, cfg: PaperConfig,
               out: Path, stem: str) -> Future[list[Path]]:
        return self.pool.submit(render_figure, plot, ds, cfg, out, stem)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


#: modules xarray imports on the first Dataset when they are installed (the duck-array check imports
#: dask.array): ~0.5 s of imports, done before the figure workers are forked (or by their fork server) so that
#: they share them
PRELOAD = ("dask.array",)

#: what the workers import (beyond this module's imports) before they draw or compute
WORKER_MODULES = ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg", *PRELOAD)

#: what only the driver imports, on a background thread while the first steps compute: xarray's first
#: ``to_netcdf`` asks dask.distributed for its scheduler (~0.4 s of imports)
DRIVER_PRELOAD = ("dask.distributed",)


def _start_method() -> str:
    """``"fork"`` on Linux while no Numba thread pool runs in this process, else ``"forkserver"`` or ``"spawn"``.

    A forked worker starts with the driver's modules imported (no second import of matplotlib, xarray,
    qdthermo, dask: ~2 s of CPU); the driver forks before any of its own threads start (:func:`run`).  Numba's
    OpenMP or TBB pool, once started (by a parallel kernel run earlier in the process, as in a test session),
    does not survive a fork: then the workers fork from a clean server process.
    """
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and not _numba_threads_started():
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _numba_threads_started() -> bool:
    """True if Numba has started its threading layer in this process (a parallel kernel has run)."""
    numba = sys.modules.get("numba")
    if numba is None:
        return False
    try:
        numba.threading_layer()
    except ValueError:  # "Threading layer is not initialized"
        return False
    return True


def _import_quietly(names: tuple[str, ...]) -> None:
    """Import ``names`` if installed (an absent or broken optional module is skipped)."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional: xarray imports them itself if needed (and reports then)
            pass


def preload_in_background() -> threading.Thread:
    """Start importing :data:`DRIVER_PRELOAD` on a daemon thread; return it (the run joins it before the report)."""
    thread = threading.Thread(target=_import_quietly, args=(DRIVER_PRELOAD,), name="qdthermo-preload", daemon=True)
    thread.start()
    return thread


def _one_blas_thread() -> None:
    """Worker initializer: BLAS on one thread for good (as the driver during :func:`run`)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _figure_workers() -> int:
    """Worker processes for the steps run ahead and the figures: one per core up to 3 (0 on one core: all in process).

    The driver computes too: on 2 cores, 2 workers beside it (not 3) spend less CPU time on contention.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return min(cores, 3) if cores > 1 else 0


@contextmanager
def _workers(cfg: PaperConfig, out: Path) -> Iterator[_Figures | None]:
    """The worker processes (None on one core), the steps that can run ahead started; closed on exit.

    The workers start (fork) here, before the run starts any thread of its own (progress bar, Numba).
    """
    n = _figure_workers()
    if not n:
        yield None
        return
    _import_quietly(WORKER_MODULES)  # before the fork: the workers share these imports
    # the objects that exist now (~150k, mostly of the imported modules) outlive the run: kept out of the
    # garbage collector's scans during it (~0.3 s of collections in a worker drawing the figures) and of its
    # writes to the pages the workers share with the driver after the fork
    gc.freeze()
    try:
        figures = _Figures(n)
        try:
            figures.start_ahead(STEPS, cfg, out)
            yield figures
        finally:
            figures.close()
    finally:
        gc.unfreeze()


def _resolve(files: list[Path | Future[list[Path]]]) -> list[Path]:
    """The paths, waiting for the figures still being drawn (in pipeline order)."""
    out: list[Path] = []
    for f in files:
        out += f.result() if isinstance(f, Future) else [f]
    return out


@contextmanager
def _atomic_folder(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``out`` that replaces ``out`` when the block ends without error.

    On any error (or Ctrl-C) the temporary folder is removed and ``out`` is
    left as it was.  ``out`` may be missing, empty, or an earlier output of
    ``qdthermo paper`` (it has ``report.md`` or ``config.toml``); any other
    non-empty folder is refused, so that a mistaken ``--out`` never deletes
    unrelated files.
    """
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not any((out / f).exists() for f in ("report.md", "config.toml")):
        raise FileExistsError(f"{out} is a non-empty folder that is not an output of qdthermo paper; "
                              "choose a new or empty folder for --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        old = out.parent / f".{out.name}.old-{os.getpid()}-{time.time_ns()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run(cfg: PaperConfig, out: Path, *, progress: bool = True, command: str = "qdthermo paper") -> PaperRun:
    """Compute every dataset and figure, evaluate the claims, write the report; replace ``out`` atomically.

    Raises
    ------
    FileExistsError
        ``out`` is a file, or a non-empty folder that is not an earlier output.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from qdthermo.paper import report

    out = Path(out).resolve()
    data: dict[str, xr.Dataset] = {}
    diags: dict[str, Diagnostics] = {}
    timings: dict[str, float] = {}
    pending: list[Path | Future[list[Path]]] = []
    # BLAS on one thread: the solves are many tiny matrix products, which OpenBLAS threads (spinning while
    # they wait) slow down by 10-60x on a busy machine; the figure workers use the other core
    with _atomic_folder(out) as tmp, _workers(cfg, tmp) as figures, \
            tqdm(total=len(STEPS) + 2, desc="qdthermo paper", unit="step", disable=not progress, file=sys.stderr,
                 leave=True) as bar, threadpool_limits(limits=1, user_api="blas"):
        preload = preload_in_background()
        for step in STEPS:
            bar.set_postfix_str(step.name)
            t0 = time.perf_counter()
            pending += _run_step(step, cfg, data, diags, tmp, figures)
            timings[step.name] = time.perf_counter() - t0
            bar.update()
        t0 = time.perf_counter()
        files = _resolve(pending)
        if figures is not None:
            timings["figures (drawn meanwhile; wait)"] = time.perf_counter() - t0
            figures.close()
        preload.join()
        bar.set_postfix_str("claims")
        t0 = time.perf_counter()
        paper_data = PaperData(cfg=cfg, levels=data["levels"], plane=data["plane"], cuts=data["cuts"],
                               icc=data["icc"], devices=data["devices"], conditions=data["conditions"],
                               random=data["random"], fluctuations=data.get("fluctuations"),
                               design=data.get("design"), diagnostics=diags, edges=data.get("edges"))
        claims, notes = evaluate(paper_data)
        (tmp / "config.toml").write_text(cfg.to_toml(), encoding="utf-8")
        files.append(tmp / "config.toml")
        timings["claims"] = time.perf_counter() - t0
        bar.update()
        bar.set_postfix_str("report")
        files += report.write(tmp, cfg, claims, notes, paper_data, files, timings, command)
        bar.update()
    return PaperRun(cfg=cfg, claims=claims, notes=notes, files=[out / p.name for p in files], timings=timings,
                    data=paper_data)
