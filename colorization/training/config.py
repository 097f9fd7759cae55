"""Training configuration: one flat dataclass, loadable from YAML, with ``key=value`` overrides.

Where the paper speaks, its choice is the default (256x256 input, the paper network,
tanh output on ab/128, mean squared error). Where it is silent (``docs/paper.md``: optimizer,
learning rate, batch size, epochs, split, augmentation), the default is our documented
choice, marked *ours* below, and every one of them is a field:

===========================  ==================  ==============================================
field                        default             meaning
===========================  ==================  ==============================================
data                         "synthetic"         where images come from: ``synthetic`` (smooth
                                                 colour fields whose ab follow L; tests and
                                                 benchmarks), ``npy`` (uint8 (N,S,S,3) .npy
                                                 files, memory-mapped), ``cache`` (the
                                                 train/val splits of a colorization.data cache)
                                                 or ``pack`` (a JPEG pack, decoded once)
train_path, val_path         None                the ``npy`` arrays (train, validation)
cache_dir                    None                the ``cache`` folder (notebooks pass the cache);
                                                 for ``pack``, where its cache is built
pack_path                    None                ``data: pack``: a colorization.data JPEG pack
                                                 (folder or pack.npz), decoded into a cache
                                                 (default ``<data_dir>/cache/pack-<folder>``)
manifest_path                None                split manifest CSV, hashed into run.json
manifest_hash                None                the split manifest's hash, if known (run.json)
synthetic_train/_val         256 / 64            sizes of the synthetic sets
max_train/val_images         None                use only the first N images (quick runs)
categories, content_group    None                cache/pack: only these categories, or a data.categories group's
input_size                   256                 *paper*: the network takes 256x256
upsampling                   "nearest"           *ours* (model.UPSAMPLING)
precision                    "float32"           or ``mixed_bfloat16`` (float32 output layer)
head                         "regression"        *paper*: tanh ab / 128 output; or
                                                 ``classification``: the ablation of
                                                 Zhang et al. (ECCV 2016), softmax over the
                                                 261 quantized ab bins (colorization.ablation.quantize)
loss                         "mse"               *paper*: mean squared error on ab / 128; the
                                                 classification head always uses the
                                                 rebalanced cross-entropy on soft-encoded ab
                                                 (weights from the training images, run.json)
rebalance_lambda             0.5                 classification head: Zhang et al.'s lambda;
                                                 1 = no rebalancing (every bin weighs 1)
hints                        False               train the hint network (not the paper): three
                                                 more input channels (hint ab, mask) filled
                                                 with simulated points (colorization.training.hints)
init_weights                 None                start from these weights (fine-tuning): a
                                                 .keras file or a shipped model's name
                                                 (colorization.training.init_weights)
optimizer                    "adam"              *ours*; also ``sgd`` (momentum 0.9), ``adamw``
learning_rate                5e-4                *ours*: the calibration run (docs/measurements.md)
batch_size                   64                  *ours* (calibration run); global, all devices
epochs                       60                  *ours*: best validation came near epoch 50 on
                                                 3,840 Caltech-101 images
flip                         True                *ours*: random horizontal flips (p = 0.5)
early_stopping_patience      10                  *ours*: stop after N epochs without a better
                                                 val_loss (None: never)
min_delta                    0.0                 smallest val_loss decrease that counts
restore_best                 True                *ours*: the exported model is the best epoch
seed                         0                   shuffling, flips, synthetic data; weights too
loop                         "fit"               ``fit`` (Keras ``fit``, any backend) or
                                                 ``jax_scan`` (lean jitted JAX loop)
steps_per_execution          None                steps per compiled call (None: fit 1,
                                                 jax_scan 50)
data_placement               "device"            jax_scan: ``device`` (upload the uint8 set
                                                 once) or ``host`` (upload each chunk)
distribution                 "none"              ``data_parallel``: local devices (keras DataParallel,
                                                 tf MirroredStrategy); ``multi_host``: every
                                                 process's (jax_scan; docs/multihost.md)
jit_compile                  "auto"              fit: Keras' ``jit_compile`` (True/False/auto)
verbose                      2                   Keras progress (2: one line per epoch)
output_dir                   "runs/default"      the run folder (checkpoints, history, model)
keep_checkpoints             2                   epoch checkpoints kept (the newest ones)
===========================  ==================  ==============================================
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass, field, fields

import yaml


class ConfigError(ValueError):
    """A configuration, run folder or data set the trainer cannot use (one-line message).

    ``field``: the configuration field at fault, if one is (so that :func:`load_config`
    can say whether the file or a ``--set`` gave it).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


