"""The Python snippets of the README and of the documentation run as written, in order, from the
repository root."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_readme_python_snippets_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert len(blocks) >= 3
    # Paths in the snippets are relative to the repository root; what they write goes to tmp.
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "r.npz").exists()


# A page whose snippets are excerpts of a file runs them after that file's names are imported.
PRELUDES = {"adding_a_prior.md": "from examples.quadratic_prior import *\n"}


@pytest.mark.parametrize(
    "page", sorted(p.name for p in (ROOT / "docs").glob("*.md") if "```python" in p.read_text())
)
def test_the_documentation_python_snippets_run(page, tmp_path, monkeypatch):
    text = (ROOT / "docs" / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    # Paths in the snippets are relative to the repository root; what they write goes to tmp.
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(PRELUDES.get(page, ""), namespace)
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)
