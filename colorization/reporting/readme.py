"""Regenerate the README's results sections from the files under ``results/<profile>/``.

    python -m colorization.reporting.readme            # rewrite README.md in place
    python -m colorization.reporting.readme --check    # exit 1 if README.md is out of date

Each profile's section sits between ``<!-- results:<profile>:begin -->`` and
``<!-- results:<profile>:end -->``; nothing outside the markers is touched. Every
number in a section is copied from a results file the notebooks wrote, and the
section says which data, weights and parameters made them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.io.paths import project_root

ROOT = project_root(__file__)
README = ROOT / "README.md"
FIGURES = (
    ("paper_figure.png", "The paper's figure: gray input, colorization, original"),
    ("full_resolution.png", "Beyond the paper: colorized at the photo's own size"),
    ("train_loss.png", "Training and validation loss"),
    ("best_worst_auc.png", "Best and worst images by AuC"),
)


def _marker(profile: str, end: str) -> str:
    return f"<!-- results:{profile}:{end} -->"


def render_section(profile: str, results_root: Path = ROOT / "results") -> str:
    """The Markdown of one profile's results section."""
    folder = results_root / profile
    summary_path = folder / "evaluate" / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path}: no evaluation results; run `make reproduce PROFILE={profile}`")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    lines = [
        f"Generated from `results/{profile}/` by `python -m colorization.reporting.readme`; do not edit by hand.",
        "",
        f"* data: `{summary['data']['source']}`, split `{summary['data']['split']}`, "
        f"{summary['data']['images_evaluated']} images, manifest `{summary['data']['manifest_hash'][:12]}`",
        f"* weights: `{Path(summary['weights']['path']).name}`, sha256 `{(summary['weights']['sha256'] or '')[:12]}`",
        f"* git commit of the run: `{(summary['git'].get('commit') or 'unknown')[:12]}`"
        + (" (with uncommitted changes)" if summary["git"].get("dirty") else ""),
        "",
        (folder / "evaluate" / "summary.md").read_text(encoding="utf-8").strip(),
    ]
    verdicts = folder / "analysis" / "verdicts.md"
    if verdicts.is_file():
        lines += [
            "",
            "The paper's claims, measured (`notebooks/04_failure_analysis.ipynb`):",
            "",
            verdicts.read_text(encoding="utf-8").strip(),
        ]
    for name, caption in FIGURES:
        if (folder / "figures" / name).is_file():
            lines += ["", f"![{caption}](results/{profile}/figures/{name})"]
    return "\n".join(lines)


def update(text: str, results_root: Path = ROOT / "results") -> str:
    """``text`` with every marked results section regenerated."""
    pattern = re.compile(r"<!-- results:(?P<profile>[\w-]+):begin -->.*?<!-- results:(?P=profile):end -->", re.S)

    def replace(match: re.Match) -> str:
        profile = match.group("profile")
        return f"{_marker(profile, 'begin')}\n{render_section(profile, results_root)}\n{_marker(profile, 'end')}"

    return pattern.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    try:
        wanted = update(current)
    except FileNotFoundError as error:
        print(f"readme: {error}", file=sys.stderr)
        return 1
    if args.check:
        if wanted != current:
            print(
                "readme: README.md's results sections differ from results/; "
                "run `python -m colorization.reporting.readme`",
                file=sys.stderr,
            )
            return 1
        return 0
    if wanted != current:
        write_text_atomic(README, wanted)
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
