"""Reading and checking a pipeline profile (``profiles/<name>.yaml``).

A profile is a YAML mapping with these keys, all optional::

    name         the results folder's name (default: the file's stem): letters, digits and
                 ``_ . -``, not starting with a dot, so that it stays inside ``results/``
    description  text
    timeout_s    seconds per cell (a positive integer; default 1800)
    common       parameters for every notebook that declares them
    notebooks    ``<notebook>: {parameter: value}`` for the notebooks of the pipeline

Every value is checked against the type its notebook's parameters cell declares (as
papermill reads it: ``seed: int = 0``, or ``limit = None  # type: int|None``) before
papermill writes it into a notebook. Only str, int, float, bool, null and flat lists or
mappings of them can be values, so no profile can run code (``!!binary`` bytes,
``!!set``, timestamps and Python tags are refused). Unknown and duplicate keys are
refused everywhere. Every problem is one :class:`ProfileError` line naming the file,
the key and what to do.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from colorization.io.paths import project_root

PROFILES_DIR = project_root(__file__) / "profiles"
TOP_LEVEL_KEYS = ("name", "description", "timeout_s", "common", "notebooks")
SET_BY_PIPELINE = ("profile", "results_dir")  # the profile's name and its (staging) results folder
DEFAULT_TIMEOUT_S = 1800
MAX_PROFILE_BYTES = 1 << 20
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
SCALAR_KINDS = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None)}
KINDS = {**SCALAR_KINDS, "list": list, "dict": dict}
# what YAML builds beyond plain values, said in the profile's own terms
YAML_ONLY = {
    bytes: "bytes (a YAML !!binary value)",
    set: "a set (YAML !!set)",
    tuple: "a pair list (YAML !!omap or !!pairs)",
    datetime.date: "a date (YAML timestamp; quote it to pass text)",
    datetime.datetime: "a timestamp (quote it to pass text)",
}
ALLOWED = "str, int, float, bool, null, or a flat list or mapping of them"


class ProfileError(ValueError):
    """A profile that cannot be run; the message is one line naming the file and key."""


@dataclass(frozen=True)
class Profile:
    """A checked profile: every key known, every value of its notebook's declared type."""

    path: Path
    name: str
    description: str = ""
    timeout_s: int = DEFAULT_TIMEOUT_S
    common: dict = field(default_factory=dict)
    notebooks: dict = field(default_factory=dict)

    def parameters(self, notebook: str, declared: Mapping[str, object]) -> dict:
        """The profile's values for ``notebook``: the ``common`` ones it declares, then its own."""
        shared = {key: value for key, value in self.common.items() if key in declared}
        return {**shared, **self.notebooks.get(notebook, {})}


def parse_type(annotation: str) -> frozenset[str]:
    """The kinds a parameter admits, from papermill's ``inferred_type_name``.

    ``"int"`` -> {int}; ``"int|None"`` -> {int, None}. Raises ValueError for a parameter
    without a type (papermill says ``"None"``) or with one the pipeline cannot check.
    """
    if annotation.strip() == "None":
        raise ValueError("declares no type; annotate it (seed: int = 0, or limit = None  # type: int|None)")
    kinds = frozenset(part.strip() for part in annotation.split("|"))
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise ValueError(f"type {annotation!r} cannot be checked; use {' | '.join(KINDS)} joined by |")
    return kinds


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (safe_load keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: SafeLoader refuses it below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}: remove one of them", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def profile_path(name_or_path: str | Path) -> Path:
    """``profiles/<name>.yaml`` for a bare name, else the path as given."""
    path = Path(name_or_path)
    if path.suffix:
        return path
    return PROFILES_DIR / f"{name_or_path}.yaml"


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in one line: the problem and where."""
    problem = getattr(error, "problem", None) or str(error)
    if problem.startswith("could not determine a constructor"):
        problem += " (a profile holds plain values only)"
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return " ".join(f"{problem}{where}".split())


def read_yaml(path: Path) -> object:
    """The YAML document in ``path``; ProfileError for an unreadable, non-UTF-8 or invalid file."""
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise ProfileError(f"{path}: larger than {MAX_PROFILE_BYTES} bytes; is this a profile?")
        raw = path.read_bytes()
    except OSError as error:
        raise ProfileError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProfileError(
            f"{path}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); save it as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML: {yaml_problem(error)}") from None
    except RecursionError:
        raise ProfileError(f"{path}: nested too deeply to be a profile") from None


def shown(value: object) -> str:
    """A value as a message shows it: one line, at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str | None:
    """The profile kind of a YAML value (a key of :data:`KINDS`), or None for anything else."""
    return next((name for name, kind in KINDS.items() if type(value) is kind), None)


def check_scalar(value: object, where: str) -> str:
    """The kind of a plain value; ProfileError (``where`` names file and key) for anything else."""
    kind = kind_of(value)
    if kind is None:
        what = next((text for kind, text in YAML_ONLY.items() if type(value) is kind), type(value).__name__)
        raise ProfileError(f"{where}: {what} cannot be a parameter; use {ALLOWED}")
    if kind == "float" and not math.isfinite(value):
        raise ProfileError(f"{where}: {value} is not a finite number")
    if kind == "str":
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProfileError(f"{where}: {shown(value)} is not valid text (a lone surrogate escape)") from None
    return kind