_CHOICES = {
    "data": ("synthetic", "npy", "cache", "pack"),
    "upsampling": ("nearest", "bilinear"),
    "precision": ("float32", "mixed_bfloat16"),
    "head": ("regression", "classification"),
    "loss": ("mse",),
    "optimizer": ("adam", "adamw", "sgd"),
    "loop": ("fit", "jax_scan"),
    "data_placement": ("device", "host"),
    "distribution": ("none", "data_parallel", "multi_host"),
    "jit_compile": (True, False, "auto"),
    "verbose": (0, 1, 2),
}
_AT_LEAST_ONE = ("synthetic_train", "synthetic_val", "input_size", "batch_size", "epochs", "keep_checkpoints")
_AT_LEAST_ONE_OR_NULL = ("max_train_images", "max_val_images", "steps_per_execution", "early_stopping_patience")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding (keras.utils.set_random_seed) takes 0 .. 2**32 - 1

# Fields added after runs were published, at the value those runs had (left out of the digest then).
DIGEST_DEFAULTS = {"head": "regression", "rebalance_lambda": 0.5, "hints": False, "init_weights": None}
DIGEST_DEFAULTS |= {"categories": None, "content_group": None}
# Fields that may differ between a run and its --resume (they change how, not what, is trained).
RESUMABLE_CHANGES = frozenset(
    {"epochs", "verbose", "early_stopping_patience", "min_delta", "loop", "steps_per_execution", "data_placement"}
    | {"distribution", "jit_compile", "keep_checkpoints", "train_path", "val_path", "cache_dir", "pack_path"}
)


