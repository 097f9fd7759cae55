"""Fine-tuning from the shipped weights: choosing categories (training and evaluation), the
fine-tuning run itself on the tiny set, and the tuned-vs-untuned comparison."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from colorization.data.cache import build_cache
from colorization.data.categories import CONTENT_GROUPS, chosen_categories, group_of
from colorization.data.manifest import build_manifest, usable
from colorization.data.pack import write_pack
from colorization.data.sources import FolderSource, SampleSource
from colorization.training.config import ConfigError, TrainConfig, config_from_dict
from colorization.training.data import load_train_data

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32  # cache and network side in the fast tests


def _category_folder(root: Path, counts: dict[str, int]) -> Path:
    """A folder of ``counts[category]`` small random-colour PNGs per category sub-folder."""
    rng = np.random.default_rng(0)
    for category, count in counts.items():
        (root / category).mkdir(parents=True)
        for i in range(count):
            colour = rng.integers(0, 256, 3)
            pixels = np.clip(colour + rng.integers(-40, 40, (40, 40, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / category / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A folder with two animal categories and one other, its manifest, cache and pack."""
    base = tmp_path_factory.mktemp("categories")
    source = FolderSource(_category_folder(base / "photos", {"Leopards": 10, "elephant": 10, "car_side": 20}))
    manifest = build_manifest(source, progress=False)
    cache = build_cache(manifest, base / "cache", size=SIZE, kind="thread", progress=False)
    write_pack(manifest, base / "prepared", size=SIZE, workers=1, kind="thread", progress=False)
    return {"base": base, "source": source, "manifest": manifest, "cache": cache, "pack": base / "prepared"}


def _rows(manifest, split: str, categories) -> int:
    part = usable(manifest, split)
    return int(part["category"].isin(categories).sum())


# --- the options and their checks -------------------------------------------------------


def test_new_options_keep_the_published_runs_digests():
    for name in ("train", "train_classification", "train_hints"):
        record = json.loads((ROOT / "results" / "caltech101" / name / "run.json").read_text(encoding="utf-8"))
        config = config_from_dict({k: v for k, v in record["config"].items() if k in TrainConfig.__dataclass_fields__})
        assert config.digest() == record["config_digest"], name
    assert TrainConfig(content_group="animals").digest() != TrainConfig().digest()
    assert TrainConfig(categories=["Leopards"]).digest() != TrainConfig().digest()


def test_categories_are_canonical_and_take_a_list_or_comma_separated_names():
    assert TrainConfig(categories="llama, Leopards,llama").categories == ["Leopards", "llama"]
    assert TrainConfig(categories=["llama", "Leopards"]).digest() == TrainConfig(categories="Leopards,llama").digest()
    with pytest.raises(ConfigError, match="categories must be a list of names"):
        TrainConfig(categories=[2019])
    with pytest.raises(ConfigError, match="categories must be a list of names"):
        TrainConfig(categories={"a": 1})


def test_chosen_categories_refuse_unknown_names_in_one_line():
    available = ["Leopards", "car_side", "elephant"]
    assert chosen_categories(available) is None
    assert chosen_categories(available, content_group="animals") == ("Leopards", "elephant")
    assert chosen_categories(available, categories=["elephant", "car_side"]) == ("car_side", "elephant")
    problems = {
        "unknown content group 'animal'; the content groups are portraits, animals, landscapes": {
            "content_group": "animal"
        },
        "no category 'leopards' (did you mean 'Leopards'?); its categories: Leopards, car_side, elephant": {
            "categories": ["leopards"]
        },
        "categories is empty": {"categories": []},
        "none of content group portraits's categories": {"content_group": "portraits"},
        "not both": {"categories": ["car_side"], "content_group": "animals"},
    }
    for message, choice in problems.items():
        with pytest.raises(ValueError, match=re.escape(message)) as error:
            chosen_categories(available, **choice)
        assert "\n" not in str(error.value)


def test_content_groups_match_categories_ignoring_case_as_the_claims_do():
    from colorization.evaluation import claims

    assert claims.CONTENT_GROUPS is CONTENT_GROUPS and claims.group_of is group_of  # one definition
    assert chosen_categories(["faces", "car"], content_group="portraits") == ("faces",)
    assert group_of("faces") == "portraits" and group_of("car") is None


# --- training keeps only the chosen rows --------------------------------------------------


