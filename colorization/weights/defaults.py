"""The shipped models' default vividness, copied from a validation sweep into the registry.

    python -m colorization.weights.defaults results/caltech101/vividness/chosen.json

reads what :func:`colorization.evaluation.vividness_sweep.sweep_defaults` chose (notebook
03's ``vividness/chosen.json``) and writes, for each registered model it names, the entry's
``vividness``: the ``default``, the ``rule`` and where it was chosen (``chosen_on``, ``source``).
``tests/test_vividness_sweep.py`` checks that the registry and the published sweep agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.weights import REGISTRY_FILE


def vividness_entries(chosen: dict, source: str) -> dict[str, dict]:
    """Registry ``vividness`` entries, name -> {default, rule, chosen_on, source}, from a ``chosen.json`` record."""
    data = chosen.get("provenance", {}).get("data", {})
    where = f"{data.get('source', '?')} {data.get('split', '?')} split"
    return {
        name: {
            "default": choice["vividness"],
            "rule": choice["rule"],
            "chosen_on": f"{where} ({choice['images']} images): AuC {choice['auc']:.4f} "
            f"(best in the sweep {choice['best_auc']:.4f}), mean colourfulness change {choice['delta_cf']:+.2f}",
            "source": source,
        }
        for name, choice in chosen["chosen"].items()
    }


def record_vividness(chosen_path: str | Path, registry_file: Path = REGISTRY_FILE, source: str | None = None) -> dict:
    """Write the ``vividness`` entries of ``chosen_path`` into the registry (atomically); return them.

    Names the registry does not list are refused (ValueError): only shipped models get a default here.
    """
    chosen = json.loads(Path(chosen_path).read_text(encoding="utf-8"))
    entries = vividness_entries(chosen, source or Path(chosen_path).as_posix())
    registry = json.loads(Path(registry_file).read_text(encoding="utf-8"))
    unknown = sorted(set(entries) - set(registry))
    if unknown:
        raise ValueError(f"{chosen_path}: {', '.join(unknown)} not in the registry ({', '.join(registry)})")
    for name, entry in entries.items():
        registry[name]["vividness"] = entry
    write_text_atomic(Path(registry_file), json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="copy a vividness sweep's chosen defaults into the weights registry")
    parser.add_argument("chosen", help="a sweep's chosen.json (notebook 03: RESULTS/vividness/chosen.json)")
    args = parser.parse_args(argv)
    try:
        entries = record_vividness(args.chosen)
    except (OSError, ValueError, KeyError) as error:
        print(f"colorization.weights.defaults: {error}", file=sys.stderr)
        return 2
    for name, entry in entries.items():
        print(f"{name}: vividness {entry['default']:g} ({entry['chosen_on']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
