"""``qdthermo paper``: reproduce the paper's figures and claims in one command."""

from __future__ import annotations

import atexit
import gc
import sys
import time
from pathlib import Path

import click

__all__ = ["paper"]


@click.command("paper")
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("paper-output"),
              show_default=True, help="Folder for the figures (PNG + SVG/PDF), data (NetCDF) and report.")
@click.option("--quick", is_flag=True, help="Coarse grids (CI, a few seconds); same checks.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file of parameters (top-level keys or a [paper] table); the config.toml written "
                   "into --out reproduces a run.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override one parameter (TOML value syntax), e.g. --set x_values=[2,-2] --set eps_R=0.5. "
                   "Repeatable; applied after --quick and --config.")
@click.option("--print-config", is_flag=True, help="Print the effective parameters as TOML and exit.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def paper(out: Path, quick: bool, config_file: Path | None, overrides: tuple[str, ...], print_config: bool,
          no_progress: bool) -> None:
    """Reproduce Ghosh, Gupt & Ghosh, "Inverse Current in Coupled Transport" (arXiv:2405.01295).

    Writes into OUT: FIG. 1 (level diagrams), FIG. 3 (regimes in the force
    plane), FIG. 4 (pseudo-ICC), FIG. 5 (genuine-ICC regions), the ICC engine
    and refrigerator against Carnot (Eq. 56, 58), the ICC conditions against
    x, their NetCDF data, config.toml, and report.md / report.html listing
    every claim of the paper (docs/physics.md lists them) with its evidence and PASS/FAIL.
    Exits with status 1 if any claim fails.
    """
    import matplotlib

    matplotlib.use("Agg")  # the command draws files only; library code never chooses a backend

    from qdthermo.paper.config import PaperConfig
    from qdthermo.paper.pipeline import build_config, run

    cfg: PaperConfig
    if config_file is not None and not config_file.is_file():
        raise click.BadParameter(f"no such file: {config_file}", param_hint="'--config'")
    try:
        build_config(quick, config_file, ())
    except (ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--config'") from None
    try:
        cfg = build_config(quick, config_file, overrides)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--set'") from None
    if print_config:
        click.echo(cfg.to_toml(), nl=False)
        return
    # the process ends after the command: the interpreter's last garbage collections (while it tears the
    # modules down) would scan every object of matplotlib, xarray, dask, ... for nothing (~0.4 s); frozen
    # at exit, they are skipped (the objects are still freed by their reference counts)
    atexit.register(gc.freeze)
    words = ["qdthermo paper", "--out", str(out)] + (["--quick"] if quick else []) \
        + (["--config", str(config_file)] if config_file else []) + [w for o in overrides for w in ("--set", o)]
    t0 = time.perf_counter()
    try:
        result = run(cfg, out, progress=not no_progress, command=" ".join(words))
    except FileExistsError as exc:
        raise click.BadParameter(str(exc), param_hint="'--out'") from None
    elapsed = time.perf_counter() - t0
    for c in result.claims:
        click.echo(f"  [{c.status}] claim {c.key}: {c.statement}", err=False)
    for note in result.notes:
        click.echo(f"  [NOTE] {note}")
    status = "OK" if result.passed else "FAILED"
    click.echo(f"qdthermo paper {status}: {result.summary()} ({elapsed:.1f} s); report: {out / 'report.html'}")
    if not result.passed:
        sys.exit(1)