@pytest.mark.parametrize("data", ["cache", "pack"])
def test_training_data_keeps_the_chosen_categories_rows_in_their_splits(prepared, data, tmp_path):
    where = {"cache_dir": str(prepared["cache"].folder)}
    if data == "pack":
        where = {"pack_path": str(prepared["pack"]), "cache_dir": str(tmp_path / "decoded")}
    config = TrainConfig(data=data, input_size=SIZE, batch_size=2, content_group="animals", **where)
    chosen = load_train_data(config)
    animals = ("Leopards", "elephant")
    assert len(chosen.train) == _rows(prepared["manifest"], "train", animals) > 0
    assert len(chosen.val) == _rows(prepared["manifest"], "val", animals) > 0
    assert "content group animals (2 categories)" in chosen.description
    everything = load_train_data(config.replace(content_group=None))
    assert len(everything.train) == len(usable(prepared["manifest"], "train")) > len(chosen.train)
    index = prepared["cache"].index
    rows = index[(index["split"] == "train") & index["category"].isin(animals)]["row"].to_numpy()
    if data == "cache":  # the same pixels, in manifest order (a pack's are JPEG-decoded: close, not equal)
        np.testing.assert_array_equal(chosen.train, prepared["cache"].images[rows])
    assert len(load_train_data(config.replace(content_group=None, categories=["car_side"])).train) == _rows(
        prepared["manifest"], "train", ("car_side",)
    )


def test_training_refuses_a_choice_it_cannot_make_in_one_line(prepared, tmp_path):
    cache = {"data": "cache", "cache_dir": str(prepared["cache"].folder), "input_size": SIZE, "batch_size": 2}
    pack = {"data": "pack", "pack_path": str(prepared["pack"]), "cache_dir": str(tmp_path / "never"), **cache}
    pack["data"] = "pack"
    cases = {
        "no category 'Leopard' \\(did you mean 'Leopards'\\?\\); its categories: Leopards, car_side, elephant": {
            **cache,
            "categories": ["Leopard"],
        },
        "none of content group landscapes's categories": {**cache, "content_group": "landscapes"},
        "unknown content group 'pets'": {**pack, "content_group": "pets"},
        "categories is empty": {**cache, "categories": []},
        "not both": {**cache, "categories": ["car_side"], "content_group": "animals"},
        "use data: cache or pack \\(data: synthetic has no categories\\)": {"content_group": "animals"},
    }
    for message, fields in cases.items():
        with pytest.raises(ConfigError, match=message) as error:
            load_train_data(TrainConfig(**fields))
        assert "\n" not in str(error.value)
    assert not (tmp_path / "never").exists()  # refused before the pack was decoded


def test_an_empty_split_of_the_chosen_categories_is_one_line(tmp_path):
    source = FolderSource(_category_folder(tmp_path / "photos", {"one": 1, "many": 10}))
    manifest = build_manifest(source, progress=False)
    cache = build_cache(manifest, tmp_path / "cache", size=SIZE, kind="thread", progress=False)
    config = TrainConfig(data="cache", cache_dir=str(cache.folder), input_size=SIZE, batch_size=1, categories=["one"])
    with pytest.raises(ConfigError, match=r"the val set is empty \(cache .*, categories one\)"):
        load_train_data(config)


# --- evaluation chooses the same way ------------------------------------------------------


def test_evaluation_data_keeps_the_chosen_categories(prepared, tmp_path):
    from colorization.evaluation import load_data
    from colorization.evaluation.selection import load_pack_data

    manifest = prepared["manifest"]
    data = load_data(
        prepared["source"],
        split="test",
        manifest=manifest,
        cache_dir=tmp_path / "c",
        progress=False,
        content_group="animals",
    )
    assert set(data.items["category"]) == {"Leopards", "elephant"}
    assert len(data.items) == _rows(manifest, "test", ("Leopards", "elephant"))
    assert data.describe()["content_group"] == "animals" and data.describe()["categories"] == ["Leopards", "elephant"]
    packed = load_pack_data(prepared["pack"], categories=["car_side"], cache_dir=tmp_path / "p")
    assert set(packed.items["category"]) == {"car_side"} and len(packed.items) == _rows(manifest, "test", ("car_side",))
    with pytest.raises(ValueError, match="no category 'cars'"):
        load_pack_data(prepared["pack"], categories=["cars"], cache_dir=tmp_path / "q")
    assert not (tmp_path / "q").exists()  # refused before decoding
    assert (
        "categories"
        not in load_data(prepared["source"], manifest=manifest, cache_dir=tmp_path / "c", progress=False).describe()
    )


