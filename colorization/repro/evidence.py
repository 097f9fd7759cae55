"""Executed notebooks and results as portable evidence: no machine paths, no churn, readable anywhere.

A results folder that is published (committed under ``results/<profile>/``) goes through
:func:`make_portable` first:

* every text file (notebooks, JSON, CSV, Markdown, YAML, logs) has the checkout's absolute path
  replaced by ``.`` and its parent's by ``..`` (so ``/home/me/colorization/results/tiny`` reads
  ``./results/tiny`` and the offline data copy beside the checkout ``../shared/...``), the home
  folder by ``~`` and the temporary folder by ``<tmp>``;
* executed notebooks lose what changes on every run without meaning anything: papermill's and
  Jupyter's per-cell timestamps and durations, the run's start and end times;
* stderr progress bars (tqdm's carriage-return redraws) are dropped from cell outputs: they are
  noise in a committed notebook (the pipeline streams them to the terminal while it runs);
* each notebook gets an HTML export beside it (``<name>.html``), readable in any browser or on the
  repository's web page without installing anything.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.io.paths import project_root

TEXT_SUFFIXES = {".ipynb", ".json", ".csv", ".md", ".yaml", ".yml", ".log", ".txt"}
CHURN_KEYS = ("start_time", "end_time", "duration")
STAGING = re.compile(r"\.staging-([A-Za-z0-9_.-]+?)-\d+(?=[/\\\"'\s,)\]]|$)")  # colorization.repro.staging
PROGRESS = re.compile(r"\r|\d+%\|")  # tqdm's redraws and bars


def portable_text(text: str, root: Path, moved: dict | None = None) -> str:
    """``text`` with the checkout, its parent folder and the home folder written relative.

    ``moved``: {absolute folder: relative name} applied first, for a folder published under
    another name (a rerun in ``runs/`` becoming ``./results/<profile>``).
    """
    root = root.resolve()
    pairs = [(Path(k).resolve(), v) for k, v in (moved or {}).items()]
    text = STAGING.sub(r"\1", text)  # results/.staging-tiny-1234 -> results/tiny
    temporary = Path(tempfile.gettempdir()).resolve()
    # the temporary folder before the checkout's parent: a checkout may itself live in /tmp
    for absolute, relative in (*pairs, (root, "."), (temporary, "<tmp>"), (root.parent, ".."), (Path.home(), "~")):
        if str(absolute) not in ("/", ""):
            # only where the absolute path starts (never inside a relative one: "BACKGROUND_Google/tmp")
            text = re.sub(r"(?<![\w./~-])" + re.escape(str(absolute)) + r"(?=[/\\\"'\s,)\]]|$)", relative, text)
    return text


def quiet_outputs(outputs: list) -> list:
    """Cell outputs without stderr progress bars."""
    return [
        o
        for o in outputs
        if not (o.get("output_type") == "stream" and o.get("name") == "stderr" and PROGRESS.search("".join(o["text"])))
    ]


def steady_notebook(notebook: dict) -> dict:
    """An executed notebook without per-run timestamps and durations, and without progress noise."""
    papermill = notebook.get("metadata", {}).get("papermill", {})
    for key in CHURN_KEYS:
        papermill.pop(key, None)
    for cell in notebook.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        for key in CHURN_KEYS:
            cell.get("metadata", {}).get("papermill", {}).pop(key, None)
        if "outputs" in cell:
            cell["outputs"] = quiet_outputs(cell["outputs"])
    return notebook


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
pre{{background:#f6f6f6;padding:.5em;overflow-x:auto}} img{{max-width:100%}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px}}</style>
</head><body>
{body}
</body></html>
"""


def export_html(notebook_path: Path) -> Path:
    """``<notebook>.html`` beside the notebook: nbconvert's ``basic`` template (cells, outputs and
    images, without the 280 KB of JupyterLab's style sheet that every page would repeat)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nbformat.read(notebook_path, as_version=4))
    return write_text_atomic(notebook_path.with_suffix(".html"), PAGE.format(title=notebook_path.stem, body=body))


def make_portable(
    folder: str | Path, root: Path | None = None, html: bool = True, moved: dict | None = None
) -> list[Path]:
    """Rewrite every text file under ``folder`` in place as described above; return those changed."""
    root = root or project_root()
    changed = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = json.dumps(steady_notebook(json.loads(text)), indent=1, ensure_ascii=False) + "\n"
        new = portable_text(text, root, moved)
        if new != path.read_text(encoding="utf-8"):
            write_text_atomic(path, new)
            changed.append(path)
        if html and path.suffix == ".ipynb":
            export_html(path)
    return changed


def absolute_paths(folder: str | Path) -> list[str]:
    """``file: path`` for every absolute machine path left in the text files under ``folder``."""
    pattern = re.compile(r"(?<![\w.~])/(?:home|root|work|tmp|Users|opt|mnt|var|srv)/[^\s\"'<>]*")
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES | {".html"}:
            found += [f"{path}: {m}" for m in pattern.findall(path.read_text(encoding="utf-8", errors="replace"))]
    return found