@dataclass
class TrainConfig:
    """Everything a training run depends on; see the module docstring for each field."""

    # data
    data: str = "synthetic"
    train_path: str | None = None
    val_path: str | None = None
    cache_dir: str | None = None
    pack_path: str | None = None
    manifest_path: str | None = None
    manifest_hash: str | None = None
    synthetic_train: int = 256
    synthetic_val: int = 64
    max_train_images: int | None = None
    max_val_images: int | None = None
    categories: list[str] | None = None
    content_group: str | None = None
    # model
    input_size: int = 256
    upsampling: str = "nearest"
    precision: str = "float32"
    head: str = "regression"
    # optimization
    loss: str = "mse"
    rebalance_lambda: float = 0.5
    hints: bool = False
    init_weights: str | None = None
    optimizer: str = "adam"
    learning_rate: float = 5e-4
    batch_size: int = 64
    epochs: int = 60
    flip: bool = True
    early_stopping_patience: int | None = 10
    min_delta: float = 0.0
    restore_best: bool = True
    seed: int = 0
    # execution
    loop: str = "fit"
    steps_per_execution: int | None = None
    data_placement: str = "device"
    distribution: str = "none"
    jit_compile: bool | str = "auto"
    verbose: int = 2
    # outputs
    output_dir: str = "runs/default"
    keep_checkpoints: int = 2
    # free-form note copied into the run record (run.json)
    notes: str = field(default="")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Coerce every field to its type and check the values; :class:`ConfigError` names the first bad one."""
        for name in _FIELDS:
            setattr(self, name, _coerce(name, getattr(self, name)))
        for name, message in self._problems():
            raise ConfigError(message, field=name)

    def _problems(self):
        """``(field, message)`` for each rule the values break."""
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                choices = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed)
                yield name, f"{name} must be one of {choices}; got {getattr(self, name)!r}"
        for name in _AT_LEAST_ONE + _AT_LEAST_ONE_OR_NULL:
            value, nullable = getattr(self, name), name in _AT_LEAST_ONE_OR_NULL
            if (value is not None or not nullable) and value < 1:
                yield name, f"{name} must be at least 1{' or null' * nullable}; got {value}"
        rules = (
            ("input_size", self.input_size % 8 == 0, "must be divisible by 8 (three stride-2 layers)"),
            ("learning_rate", math.isfinite(self.learning_rate) and self.learning_rate > 0, "must be finite and > 0"),
            ("min_delta", math.isfinite(self.min_delta) and self.min_delta >= 0, "must be finite and >= 0"),
            ("rebalance_lambda", 0 <= self.rebalance_lambda <= 1, "must be between 0 and 1"),
            ("seed", 0 <= self.seed <= MAX_SEED, f"must be between 0 and {MAX_SEED}"),
            ("output_dir", bool(self.output_dir.strip()), "must name a folder"),
        )
        for name, holds, rule in rules:
            if not holds:
                yield name, f"{name} {rule}; got {getattr(self, name)!r}"
        if self.data == "npy" and not (self.train_path and self.val_path):
            yield "data", "data: npy needs train_path and val_path"
        if self.data == "pack" and not self.pack_path:
            yield "data", "data: pack needs pack_path"

    # --- conversions -----------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def digest(self) -> str:
        """Short hash of the fields that define what is trained (not how)."""
        core = {k: v for k, v in self.to_dict().items() if k not in RESUMABLE_CHANGES | {"output_dir", "notes"}}
        for name, default in DIGEST_DEFAULTS.items():  # at its default, a newer field keeps older runs' digests
            if name in core and core[name] == default:
                del core[name]
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in fields(TrainConfig)}
_HINTS = typing.get_type_hints(TrainConfig)


def _coerce(name: str, value):
    """Check/convert one value against the field's annotation (int, float, bool, str, None)."""
    hint = _HINTS[name]
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise ConfigError(f"{name} cannot be null", field=name)
    if list[str] in options:
        return _names(name, value)
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return _utf8(name, value)
    if float in options and isinstance(value, str):  # YAML reads "5e-4" as a string
        try:
            return float(value)
        except ValueError:
            pass
    if str in options and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    wanted = " or ".join("null" if o is type(None) else o.__name__ for o in options)
    raise ConfigError(f"{name} must be {wanted}; got {value!r}", field=name)


def _names(name: str, value) -> list[str]:
    """A list of names, or one string of comma-separated names: sorted, each once."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{name} must be a list of names (quote any YAML reads as a number); got {value!r}", name)
    return sorted({_utf8(name, item.strip()) for item in items if item.strip()})


def _utf8(name: str, text: str) -> str:
    """``text`` if it can be written as UTF-8 (a command-line argument may hold undecodable bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{name} is not valid UTF-8 text; got {text!r}", field=name) from None
    return text


def config_from_dict(values: dict, base: TrainConfig | None = None) -> TrainConfig:
    """Build a config from a mapping (unknown keys are errors), on top of ``base`` or defaults."""
    if not isinstance(values, dict):
        raise ConfigError(f"a configuration must be a mapping of field: value, got {type(values).__name__}")
    unknown = sorted(str(key) for key in set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown configuration field(s): {', '.join(unknown)} (known: {', '.join(_FIELDS)})", field=unknown[0]
        )
    return TrainConfig(**{**(base or TrainConfig()).to_dict(), **values})


def resume_differences(saved: TrainConfig, current: TrainConfig) -> list[str]:
    """Fields that differ between a run's saved config and the one given to --resume,
    excluding those allowed to change (:data:`RESUMABLE_CHANGES`) and ``output_dir``."""
    a, b = saved.to_dict(), current.to_dict()
    return [
        f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if a[k] != b[k] and k not in RESUMABLE_CHANGES | {"output_dir", "notes"}
    ]
