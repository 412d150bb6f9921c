"""``qdthermo explore``: a local web page to explore a preset device live.

Pick a preset, move sliders for its parameters and see the regime map of the
force plane (or a map of any observable over two parameters), the currents,
entropy production and performance at the point, a 1-D cut, the NetCDF of
the map and the ``qdthermo point`` command of the point.  Standard library
only (:mod:`http.server`, a JSON API, one static page with a canvas); the top
floor of the package: nothing in qdthermo imports it but the command line.
"""

from qdthermo.explore.server import make_server, serve

__all__ = ["make_server", "serve"]
