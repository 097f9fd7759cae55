"""Evaluating a colorization model against baselines, per image, per category and overall.

Modules
-------
selection     which images (:func:`load_data`): manifest, cache, split
methods       what is evaluated: :class:`Method` (anything mapping uint8 network views to
              ab), :class:`ModelMethod`, the baselines :class:`GrayMethod` and
              :class:`ConstantAbMethod`, and :func:`mean_ab` (the train split's mean ab)
runner        scoring (:func:`score_methods`) and the whole evaluation (:func:`evaluate`)
tables        per-category means, the summary, its Markdown table, and writing the files
claims        the paper's six claims as measurements (notebook 04)
image_claims  the two claims that need the network on images (small details, fragments)
verdicts      the one rule that turns a claim's measurements into a verdict
vividness_sweep  each model's default vividness, chosen on the validation split (notebook 03)
finetune      a fine-tuned model against the model it started from (``python -m colorization.evaluation.finetune``)

From a notebook::

    from colorization.evaluation import load_data, evaluate, write_results
    data = load_data("sample", split="all")
    results = evaluate(data, "model.keras")
    results.per_image.groupby("method")["auc"].mean()

``colorization evaluate`` (:mod:`colorization.cli.evaluate`) is a thin wrapper.
"""

from colorization.evaluation.methods import (
    ConstantAbMethod,
    GrayMethod,
    MeanAb,
    Method,
    ModelMethod,
    baselines,
    mean_ab,
)
from colorization.evaluation.runner import RESOLUTIONS, Results, evaluate, score_methods
from colorization.evaluation.selection import SPLIT_CHOICES, EvalData, load_data, select_evenly
from colorization.evaluation.tables import (
    RESULT_FILES,
    existing_results,
    markdown_summary,
    method_statistics,
    per_category,
    read_per_image,
    summarize,
    write_results,
)

__all__ = [
    "ConstantAbMethod",
    "GrayMethod",
    "MeanAb",
    "Method",
    "ModelMethod",
    "baselines",
    "mean_ab",
    "RESOLUTIONS",
    "SPLIT_CHOICES",
    "EvalData",
    "Results",
    "evaluate",
    "load_data",
    "score_methods",
    "select_evenly",
    "RESULT_FILES",
    "existing_results",
    "markdown_summary",
    "method_statistics",
    "per_category",
    "read_per_image",
    "summarize",
    "write_results",
]
