"""``qdthermo plot STORE VAR [--sel DIM=VALUE ...] [--out FILE.png]``: a 1-D or 2-D slice of a sweep."""

from __future__ import annotations

import click

__all__ = ["plot"]


def _parse_sel(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        dim, sep, value = item.partition("=")
        if not sep or not dim.strip() or not value.strip():
            raise click.BadParameter(f"{item!r}: expected DIM=VALUE, e.g. lead=t or F_N=0.5", param_hint="--sel")
        out[dim.strip()] = value.strip()
    return out


def _check_extension(path: str) -> None:
    """Refuse an image file name whose suffix Matplotlib cannot write (one line naming the allowed ones)."""
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    allowed = sorted(FigureCanvasAgg(Figure()).get_supported_filetypes())
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise click.BadParameter(f"{path!r}: cannot write {'.' + suffix if suffix else 'a file without a suffix'}"
                                 f"; use one of {', '.join('.' + a for a in allowed)}", param_hint="--out")


@click.command("plot")
@click.argument("store", type=click.Path(exists=True, file_okay=False))
@click.argument("var")
@click.option("--sel", "sel", multiple=True, metavar="DIM=VALUE",
              help="Select a value of a dimension (nearest for numbers, exact for labels); repeatable. "
                   "Every dimension beyond two must be selected.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="Image file to write (format from the suffix; default VAR.png).")
@click.option("--dpi", type=click.IntRange(min=10), default=150, show_default=True, help="Resolution.")
def plot(store: str, var: str, sel: tuple[str, ...], out: str | None, dpi: int) -> None:
    """Draw variable VAR of the sweep STORE as a line (1-D) or colour map (2-D)."""
    from qdthermo.plot import plot_slice

    selection = _parse_sel(sel)
    path = out or f"{var}.png"
    _check_extension(path)
    try:
        fig = plot_slice(store, var, **selection)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    fig.savefig(path, dpi=dpi)
    click.echo(f"wrote {path}")
