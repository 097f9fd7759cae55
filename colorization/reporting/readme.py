"""Regenerate the README's results sections from the files under ``results/<profile>/``.

    python -m colorization.reporting.readme            # rewrite README.md in place
    python -m colorization.reporting.readme --check    # exit 1 if README.md is out of date

Each profile's section sits between ``<!-- results:<profile>:begin -->`` and
``<!-- results:<profile>:end -->``, and the first screen's summary between
``<!-- glance:begin -->`` and ``<!-- glance:end -->``; nothing outside the markers is touched. Every
number in a section is copied from a results file the notebooks wrote, and the
section says which data, weights and parameters made them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

from colorization.io.files import write_text_atomic
from colorization.io.paths import project_root

ROOT = project_root(__file__)
README = ROOT / "README.md"
FIGURES = (
    ("paper_figure.png", "The paper's figure: gray input, colorization, original"),
    ("full_resolution.png", "Beyond the paper: colorized at the photo's own size"),
    ("train_loss.png", "Training and validation loss"),
    ("best_worst_auc.png", "Best and worst images by AuC"),
    ("vividness.png", "Vividness sweep on the validation split: closeness (AuC) and colourfulness against vividness"),
    ("video_strip.png", "Old film: gray input, frame by frame, motion-aware (flow), truth"),
    ("video_traces.png", "Old film: mean a, mean b and frame-to-frame change over time, per method"),
    ("hint_curve.png", "Colour hints: PSNR and AuC against the number of hints, for each method"),
    ("hint_examples.png", "One image with 0, 5 and 20 hints, by each method"),
)
# analyses beyond the paper: (folder under results/<profile>/, its notebook, what it measures)
EXTRA_SECTIONS = (
    ("video", "06_video", "Old films: video colorization and its flicker (synthesized clips; beyond the paper)"),
    ("hints", "07_hints", "Colour hints (semi-automatic colorization; beyond the paper)"),
)


# profile -> (data, what it needs); wall times and hardware come from results/<profile>/timings.json
PROFILES = {
    "tiny": ("the 9 colour photographs inside scikit-image and matplotlib", "any CPU; no network, no data"),
    "caltech101": ("Caltech-101 (the offline copy beside the checkout, or a download)", "a GPU for 02_train (JAX)"),
    "caltech101_gpu": ("the same Caltech-101 images; 02 trains the network from scratch", "one GPU (JAX), whole run"),
    "paper": ("Caltech-256 (1.2 GB download, md5-checked)", "a GPU for 02_train (JAX)"),
}


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def profile_row(profile: str, results_root: Path) -> str:
    """One row of the profiles table: data, wall time and hardware of the published run, needs."""
    data, needs = PROFILES[profile]
    timings = _read_json(results_root / profile / "timings.json")
    run = _read_json(results_root / profile / "train" / "run.json") or {}
    if timings is None:
        return f"| `{profile}` | {data} | not published yet | | {needs} |"
    machine = timings.get("machine") or {}
    where = f"{machine.get('cores', '?')}-core CPU ({machine.get('cpu', 'unknown')})"
    train = ""
    devices = [d for d in run.get("devices", []) if "cpu" not in d.lower()]
    if devices and run.get("machine") == machine:  # the notebooks ran on the training machine
        where = f"{devices[0].split(' ', 1)[-1]}, {where}"
    if devices and run.get("sessions"):
        wall = sum(s.get("wall_seconds") or 0 for s in run["sessions"])
        train = f"; training {wall:.0f} s on {devices[0].split(' ', 1)[-1]}"
    total = f"{timings['total_seconds'] / 60:.1f} min" + (" (notebooks)" if train else "")
    return f"| `{profile}` | {data} | {total}{train} | {where} | {needs} |"


def glance_sentences(folder: Path) -> list[str]:
    """Three sentences on what was reproduced and how it came out, from one results folder."""
    summary = json.loads((folder / "evaluate" / "summary.json").read_text(encoding="utf-8"))
    stats = {m: {k: v["mean"] for k, v in e["metrics"].items()} for m, e in summary["methods"].items()}
    model, gray = stats["model"], stats["gray"]
    data = summary["data"]
    verdicts = pd.read_csv(folder / "analysis" / "verdicts.csv")
    own = verdicts[~verdicts["claim"].str.contains(r"\[", regex=True)]["verdict"].value_counts()
    supported, refuted, open_ = (int(own.get(v, 0)) for v in ("supported", "not supported", "inconclusive"))
    claims = verdicts["claim"].str.extract(r"^(\d+)\.")[0].nunique()
    return [
        f"On the `{data['source']}` {data['split']} split ({data['images_evaluated']} images), the paper's network "
        f"as this package trains it colours closer to the truth than leaving the photo gray (AuC "
        f"{model['auc']:.3f} against {gray['auc']:.3f}, ab RMSE {model['ab_rmse']:.2f} against {gray['ab_rmse']:.2f}), "
        f"but with {model['cf_pred'] / model['cf_true']:.0%} of the originals' colourfulness "
        f"({model['cf_pred']:.1f} against {model['cf_true']:.1f}).",
        f"The paper's {claims} qualitative claims, measured, give {supported + refuted + open_} computed verdicts "
        f"(some claims have several parts): {supported} supported, {refuted} not supported, {open_} inconclusive "
        f"(`notebooks/04_failure_analysis.ipynb`).",
        *vividness_sentence(summary, stats),
        "`make reproduce` reruns the tiny profile and compares every number with its published reference "
        "(`results/tiny/`), ending with a table of what matched.",
    ]


def vividness_sentence(summary: dict, stats: dict) -> list[str]:
    """The network at its default vividness, if the evaluation scored it (``model_vivid``): one sentence, or none."""
    if "model_vivid" not in stats:
        return []
    vivid = stats["model_vivid"]
    value = summary.get("methods_info", {}).get("model_vivid", {}).get("vividness")
    return [
        f"At its default vividness ({value:.4g}, chosen on the validation split; `--vividness` changes it) the same "
        f"network keeps {vivid['cf_pred'] / vivid['cf_true']:.0%} of the colourfulness at AuC {vivid['auc']:.3f}."
    ]


def render_glance(results_root: Path = ROOT / "results") -> str:
    """The README's first screen: a typical result, three sentences, the profiles table."""
    primary = next((results_root / p for p in ("caltech101", "tiny") if (results_root / p / "evaluate").is_dir()), None)
    if primary is None:
        raise FileNotFoundError(f"{results_root}: no published results; run `make reproduce`")
    lines = ["Generated from `results/` by `python -m colorization.reporting.readme`; do not edit by hand.", ""]
    if (primary / "figures" / "typical.png").is_file():
        lines += [
            f"![Typical results (AuC nearest the median): gray input, colorization, original]"
            f"(results/{primary.name}/figures/typical.png)",
            "",
        ]
    lines += [" ".join(glance_sentences(primary)), ""]
    lines += ["| profile | data | wall time of the published run | hardware | needs |", "|---|---|---|---|---|"]
    lines += [profile_row(p, results_root) for p in PROFILES]
    return "\n".join(lines)


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
    notebooks = sorted(folder.glob("0*.ipynb"))
    if notebooks:
        links = [
            f"[{n.stem}](results/{profile}/{n.name})"
            + (f" ([html](results/{profile}/{n.stem}.html))" if n.with_suffix(".html").is_file() else "")
            for n in notebooks
        ]
        lines += ["", "Executed notebooks (readable in the browser, nothing to install): " + ", ".join(links) + "."]
    vividness = folder / "vividness" / "chosen.md"
    if vividness.is_file():
        lines += [
            "",
            "Default vividness (`notebooks/03_evaluate.ipynb`):",
            "",
            vividness.read_text(encoding="utf-8").strip(),
        ]
    verdicts = folder / "analysis" / "verdicts.md"
    if verdicts.is_file():
        lines += [
            "",
            "The paper's claims, measured (`notebooks/04_failure_analysis.ipynb`):",
            "",
            verdicts.read_text(encoding="utf-8").strip(),
        ]
    for name, notebook, title in EXTRA_SECTIONS:
        summary_md = folder / name / "summary.md"
        if summary_md.is_file():
            lines += [
                "",
                f"{title} (`notebooks/{notebook}.ipynb`):",
                "",
                summary_md.read_text(encoding="utf-8").strip(),
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

    text = pattern.sub(replace, text)
    glance = re.compile(r"<!-- glance:begin -->.*?<!-- glance:end -->", re.S)
    return glance.sub(lambda _: f"<!-- glance:begin -->\n{render_glance(results_root)}\n<!-- glance:end -->", text)


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
