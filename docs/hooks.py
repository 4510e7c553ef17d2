"""MkDocs hooks: put the experiments' READMEs, tables and figures, and the examples, into the
site at their repository paths (they live beside their code, outside docs/), and point the
pages' `../experiments/...` and `../examples/...` links at those copies."""

import re
from pathlib import Path

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
