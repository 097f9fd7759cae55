"""Profiles are checked before papermill sees them: no value can run code, every bad
profile is one line naming the file and key, and the results folder stays in results/."""

import pytest
import yaml
from papermill.translators import PythonTranslator

from colorization.repro import pipeline
from colorization.repro.profiles import PROFILES_DIR, ProfileError, load_profile, parse_type


@pytest.fixture(scope="module")
def declared():
    return pipeline.declared_parameters()


@pytest.fixture
def write(tmp_path):
    def write(text: str | bytes, name: str = "p.yaml"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path

    return write


def refused(path, declared) -> str:
    """The ProfileError message for ``path``, checked to be one line naming the file."""
    with pytest.raises(ProfileError) as caught:
        load_profile(path, declared)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


def injected(profile, notebook, declared, tmp_path) -> dict:
    """What the notebook's injected-parameters cell defines, by running papermill's own translation."""
    parameters = pipeline.notebook_parameters(profile, notebook, tmp_path, declared)
    namespace = {}
    exec(PythonTranslator.codify(parameters), {}, namespace)  # the source papermill writes into the notebook
    return namespace


def test_every_notebook_parameter_declares_a_type(declared):
    assert set(declared) == set(pipeline.PIPELINE)  # declared_parameters raises for an untyped one
    for notebook, parameters in declared.items():
        assert {"profile", "results_dir", "source", "data_dir"} <= set(parameters), notebook
    assert declared["03_evaluate"]["limit"] == {"int", "None"}
    assert declared["02_train"]["overrides"] == {"dict"}


@pytest.mark.parametrize("name", sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
def test_shipped_profiles_are_valid(name, declared):
    profile = load_profile(name, declared)
    assert profile.name == name and profile.timeout_s > 0


@pytest.mark.parametrize(("annotation", "kinds"), [("str", {"str"}), ("int|None", {"int", "None"}), ("dict", {"dict"})])
def test_parse_type(annotation, kinds):
    assert parse_type(annotation) == kinds


@pytest.mark.parametrize("annotation", ["None", "Path", "list[str]", "int|object"])
def test_parse_type_refuses_what_it_cannot_check(annotation):
    with pytest.raises(ValueError, match="type"):
        parse_type(annotation)


PAYLOAD = "IjsgX19pbXBvcnRfXygnb3MnKS5zeXN0ZW0oJ3RvdWNoIFBXTkVEJyk7IHg9Ig=="  # b'"; __import__("os")...'


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        ("common:\n  source", f"!!binary {PAYLOAD}", "!!binary"),
        ("notebooks:\n  03_evaluate:\n    weights", f"!!binary {PAYLOAD}", "!!binary"),
        ("notebooks:\n  02_train:\n    overrides", f"{{epochs: !!binary {PAYLOAD}}}", "!!binary"),
        ("notebooks:\n  02_train:\n    overrides", f"{{!!binary {PAYLOAD}: 1}}", "not a string"),
        ("common:\n  source", "!!set {a, b}", "!!set"),
        ("common:\n  source", "2001-12-14", "date"),
        ("common:\n  source", "2001-12-14 21:59:43.10", "timestamp"),
        ("common:\n  source", "!!omap [a: 1]", "list"),
        ("notebooks:\n  02_train:\n    overrides", "!!pairs [a: 1]", "dict"),
        ("notebooks:\n  02_train:\n    overrides", "{epochs: 2001-12-14}", "date"),
        ("notebooks:\n  01_data:\n    seed", ".nan", "not a finite number"),
        ("notebooks:\n  02_train:\n    overrides", "{learning_rate: .inf}", "finite"),
        ("notebooks:\n  02_train:\n    overrides", '{notes: "\\ud800"}', "not valid text"),
    ],
)
def test_values_that_are_not_plain_are_refused(where, value, problem, write, declared, tmp_path):
    path = write(f"name: x\n{where}: {value}\n")
    assert problem in refused(path, declared)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch PWNED']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['touch', 'PWNED']]",
        "!!python/module:os",
        "!!python/tuple [1, 2]",
    ],
)
def test_python_tags_are_refused_in_one_line(value, write, declared, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = refused(write(f"name: x\ncommon:\n  source: {value}\n"), declared)
    assert "not valid YAML" in message and "python/" in message and "line 3" in message
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "text",
    [
        'a "quoted" word',
        "it's",
        '"""; import os; os.system("touch PWNED"); x = """',
        "line one\nline two\r\n",
        "back\\slash \\n not a newline \\",
        '\\"; __import__("os").system("touch PWNED"); x = "',
        "tab\tnul\x00bell\x07",
        "café ∂ 🎨 \u2028 separator",
        "#not a comment",
    ],
)
def test_strings_arrive_intact(text, declared, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "strings.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "notebooks": {"03_evaluate": {"weights": text}}}), encoding="utf-8")
    profile = load_profile(path, declared)
    namespace = injected(profile, "03_evaluate", declared, tmp_path)
    assert namespace["weights"] == text
    assert set(namespace) == set(pipeline.notebook_parameters(profile, "03_evaluate", tmp_path, declared))
    assert not (tmp_path / "PWNED").exists()


def test_a_flat_mapping_arrives_intact(write, declared, tmp_path):
    path = write('name: x\nnotebooks:\n  02_train:\n    overrides: {epochs: 3, notes: "a \\"b\\"\\n", rate: 0.5}\n')
    namespace = injected(load_profile(path, declared), "02_train", declared, tmp_path)
    assert namespace["overrides"] == {"epochs": 3, "notes": 'a "b"\n', "rate": 0.5}
    assert namespace["profile"] == "x" and namespace["results_dir"] == str(tmp_path.resolve())


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("notebooks:\n  01_data:\n    seed: zero", "01_data.seed: expected int, got str 'zero'"),
        ("notebooks:\n  01_data:\n    seed: 1.5", "expected int, got float"),
        ("notebooks:\n  01_data:\n    seed: true", "expected int, got bool"),
        ("notebooks:\n  01_data:\n    seed: null", "expected int, got null"),
        ("notebooks:\n  03_evaluate:\n    limit: ten", "expected int or null"),
        ("notebooks:\n  03_evaluate:\n    split: 3", "expected str, got int"),
        ("notebooks:\n  05_figures:\n    examples: [1, 2]", "expected int, got list"),
        ("notebooks:\n  02_train:\n    overrides: [epochs]", "expected dict, got list"),
        ("notebooks:\n  02_train:\n    overrides: null", "expected dict, got null"),
        ("notebooks:\n  02_train:\n    overrides: {epochs: [1]}", "nested list"),
        ("notebooks:\n  02_train:\n    overrides: {a: {b: 1}}", "nested dict"),
        ("notebooks:\n  02_train:\n    overrides: {1: 2}", "key 1 is not a string"),
        ("common:\n  data_dir: 5", "common.data_dir: expected str or null, got int"),
        ("common:\n  seed: x", "common.seed: expected int"),
    ],
)
def test_wrong_types_are_refused(section, problem, write, declared):
    assert problem in refused(write(f"name: x\n{section}\n"), declared)


