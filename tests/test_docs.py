"""The guide cannot rot: every ```python block of docs/*.md runs (the blocks of one page in order,
in one namespace, as a reader would paste them), and every relative link and image resolves."""
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
PAGES = sorted(f for f in os.listdir(DOCS) if f.endswith(".md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_there_is_a_guide():
    for page in ("README.md", "getting-started.md", "engine.md", "layers.md", "exercises.md",
                 "kernels.md", "benchmarks.md", "architectures-classic.md",
                 "architectures-more.md", "pictures.md"):
        assert page in PAGES


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(open(os.path.join(DOCS, p)).read())])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    path = os.path.join(DOCS, page)
    monkeypatch.chdir(tmp_path)        # blocks that write files write them here
    monkeypatch.syspath_prepend(ROOT)  # for `benchmarks`
    namespace = {"__name__": f"docs_{page[:-3].replace('-', '_')}"}
    for block in _blocks(open(path, encoding="utf-8").read()):
        exec(compile(block, path, "exec"), namespace)
    sys.modules.pop(namespace["__name__"], None)


@pytest.mark.parametrize("page", PAGES + ["../README.md"])
def test_relative_links_resolve(page):
    path = os.path.normpath(os.path.join(DOCS, page))
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)   # links in code are not links
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file))
        assert os.path.exists(resolved), f"{page}: broken link {target}"
        if anchor and file.endswith(".md"):
            headings = re.findall(r"^#+ (.+)$", open(resolved, encoding="utf-8").read(), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                     for h in headings}
            assert anchor in slugs, f"{page}: no heading #{anchor} in {file}"
