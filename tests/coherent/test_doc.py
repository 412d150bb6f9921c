"""docs/coherent.md is executed, block after block in one namespace, so its claims cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "coherent.md"


def test_coherent_doc_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for k, block in enumerate(blocks):
        exec(compile(block, f"{DOC}:block{k}", "exec"), namespace)