@pytest.mark.parametrize(
    "section",
    [
        "notebooks:\n  03_evaluate:\n    limit: 5",
        "notebooks:\n  03_evaluate:\n    limit: null",
        "common:\n  data_dir: /data",
        "notebooks:\n  02_train:\n    overrides: {epochs: 3, learning_rate: 1e-3}",
        "notebooks:\n  01_data: null",
        "common: null\nnotebooks: null",
    ],
)
def test_values_of_the_declared_types_are_accepted(section, write, declared):
    load_profile(write(f"name: x\n{section}\n"), declared)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("name: x\ncommon: [a\n", "not valid YAML"),
        ("name: x\n\tcommon: {}\n", "not valid YAML"),
        ("- name\n- x\n", "must be a mapping of profile keys, got list"),
        ("just text\n", "must be a mapping of profile keys, got str"),
        (b"name: caf\xe9\n", "not UTF-8"),
        (b"\xff\xfen\x00a\x00", "not UTF-8"),
        ("name: x\nnotebooks: [01_data]\n", "notebooks: must be a mapping of notebooks, got list"),
        ("name: x\nnotebooks: 01_data\n", "must be a mapping"),
        ("name: x\nnotebooks:\n  01_data: [seed]\n", "notebooks.01_data: must be a mapping"),
        ("name: x\nnotebooks:\n  01_data: 5\n", "notebooks.01_data: must be a mapping"),
        ("name: x\ncommon: [source]\n", "common: must be a mapping"),
        ("name: x\ncomon:\n  source: sample\n", "unknown key 'comon'"),
        ("name: x\n1: y\n", "unknown key 1"),
        ("name: x\ncommon:\n  sorce: sample\n", "common: unknown key 'sorce'"),
        ("name: x\ncommon:\n  resolutoin: full\n", "unknown key 'resolutoin'"),
        ("name: x\nnotebooks:\n  01_data:\n    sead: 1\n", "notebooks.01_data: unknown key 'sead'"),
        ("name: x\nnotebooks:\n  06_extra:\n    seed: 1\n", "notebooks: unknown key '06_extra'"),
        ("name: x\nnotebooks:\n  01_data.ipynb:\n    seed: 1\n", "unknown key '01_data.ipynb'"),
        ("name: x\nnotebooks:\n  01_data:\n    seed: 1\n    seed: 2\n", "duplicate key 'seed'"),
        ("name: x\nname: y\n", "duplicate key 'name'"),
        ("name: x\n---\nname: y\n", "not valid YAML"),
        ("name: x\ntimeout_s: 0\n", "timeout_s"),
        ("name: x\ntimeout_s: '60'\n", "timeout_s"),
        ("name: x\ntimeout_s: true\n", "timeout_s"),
        ("name: x\ndescription: [a]\n", "description"),
        ("name: x\ncommon:\n  results_dir: /tmp/elsewhere\n", "results_dir: set by the pipeline"),
        ("name: x\nnotebooks:\n  01_data:\n    profile: ../../x\n", "profile: set by the pipeline"),
        ("[" * 50_000, "nested too deeply"),
    ],
)
def test_bad_profiles_are_one_line(content, problem, write, declared):
    assert problem in refused(write(content), declared)


