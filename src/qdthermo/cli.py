"""The ``qdthermo`` command line.

Sub-commands live next to the code they drive and are registered here:
``point`` and ``info`` (this module), ``sweep`` (:mod:`qdthermo.sweep.command`),
``plot`` (:mod:`qdthermo.plot.command`), ``paper`` (:mod:`qdthermo.paper.command`).
"""

from __future__ import annotations

import click

from qdthermo import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qdthermo")
def main() -> None:
    """qdthermo: quantum thermodynamics of coupled transport in quantum-dot devices."""


def _register() -> None:
    import importlib

    for module, name in (
        ("qdthermo.sweep.command", "sweep"),
        ("qdthermo.plot.command", "plot"),
        ("qdthermo.paper.command", "paper"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        main.add_command(getattr(mod, name))


_register()