def test_a_run_on_a_cache_is_evaluated_on_that_cache(prepared, tmp_path):
    from colorization.data.manifest import write_manifest
    from colorization.evaluation.finetune import run_data

    manifest, folder = prepared["manifest"], str(prepared["cache"].folder)
    write_manifest(manifest, tmp_path / "manifest.csv")
    config = {"data": "cache", "cache_dir": folder, "manifest_path": str(tmp_path / "manifest.csv")}
    data = run_data({"config": {**config, "content_group": "animals"}}, split="test")
    assert set(data.items["category"]) == {"Leopards", "elephant"}
    assert len(data.items) == _rows(manifest, "test", ("Leopards", "elephant"))
    assert data.source == "cache" and data.describe()["content_group"] == "animals"
    assert len(run_data({"config": config}, split="all").items) == len(usable(manifest))
    with pytest.raises(ValueError, match="without manifest_path"):
        run_data({"config": {"data": "cache", "cache_dir": folder}})
    write_manifest(manifest.iloc[:-1], tmp_path / "other.csv")
    with pytest.raises(ValueError, match="not the manifest the cache"):
        run_data({"config": {**config, "manifest_path": str(tmp_path / "other.csv")}})
    with pytest.raises(ValueError, match="no complete image cache there"):
        run_data({"config": {**config, "cache_dir": str(prepared["base"] / "nothing")}})