def check_value(value: object, kinds: frozenset[str], where: str) -> None:
    """Refuse ``value`` unless it is of one of ``kinds`` (an int is a float too) and plain throughout."""
    kind = kind_of(value)
    if kind not in ("list", "dict"):
        kind = check_scalar(value, where)
    if kind not in kinds and not (kind == "int" and "float" in kinds):
        expected = " or ".join("null" if k == "None" else k for k in KINDS if k in kinds)
        got = "null" if kind == "None" else f"{kind} {shown(value)}"
        raise ProfileError(f"{where}: expected {expected}, got {got}")
    items = value.items() if kind == "dict" else enumerate(value) if kind == "list" else ()
    for key, item in items:
        if kind == "dict" and type(key) is not str:
            raise ProfileError(f"{where}: key {shown(key)} is not a string; quote it")
        if kind_of(item) in ("list", "dict"):
            raise ProfileError(f"{where}[{key!r}]: nested {kind_of(item)}; values must be flat ({ALLOWED})")
        check_scalar(item, f"{where}[{key!r}]")


def check_keys(mapping: object, allowed, where: str, what: str) -> dict:
    """``mapping`` (null means empty) with only ``allowed`` keys; ProfileError otherwise."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ProfileError(f"{where}: must be a mapping of {what}, got {kind_of(mapping) or 'a'} {shown(mapping)}")
    if any(key in SET_BY_PIPELINE for key in mapping):
        key = next(key for key in mapping if key in SET_BY_PIPELINE)
        raise ProfileError(f"{where}: {key}: set by the pipeline (the profile's name and results folder); remove it")
    unknown = [key for key in mapping if key not in allowed]
    if unknown:
        choices = ", ".join(sorted(key for key in allowed if key not in SET_BY_PIPELINE)) or "none"
        raise ProfileError(f"{where}: unknown key {shown(unknown[0])} (known {what}: {choices})")
    return dict(mapping)


def check_parameters(values: object, declared: Mapping[str, frozenset[str]], where: str, what: str) -> dict:
    """A mapping of parameters, each in ``declared`` (parameter -> kinds) and of a declared kind."""
    values = check_keys(values, declared, where, what)
    for key, value in values.items():
        check_value(value, declared[key], f"{where}.{key}")
    return values


def check_common(common: object, declared: Mapping[str, Mapping[str, frozenset[str]]], where: str) -> dict:
    """The ``common`` section: each key declared by some notebook, of the type each one declares."""
    everywhere = {name for parameters in declared.values() for name in parameters}
    common = check_keys(common, everywhere, where, "parameters declared by the notebooks")
    for parameters in declared.values():
        check_parameters({k: v for k, v in common.items() if k in parameters}, parameters, where, "parameters")
    return common


def check_notebooks(sections: object, declared: Mapping[str, Mapping[str, frozenset[str]]], where: str) -> dict:
    """The ``notebooks`` section: a notebook of the pipeline -> parameters it declares, of their types."""
    sections = check_keys(sections, declared, where, "notebooks")
    return {
        notebook: check_parameters(values, declared[notebook], f"{where}.{notebook}", f"{notebook} parameters")
        for notebook, values in sections.items()
    }


def check_name(data: dict, path: Path) -> str:
    """The profile's plain name: ``name``, else the file's stem."""
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name):
        given = f"name {shown(name)}" if "name" in data else f"the file name {path.stem!r} (no name: key)"
        raise ProfileError(
            f"{path}: {given} is not a plain folder name; use letters, digits, _ . - (not starting with a dot)"
        )
    return name


def check_timeout(data: dict, path: Path) -> int:
    """``timeout_s``: a positive integer (default :data:`DEFAULT_TIMEOUT_S`)."""
    timeout = data.get("timeout_s", DEFAULT_TIMEOUT_S)
    if type(timeout) is not int or timeout <= 0:
        raise ProfileError(f"{path}: timeout_s: expected a positive integer of seconds, got {shown(timeout)}")
    return timeout


def load_profile(name_or_path: str | Path, declared: Mapping[str, Mapping[str, frozenset[str]]]) -> Profile:
    """Read and check a profile by name (``profiles/<name>.yaml``) or path.

    ``declared``: notebook -> parameter -> kinds (:func:`parse_type`), the notebooks'
    parameters cells. Raises ProfileError (one line) for any problem.
    """
    path = profile_path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise ProfileError(f"{path}: no such profile (known: {known})")
    data = check_keys(read_yaml(path), TOP_LEVEL_KEYS, str(path), "profile keys")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise ProfileError(f"{path}: description: expected text, got {shown(description)}")
    return Profile(
        path=path,
        name=check_name(data, path),
        description=description,
        timeout_s=check_timeout(data, path),
        common=check_common(data.get("common"), declared, f"{path}: common"),
        notebooks=check_notebooks(data.get("notebooks"), declared, f"{path}: notebooks"),
    )
