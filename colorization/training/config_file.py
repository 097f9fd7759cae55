"""A configuration from a YAML file and ``--set key=value`` overrides (:func:`load_config`).

The file is read strictly: a regular UTF-8 file of at most 1 MiB, holding one YAML mapping
of ``field: value`` lines, each field once (YAML itself would keep the last of two silently).
Every problem is one :class:`~colorization.training.config.ConfigError` line that names
where the bad value came from: the file, or the ``--set`` that gave it.
"""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from colorization.training.config import ConfigError, TrainConfig, config_from_dict

MAX_CONFIG_BYTES = 1 << 20  # a configuration file is a few hundred bytes


def load_config(path: str | Path | None = None, overrides: list[str] | dict | None = None) -> TrainConfig:
    """Read a YAML configuration file (or the defaults) and apply ``key=value`` overrides.

    Raises
    ------
    ConfigError
        One line, starting with the file's name or ``--set KEY`` when the bad value came
        from there.
    """
    values = read_config_file(path) if path is not None else {}
    extra = overrides if isinstance(overrides, dict) else parse_overrides(overrides or [])
    try:
        return config_from_dict({**values, **extra})
    except ConfigError as error:
        if error.field is not None and error.field in map(str, extra):
            raise ConfigError(f"--set {error.field}: {error}", error.field) from None
        if path is not None:
            raise ConfigError(f"{path}: {error}", error.field) from None
        raise


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict:
    """``["lr=1e-3", "flip=false"]`` -> ``{"lr": 0.001, "flip": False}`` (values parsed as YAML)."""
    values = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        try:
            values[key] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            values[key] = text
    return values


def read_config_file(path: str | Path) -> dict:
    """The ``field: value`` mapping of a YAML configuration file.

    Raises
    ------
    ConfigError
        For a file that is missing, a folder, over 1 MiB, not UTF-8, not YAML, empty, not
        a mapping, or that gives a key twice.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise ConfigError(f"{path}: {'a folder' if path.is_dir() else 'no such file'}, not a configuration file")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size:,} bytes, too large for a configuration file")
        values = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # a safe loader
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start} is not); save it as UTF-8") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({yaml_problem(error)})") from None
    if values is None:
        raise ConfigError(f"{path}: empty; write field: value lines (colorization/training/config.py) or leave it out")
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a configuration must be a mapping of field: value, not a {type(values).__name__}")
    return values


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader (no tags that build Python objects), refusing a key given twice."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            lines: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # merged keys may be overridden
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, typing.Hashable):
                    continue  # the safe loader's own error follows
                line = key_node.start_mark.line + 1
                if key in lines:
                    raise yaml.constructor.ConstructorError(
                        problem=f"{key!r} is given twice, on lines {lines[key]} and {line}"
                    )
                lines[key] = line
        return super().construct_mapping(node, deep=deep)


def yaml_problem(error: yaml.YAMLError) -> str:
    """One line for a YAML error: its problem and, when known, its line."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem}, line {mark.line + 1}" if mark is not None else problem