def test_evaluate_command_refuses_an_unknown_group_before_any_work(tmp_path, capsys):
    from colorization.cli import main

    code = main(["evaluate", "--data", "sample", "--content-group", "pets", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert "unknown content group 'pets'; the content groups are portraits, animals, landscapes" in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit):
        main(["evaluate", "--data", "sample", "--categories", "a", "--content-group", "animals", "-o", "x"])
    assert "not allowed with argument" in capsys.readouterr().err


# --- a fine-tuning run from the shipped model, and its comparison --------------------------


@pytest.fixture(scope="module")
def photos_pack(tmp_path_factory):
    """ "My own folder of photos": the tiny set's nine photographs in one flat folder (one
    category, split 7/1/1 by the seeded split), prepared into a pack as `colorization prepare` does."""
    base = tmp_path_factory.mktemp("photos")
    folder = base / "photos"
    folder.mkdir()
    for record in SampleSource().records():
        with Image.open(record.path) as image:
            image.convert("RGB").save(folder / f"{Path(record.relpath).stem}.png")
    manifest = build_manifest(FolderSource(folder), progress=False)
    write_pack(manifest, base / "prepared", workers=1, kind="thread", progress=False)
    return base / "prepared"


def _mse(model, images: np.ndarray) -> float:
    """The training loss (MSE on ab / 128) of ``model`` on uint8 ``images``, as the trainer computes it."""
    from colorization.fast.lab_ops import lab_batch

    lightness, ab = lab_batch(images)
    return float(np.mean((np.asarray(model(lightness)) - np.asarray(ab)) ** 2))


def _finetune_config(pack: Path, out: Path, **changes) -> TrainConfig:
    """docs/finetune.md's recipe, cut to one epoch of one tiny step (a CPU test)."""
    fields = {
        "data": "pack",
        "pack_path": str(pack),
        "cache_dir": str(pack.parent / "decoded"),
        "batch_size": 7,
        "epochs": 1,
        "learning_rate": 1e-6,
        "flip": False,
        "early_stopping_patience": None,
        "init_weights": "paper",
        "verbose": 0,
        "output_dir": str(out),
    }
    return TrainConfig(**{**fields, **changes})


@pytest.fixture(scope="module")
def finetuned(photos_pack):
    """The fine-tuning run (one epoch at 256x256 on the CPU) and the losses to check it by."""
    import keras

    from colorization.model import build_paper_model
    from colorization.training.trainer import train
    from colorization.weights import load_weights, reference_weights

    config = _finetune_config(photos_pack, photos_pack.parent / "run")
    data = load_train_data(config)
    keras.utils.set_random_seed(0)
    network = build_paper_model(config.input_size)
    losses = {"fresh": _mse(network, data.val)}
    network.set_weights(load_weights(reference_weights("paper")).get_weights())
    losses["shipped"] = _mse(network, data.val)
    return {"result": train(config), "data": data, "losses": losses, "folder": Path(config.output_dir)}


@pytest.mark.slow
def test_finetuning_starts_from_the_shipped_model(finetuned):
    from colorization.io.files import sha256_file
    from colorization.weights import load_weights, reference_weights, registry

    result, losses = finetuned["result"], finetuned["losses"]
    assert (len(finetuned["data"].train), len(finetuned["data"].val)) == (7, 1)
    assert abs(losses["fresh"] - losses["shipped"]) > 0.2 * losses["shipped"]  # the check below tells starts apart
    assert result.state.history[0]["val_loss"] == pytest.approx(losses["shipped"], rel=0.02)  # one tiny step on
    record = json.loads((finetuned["folder"] / "run.json").read_text(encoding="utf-8"))
    assert record["init_weights"]["sha256"] == registry()["paper"]["sha256"] == sha256_file(reference_weights())
    assert record["status"] == "completed" and result.model_path.is_file()
    tuned = load_weights(result.model_path)  # usable by `colorization colorize --weights`
    assert _mse(tuned, finetuned["data"].val) == pytest.approx(result.state.history[0]["val_loss"], rel=1e-3)


def test_finetuning_refuses_weights_that_do_not_fit_before_writing(prepared, tmp_path):
    from colorization.training.trainer import train

    not_a_model = tmp_path / "photo.keras"
    not_a_model.write_bytes(b"\x89PNG\r\n\x1a\n not a network")
    mismatches = {  # (init_weights, what the one line says)
        "classification": "init_weights: .*layer conv12_ab|init_weights: .*another network",  # into a regression head
        str(not_a_model): "init_weights: .*photo.keras: not a .keras zip archive",
        "hints": r"init_weights: .*layer conv1 is \(3, 3, 4, 64\), this network's is \(3, 3, 1, 64\)",
    }
    for init, message in mismatches.items():
        out = tmp_path / "run"
        with pytest.raises(ConfigError, match=message) as error:
            train(_finetune_config(prepared["pack"], out, input_size=SIZE, init_weights=init))
        assert "\n" not in str(error.value) and not out.exists(), init


def test_paired_statistics_compare_the_same_images():
    from colorization.evaluation.finetune import paired_statistics

    untuned, tuned = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 5.0, np.inf]  # the last image is left out of both
    rows = [
        {"relpath": f"{i}.png", "method": method, "psnr": value}
        for method, values in (("untuned", untuned), ("tuned", tuned))
        for i, value in enumerate(values)
    ]
    stats = paired_statistics(pd.DataFrame(rows), "psnr")
    assert (stats["images"], stats["left_out"], stats["better"]) == (3, 1, 2)
    assert stats["untuned"]["mean"] == pytest.approx(2.0) and stats["tuned"]["mean"] == pytest.approx(3.0)
    assert stats["difference"]["mean"] == pytest.approx(1.0)
    assert stats["difference"]["se"] == pytest.approx(np.std([1, 0, 2], ddof=1) / np.sqrt(3))
    low, high = stats["difference"]["ci95"]
    assert 0 <= low <= 1 <= high <= 2


@pytest.mark.slow
def test_comparison_of_the_run_with_its_start(finetuned, tmp_path, capsys):
    from colorization.evaluation.finetune import main

    run, out = finetuned["folder"], tmp_path / "comparison"
    assert main([str(run), "-o", str(out), "--split", "all", "--limit", "3"]) == 0
    summary = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    psnr = summary["statistics"]["psnr"]
    assert psnr["images"] == 3 and summary["data"]["source"] == "pack" and summary["data"]["images_in_split"] == 9
    assert psnr["difference"]["mean"] == pytest.approx(psnr["tuned"]["mean"] - psnr["untuned"]["mean"])
    assert abs(psnr["difference"]["mean"]) < 0.5  # one step at learning rate 1e-6 barely moves the model
    assert summary["models"]["untuned"]["given"] == "paper"
    assert "| psnr |" in (out / "comparison.md").read_text(encoding="utf-8") and "| auc |" in capsys.readouterr().out
    assert main([str(run), "-o", str(out), "--split", "all", "--limit", "3"]) == 2  # never replaced silently
    assert "per_image.csv: exists (use --overwrite" in capsys.readouterr().err
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    record["init_weights"]["sha256"] = "0" * 64
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert main([str(moved), "-o", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err.strip()
    assert "but the run started from sha256 000000000000" in err and err.count("\n") == 0
    assert not (tmp_path / "never").exists()
