"""Sphinx configuration of the qdthermo documentation site.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The site is static HTML that opens offline (``docs/_build/html/index.html``): MathJax is
bundled from the ``sphinx-mathjax-offline`` package instead of a CDN.  The tutorials in
``docs/tutorials/`` are MyST-NB notebooks executed at build time; after the build,
:func:`check_figures` fails it if a figure a tutorial made is missing from its HTML page.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "src"))  # document this checkout, not an installed copy
os.environ.setdefault("PYTHONPATH", str(DOCS.parent / "src"))  # the notebooks' kernels too

import qdthermo  # noqa: E402

project = "qdthermo"
author = "the qdthermo developers"
copyright = "2026, the qdthermo developers"
release = version = qdthermo.__version__

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: formulas render offline
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "examples", "images/README*", "Thumbs.db", ".DS_Store"]
nitpicky = True
# Types that appear in signatures or docstrings but are documented elsewhere; no
# inventory is fetched (the build runs offline), so third-party names are not linked.
nitpick_ignore_regex = [
    ("py:.*", r"(numpy|np|xarray|xr|matplotlib|scipy|dask|distributed|zarr|pathlib|collections|typing)\..*"),
    ("py:mod", r"http\.server"),  # the standard library (no inventory is fetched offline)
    ("py:.*", r"qdthermo\.paper\._common\..*"),  # private helpers named in the paper's module docstring
]

# autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # types are written, with units, in the numpydoc sections
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every public name has a docstring (GL08); every public function documents each parameter and
# its return (PR01, PR02, RT01: validate_contract below); the methods and classes are not yet held
# to PR01/RT01 (about 70 still describe them in prose; see the changelog)
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\.__.*__$", r"\._[a-z].*$"}
add_module_names = False

# MyST and MyST-NB
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
nb_execution_mode = "force"  # every build runs every tutorial: outputs cannot go stale
nb_execution_timeout = 120  # per cell; each tutorial takes 10-25 s on 2 cores
nb_execution_in_temp = True  # files a tutorial writes go to a temporary folder, not docs/
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# HTML
html_theme = "furo"
html_title = f"qdthermo {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


def check_figures(app, exception) -> None:  # type: ignore[no-untyped-def]
    """Fail the build if a figure made by a tutorial is not an image of its HTML page."""
    if exception is not None or app.builder.name != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute"  # where MyST-NB writes executed notebooks
    problems = []
    for notebook in sorted(executed.rglob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        made = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
        page = Path(app.outdir) / notebook.relative_to(executed).with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="([^"]+_images/[^"]+)"', html)
        missing = [src for src in images if not (page.parent / src).exists()]
        if len(images) < made or missing:
            problems.append(f"{page.name}: {made} figures made, {len(images)} shown, missing files {missing}")
    if problems:
        raise RuntimeError("tutorial figures missing from the built HTML:\n" + "\n".join(problems))


def skip_builtin_members(app, what, name, obj, skip, options):  # type: ignore[no-untyped-def]
    """Leave out the methods that enums inherit from ``str`` / ``int`` (``Method.split``, ...)."""
    owner = getattr(obj, "__objclass__", None)
    if owner in (str, int, object) or (callable(obj) and getattr(obj, "__module__", None) == "builtins"):
        return True
    return None


def _lookup(path: str):  # type: ignore[no-untyped-def]
    """The object named by the dotted ``path`` (module, then attributes), or None."""
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return None
        return obj
    return None


_DOCUMENTED: dict[int, str] = {}  # id(object) -> the name it is documented under


def resolve_alias(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Resolve a docstring's reference by the object it names, not by the spelling.

    Docstrings name objects where they are defined (``qdthermo.thermo.result.SteadyState``)
    or relative to their module (``Regime``); the site documents each public object once,
    under its public name (``qdthermo.SteadyState``).  A reference that names a documented
    object by another path is linked to it; one that names an existing internal object of
    qdthermo (a private module or helper, not part of the API) is shown as code, unlinked;
    anything else stays a broken reference (a warning, so an error with -W).
    """
    from docutils import nodes

    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module, cls = node.get("py:module") or "", node.get("py:class") or ""
    candidates = [target] + [f"{p}.{target}" for p in (f"{module}.{cls}" if cls else "", module, "qdthermo") if p]
    domain = env.get_domain("py")
    documented = _DOCUMENTED
    if not documented:
        for name in domain.objects:
            obj = _lookup(name)
            if obj is not None and not isinstance(obj, (str, int, float)):
                documented.setdefault(id(obj), name)
    for candidate in candidates:
        obj = _lookup(candidate)
        if obj is None or not candidate.startswith("qdthermo"):
            continue
        name = documented.get(id(obj))
        if name is not None:
            return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", name, node, contnode)
        return nodes.literal(target, target)
    suffix = [name for name in set(documented.values()) if name.endswith("." + target)]
    if len(suffix) == 1:  # a short name relative to another module of qdthermo
        return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", suffix[0], node, contnode)
    # a short name relative to the (internal) module that defines the documented object
    owners = {id(getattr(m, target)) for n, m in list(sys.modules.items())
              if n.startswith("qdthermo") and "." not in target and hasattr(m, target)}
    if len(owners) == 1:
        return nodes.literal(target, target)
    return None


PUBLIC_MODULES = ["qdthermo", "qdthermo.model", "qdthermo.kinetics", "qdthermo.thermo", "qdthermo.design",
                  "qdthermo.design.conditions", "qdthermo.sweeps", "qdthermo.plot", "qdthermo.explore",
                  "qdthermo.units"]


def validate_contract(app) -> None:  # type: ignore[no-untyped-def]
    """Warn (so fail with -W) where a public function misses a parameter or its Returns section.

    Public functions: those in ``__all__`` of the package and its public subpackages.
    """
    import importlib
    import inspect

    from numpydoc.validate import validate
    from sphinx.util import logging

    logger = logging.getLogger("qdthermo.docs")
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            if inspect.isfunction(getattr(module, name)):
                for code, message in validate(f"{module_name}.{name}")["errors"]:
                    if code in ("PR01", "PR02", "RT01"):
                        logger.warning(f"{module_name}.{name}: {code} {message}")


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("builder-inited", validate_contract)
    app.connect("autodoc-skip-member", skip_builtin_members)
    app.connect("missing-reference", resolve_alias)
    app.connect("build-finished", check_figures)
