"""``qdthermo sweep CONFIG.toml --out STORE``: run a sweep described by a TOML file into a Zarr store."""

from __future__ import annotations

import shlex
import sys

import click

__all__ = ["sweep"]

_HELP = """Sweep a preset over the grid described in CONFIG (TOML) into the Zarr store OUT.

\b
CONFIG (the same keys as 'qdthermo point --config', any value may be swept):
  preset = "coupled_transport"        # required ('qdthermo presets' lists them)
  chunk_points = 65536                # optional: points per chunk
  scheduler = "local"                 # optional: serial, local or tcp://host:8786
  [parameters]                        # the preset's parameters, in grid order
  eps_L = 1.0                         # a number or a string: fixed
  U = [0.0, 0.5, 1.0]                 # an array: swept over these values
  F_E = { start = -1, stop = 0.5, num = 151 }          # swept, evenly spaced
  gamma = { start = 0.01, stop = 10, num = 50, spacing = "log" }
  T = { t = 2.0, r = { start = 1, stop = 2, num = 5 } } # per lead (dims T_t, T_r)
  mu_t = [0.0, 0.1]                   # one lead's entry by its flat name
\b
Leads left out of a per-lead table take the preset's default.  An existing
store of the same sweep is resumed (Ctrl-C keeps the finished chunks); an
existing empty directory is used as a new store.  Example: the
docs/examples/sweep.toml of the source repository.
"""


@click.command("sweep", help=_HELP)
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "-o", "out", required=True, type=click.Path(),
              help="Zarr store to write (an existing store of the same sweep is resumed).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="'serial' (this process), 'local' (a new Dask LocalCluster) or a Dask scheduler address "
                   "such as tcp://host:8786; default: one process per local core.  Overrides the file.")
@click.option("--chunk-points", type=click.IntRange(min=1), default=None,
              help="Points per chunk (overrides the file; default 65536).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def sweep(config: str, out: str, scheduler: str | None, chunk_points: int | None, progress: bool) -> None:
    from qdthermo.sweeps.config import load_config
    from qdthermo.sweeps.run import write_sweep

    try:
        cfg = load_config(config)
        sizes = write_sweep(cfg.preset, store=out, chunk_points=chunk_points or cfg.chunk_points,
                            scheduler=scheduler or cfg.scheduler, progress=progress, **cfg.parameters)
    except KeyboardInterrupt:
        click.echo(_interrupted(config, out, scheduler, chunk_points, progress), err=True)
        sys.exit(130)
    except (ValueError, RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    shape = " x ".join(f"{d} {n}" for d, n in sizes.items())
    click.echo(f"wrote {shape or 'one point'} of {cfg.preset} to {out}")
    _quick_exit()


def _quick_exit() -> None:
    """In the ``qdthermo`` process: skip the garbage collection of the interpreter's shutdown.

    The command is done and the process exits next.  With Numba loaded (the compiled route)
    that last collection walks about a million objects: 0.2 s of a 4 x 10^6-point sweep's
    2-3 s.  Everything the sweep wrote is closed already; standard streams are still flushed
    and ``atexit`` handlers still run.  Only where the process's ``__main__`` runs the
    ``qdthermo`` command (the console script): a caller of the command in its own process
    (``click.testing.CliRunner``) keeps its collections.
    """
    import gc

    command = getattr(sys.modules.get("__main__"), "main", None)  # the console script's qdthermo.cli.main
    if getattr(getattr(command, "callback", None), "__module__", None) == "qdthermo.cli":
        gc.freeze()


def _interrupted(config: str, out: str, scheduler: str | None, chunk_points: int | None, progress: bool) -> str:
    """What Ctrl-C leaves: the chunks saved and the command that resumes."""
    from qdthermo.sweeps.store import sweep_status

    words = ["qdthermo", "sweep", config, "--out", out]
    if scheduler:
        words += ["--scheduler", scheduler]
    if chunk_points:
        words += ["--chunk-points", str(chunk_points)]
    if not progress:
        words.append("--no-progress")
    command = " ".join(shlex.quote(w) for w in words)
    try:
        status = sweep_status(out)
    except (ValueError, OSError):
        return f"Interrupted before the store {out} was created; nothing is saved. Start again with: {command}"
    return (f"Interrupted: {status['chunks_done']} of {status['n_chunks']} chunks are saved in {out}. "
            f"Resume with: {command}")