@pytest.mark.parametrize(
    "name", ["../../x", "/tmp/x", "a/b", "..", ".", ".hidden", "", "x y", "x\\y", "x\n", "~", 5, None, ["x"]]
)
def test_names_are_plain(name, write, declared):
    assert "plain folder name" in refused(write(yaml.safe_dump({"name": name})), declared)


def test_a_file_name_that_is_not_plain_needs_a_name_key(write, declared):
    assert "the file name" in refused(write("common: {}\n", name="my profile.yaml"), declared)
    assert load_profile(write("name: mine\n", name="my profile.yaml"), declared).name == "mine"
    assert load_profile(write("", name="v1.2-b_3.yaml"), declared).name == "v1.2-b_3"


def test_unreadable_profiles_are_one_line(tmp_path, declared):
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert "no such profile" in refused(tmp_path / "missing.yaml", declared)
    assert "no such profile" in refused(folder, declared)
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 200_000)
    assert "larger than" in refused(big, declared)


def test_common_values_go_to_the_notebooks_that_declare_them(write, declared, tmp_path):
    profile = load_profile(write("name: x\ncommon:\n  seed: 3\n  split: val\n"), declared)
    assert pipeline.notebook_parameters(profile, "01_data", tmp_path, declared)["seed"] == 3
    assert "split" not in pipeline.notebook_parameters(profile, "01_data", tmp_path, declared)
    assert pipeline.notebook_parameters(profile, "03_evaluate", tmp_path, declared)["split"] == "val"


def test_the_command_line_prints_one_line_and_runs_nothing(write, tmp_path, capsys):
    path = write(f"name: x\ncommon:\n  source: !!binary {PAYLOAD}\n")
    assert pipeline.main(["--profile", str(path), "--results-root", str(tmp_path / "results")]) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith(f"pipeline: {path}: common.source") and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_a_negative_timeout_is_refused(tmp_path, capsys):
    assert pipeline.main(["--profile", "tiny", "--timeout", "0", "--results-root", str(tmp_path)]) == 1
    assert "--timeout 0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_papermill_help_shows_types_and_defaults():
    from click.testing import CliRunner
    from papermill.cli import papermill

    shown = CliRunner().invoke(papermill, ["--help-notebook", str(pipeline.NOTEBOOKS_DIR / "03_evaluate.ipynb")])
    assert shown.exit_code == 0, shown.output
    assert "limit: int|None (default None)" in shown.output and "split: str (default " in shown.output
    assert "Unknown type" not in shown.output


def test_a_results_folder_the_pipeline_did_not_write_is_never_replaced(write, tmp_path, capsys):
    (tmp_path / "results" / "app").mkdir(parents=True)
    (tmp_path / "results" / "app" / "screenshot.png").write_bytes(b"png")
    assert pipeline.main(["--profile", str(write("name: app\n")), "--results-root", str(tmp_path / "results")]) == 1
    assert "holds no results of the pipeline" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["app"]
