"""The documentation site's pages: every code block runs, every page is linked, every figure shows.

The tutorials (``docs/tutorials/``) are MyST-NB notebooks executed by the Sphinx build
(``.ci/run``), which also fails if a figure a tutorial made is missing from its HTML page
(``check_figures`` in ``docs/conf.py``, tested here on a fake build).  The other pages'
Python blocks run here, in order, in one namespace per page, in a temporary folder; their
``bash`` blocks' ``qdthermo ...`` lines run through the command line (``console`` blocks are
shown, not run: servers and clusters).  ``docs/physics.md``, ``docs/architecture.md`` and the
README's blocks have their own tests.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdthermo.cli import main
from qdthermo.thermo.registry import OBSERVABLES, unregister

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OWN_TESTS = {"physics.md", "architecture.md"}  # tests/test_physics_doc.py, tests/test_architecture_doc.py
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "examples" not in p.parts)
TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
TUTORIALS = [p for p in TUTORIALS if p.name != "index.md"]
RUN_HERE = [p for p in PAGES if p.name not in OWN_TESTS and p.parent.name != "tutorials"]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^ *```{lang}\n(.*?)^ *```", text, re.S | re.M)


@pytest.mark.parametrize("page", RUN_HERE, ids=[str(p.relative_to(DOCS)) for p in RUN_HERE])
def test_page_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").symlink_to(DOCS)
    text = page.read_text(encoding="utf-8")
    before = set(OBSERVABLES)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        for k, block in enumerate(_blocks(text, "python")):
            exec(compile(block, f"{page}:python{k}", "exec"), namespace)
        for block in _blocks(text, "bash"):
            for line in block.splitlines():
                line = line.strip()
                if not line.startswith("qdthermo "):
                    continue
                words = shlex.split(line.split(" # ")[0])[1:]
                result = CliRunner().invoke(main, words)
                assert result.exit_code == 0, (line, result.output)
    finally:
        for name in set(OBSERVABLES) - before:
            unregister(name)


def test_tutorials_are_executed_notebooks_listed_in_the_index() -> None:
    assert len(TUTORIALS) >= 8
    index = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    for page in TUTORIALS:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("---\nfile_format: mystnb\n"), page.name  # executed by MyST-NB
        assert "```{code-cell} ipython3" in text, page.name
        assert not _blocks(text, "python"), f"{page.name}: a ```python block would not be executed"
        assert f"\n{page.stem}\n" in index, f"{page.name} is not in the tutorials' toctree"


def test_readme_links_every_page_by_its_path() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[^)#]+)\)", readme))
    for target in linked:
        assert (ROOT / target).exists(), f"README links a missing file: {target}"
    for page in PAGES:
        assert str(page.relative_to(ROOT)) in linked, f"README does not link {page.relative_to(ROOT)}"
    section = readme[readme.index("## Development"):]
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in section
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in (ROOT / ".ci" / "run").read_text()


def _conf():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("docs_conf", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _App:
    def __init__(self, outdir: Path) -> None:
        self.outdir = str(outdir)
        self.builder = type("Builder", (), {"name": "html"})()


@pytest.mark.parametrize("shown", [True, False])
def test_the_build_fails_when_a_tutorial_figure_is_missing(tmp_path: Path, shown: bool) -> None:
    executed, html = tmp_path / "jupyter_execute" / "tutorials", tmp_path / "html" / "tutorials"
    executed.mkdir(parents=True)
    (html / "../_images").mkdir(parents=True)
    outputs = [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}]
    (executed / "t.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": outputs}]}))
    (html / "../_images/fig.png").write_bytes(b"png")
    img = '<img alt="_images/fig.png" src="../_images/fig.png" />' if shown else ""
    (html / "t.html").write_text(f"<html><body>{img}</body></html>")
    check = _conf().check_figures
    if shown:
        check(_App(tmp_path / "html"), None)
    else:
        with pytest.raises(RuntimeError, match="1 figures made, 0 shown"):
            check(_App(tmp_path / "html"), None)


def _modules() -> list[str]:
    import pkgutil

    import qdthermo

    return sorted(m.name for m in pkgutil.walk_packages(qdthermo.__path__, "qdthermo.")
                  if not m.name.startswith(("qdthermo.cli", "qdthermo.explore.server")))


def test_docstring_examples_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every ``>>>`` example in the docstrings (shown in the API reference) runs and prints what it says."""
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    attempted, failures = 0, []
    for name in _modules():
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
        attempted += result.attempted
        if result.failed:
            failures.append(name)
    assert not failures, f"docstring examples fail in {failures} (python -m doctest -v on them)"
    assert attempted >= 20


def test_api_reference_lists_every_public_name() -> None:
    """Each name of ``__all__`` (package and public subpackages) has an entry in docs/api/ (a new one needs a line)."""
    import importlib

    import qdthermo

    def entries(page: str) -> set[str]:
        text = (DOCS / "api" / page).read_text(encoding="utf-8")
        return set(re.findall(r"^   (\w+)$", text, re.M)) | set(re.findall(r"^\.\. py:data:: (\w+)$", text, re.M))

    top = entries("qdthermo.rst")
    missing = [n for n in qdthermo.__all__ if n != "__version__" and n not in top]
    pages = {"model": "model", "kinetics": "kinetics", "thermo": "thermo", "design": "design",
             "design.conditions": "design", "sweeps": "sweeps", "plot": "plot", "explore": "explore", "units": "units"}
    for module, page in pages.items():
        names = importlib.import_module(f"qdthermo.{module}").__all__
        listed = entries(f"{page}.rst")
        missing += [f"{module}.{n}" for n in names if n not in qdthermo.__all__ and n not in listed]
    assert not missing, f"public names without an API entry in docs/api/: {missing}"
