"""MkDocs hooks: put the experiments' READMEs, tables and figures, and the examples, into the
site at their repository paths (they live beside their code, outside docs/), and point the
pages' `../experiments/...` and `../examples/...` links at those copies; and fail the build when
a public name is missing from the API reference."""

import importlib
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
INCLUDED = ("experiments/**/README.md", "experiments/**/*.png", "experiments/**/*.md")
INCLUDED += ("examples/*.py",)
OUTSIDE_DOCS = re.compile(r"\]\(\.\./((?:experiments|examples)/)")
# From an included page back into docs/: `../docs/x.md` -> `../x.md` (docs/ is the site root).
INTO_DOCS = re.compile(r"\]\(((?:\.\./)+)docs/")


def on_files(files: Files, config) -> Files:
    seen = {file.src_uri for file in files}
    for pattern in INCLUDED:
        for path in sorted(ROOT.glob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            if uri in seen or "/smoke/" in uri:
                continue
            seen.add(uri)
            files.append(File(uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri.startswith(("experiments/", "examples/")):
        return INTO_DOCS.sub(r"](\1", markdown)
    return OUTSIDE_DOCS.sub(r"](\1", markdown)


# Every public name (`__all__`) of a module the API page documents has its own entry there, so
# that a name used in the README, the docs or the examples cannot be missing from the reference
# (a name without a docstring, or one shadowed by a submodule of the same name, would be).
API_PAGE = "api.md"
DIRECTIVE = re.compile(r"^::: (\S+)", re.MULTILINE)


def on_post_page(output: str, page, config) -> str:
    if page.file.src_uri != API_PAGE:
        return output
    missing = []
    for module_name in DIRECTIVE.findall((ROOT / "docs" / API_PAGE).read_text()):
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if f'id="{module_name}.{name}"' not in output:
                missing.append(f"{module_name}.{name}")
    if missing:
        raise PluginError(
            f"the API reference has no entry for {missing}: give each a docstring (a constant: "
            "a string literal on the line after it), or rename a submodule that shadows it"
        )
    return output
