"""Evaluation: baselines, per-image / per-category / summary tables, files, and the CLI wrapper.

Runs on the built-in ``sample`` source with the seeded random-weight model of
``conftest.py``; expected values are computed independently (scikit-image Lab,
pandas group-bys, hashlib) wherever possible.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage.color import rgb2lab

from colorization.colorize import render
from colorization.data.paths import OWNER_MARKER
from colorization.evaluation import (
    RESULT_FILES,
    ConstantAbMethod,
    GrayMethod,
    Method,
    ModelMethod,
    evaluate,
    load_data,
    mean_ab,
    per_category,
    read_per_image,
    score_methods,
    select_evenly,
    summarize,
    write_results,
)
from colorization.io.files import OutputExistsError
from colorization.metrics import METRIC_KEYS
from tests.conftest import SKIMAGE_DATA

ALWAYS_FINITE = (
    "psnr",
    "ssim",
    "ab_rmse",
    "auc",
    "cf_pred",
    "cf_true",
    "delta_cf",
    "brown_pred",
    "brown_true",
    "delta_b",
    "sand_pixels",
)


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    """All 9 sample images (split "all"), cached in a temporary folder."""
    cache = tmp_path_factory.mktemp("eval_cache")
    return load_data("sample", split="all", seed=0, cache_dir=cache, workers=1, progress=False)


@pytest.fixture(scope="module")
def paper_results(sample_data, model, model_file):
    """Model + baselines on 3 sample images, paper resolution (shared by several tests)."""
    picked = sample_data.items.iloc[select_evenly(len(sample_data.items), 3)].reset_index(drop=True)
    return evaluate(replace(sample_data, items=picked, limit=3), model_file, model=model, progress=False)


def _true_lab(data, relpath):
    row = int(data.items.set_index("relpath").loc[relpath, "row"])
    return rgb2lab(np.asarray(data.cache.images[row]))


# --- baselines and the method abstraction -------------------------------------------------
def test_mean_ab_equals_per_pixel_lab_mean(real_photos):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)  # ~4800 distinct colours
    photos = np.stack([np.asarray(Image.fromarray(p).resize((40, 40))) for p in real_photos.values()])
    images = np.concatenate([noise, photos])
    lab = rgb2lab(images)
    result = mean_ab(images, chunk_pixels=2000)  # several chunks
    assert result.a == pytest.approx(lab[..., 1].mean(), abs=1e-4)
    assert result.b == pytest.approx(lab[..., 2].mean(), abs=1e-4)
    assert (result.images, result.pixels) == (len(images), images.shape[0] * 40 * 40)
    with pytest.raises(ValueError):
        mean_ab(images.astype(np.float32))


def test_mean_ab_of_cache_uses_train_split_only(sample_data):
    cache = sample_data.cache
    train = cache.rows("train")
    assert 0 < len(train) < len(cache)
    lab = rgb2lab(np.asarray(cache.images[train]))
    result = mean_ab(cache)
    assert result.ab == pytest.approx((lab[..., 1].mean(), lab[..., 2].mean()), abs=1e-4)
    assert result.images == len(train)


def test_methods_map_views_to_ab(model):
    views = np.random.default_rng(0).integers(0, 256, size=(2, 256, 256, 3), dtype=np.uint8)
    gray, constant, net = GrayMethod(), ConstantAbMethod((3.5, -7.25)), ModelMethod(model)
    for method in (gray, constant, net):
        assert isinstance(method, Method)
        assert method.predict_ab(views).shape == (2, 256, 256, 2)
    assert not gray.predict_ab(views).any()
    ab = constant.predict_ab(views)
    assert np.all(ab[..., 0] == 3.5) and np.all(ab[..., 1] == -7.25)
    from colorization.colorize import predict_ab

    np.testing.assert_array_equal(net.predict_ab(views), predict_ab(model, views))
    with pytest.raises(ValueError):
        gray.predict_ab(views.astype(np.float32))


def test_render_gray_is_exactly_neutral_with_the_same_lightness(real_photos):
    rgb = real_photos["coffee.png"]
    out = render(rgb, np.zeros((256, 256, 2), np.float32))
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    # lightness kept (to 8-bit rounding: one code value is < 0.5 L at mid-gray, < 1.3 near black)
    assert np.abs(rgb2lab(out)[..., 0] - rgb2lab(rgb)[..., 0]).max() < 1.5


# --- the evaluation ------------------------------------------------------------------------
def test_one_row_per_image_and_method(paper_results, sample_data):
    table = paper_results.per_image
    assert list(table.columns) == ["relpath", "category", "method", "height", "width", *METRIC_KEYS]
    assert len(table) == 3 * 3
    assert table.groupby("relpath")["method"].apply(list).map(tuple).unique().tolist() == [("model", "gray", "mean_ab")]
    # --limit 3 of 9 images sorted by path: the 1st, 5th and 9th, in that order
    assert list(table["relpath"].unique()) == list(sample_data.items["relpath"].iloc[[0, 4, 8]])
    assert list(table["relpath"].unique()) == [
        "matplotlib/grace_hopper.jpg",
        "skimage/hubble_deep_field.jpg",
        "skimage/rocket.jpg",
    ]
    assert (table["height"] == 256).all() and (table["width"] == 256).all()
    for key in ALWAYS_FINITE:
        assert np.isfinite(table[key]).all(), key
    has_sand = table["sand_pixels"] > 0
    assert table.loc[has_sand, "sand_as_water"].between(0, 1).all()
    assert table.loc[~has_sand, "sand_as_water"].isna().all()


def test_model_rows_match_a_direct_computation(paper_results, sample_data, model):
    from colorization.colorize import predict_ab, render
    from colorization.metrics import image_metrics

    first = sample_data.items.iloc[0]
    view = np.asarray(sample_data.cache.images[first["row"]])
    expected = image_metrics(render(view, predict_ab(model, view[None])[0]), view)
    row = paper_results.per_image.query("relpath == @first.relpath and method == 'model'").iloc[0]
    for key in METRIC_KEYS:
        assert row[key] == pytest.approx(expected[key], nan_ok=True), key


def test_gray_baseline(paper_results, sample_data):
    gray = paper_results.per_image[paper_results.per_image["method"] == "gray"]
    assert (gray["cf_pred"] == 0).all()
    assert (gray["brown_pred"] == 0).all()
    for row in gray.itertuples():
        lab = _true_lab(sample_data, row.relpath)
        # R = G = B reads as b* ~ 0.002 in scikit-image's Lab (its sRGB matrix rows do not
        # sum exactly to the D65 white), hence the tolerance
        assert row.delta_b == pytest.approx(-lab[..., 2].mean(), abs=5e-3)
        # ab RMSE of predicting ab = 0 is the RMS of the original's a and b
        assert row.ab_rmse == pytest.approx(np.sqrt(np.mean(lab[..., 1:] ** 2)), abs=5e-3)


def test_mean_ab_baseline(paper_results, sample_data):
    expected = mean_ab(sample_data.cache, split="train")
    recorded = paper_results.summary["mean_ab"]
    assert (recorded["a"], recorded["b"]) == pytest.approx(expected.ab, abs=1e-9)
    assert recorded["images"] == len(sample_data.cache.rows("train"))
    assert paper_results.summary["methods_info"]["mean_ab"]["ab"] == pytest.approx(list(expected.ab))
    # the rendered images carry that constant chroma (up to 8-bit rounding and gamut limits)
    view = np.asarray(sample_data.cache.images[sample_data.items["row"].iloc[0]])
    out = rgb2lab(render(view, ConstantAbMethod(expected.ab).predict_ab(view[None])[0]))
    lit = (out[..., 0] > 20) & (out[..., 0] < 90)
    assert np.median(out[..., 1][lit]) == pytest.approx(expected.a, abs=1.0)
    assert np.median(out[..., 2][lit]) == pytest.approx(expected.b, abs=1.0)
    # over whole images, dark and bright pixels cannot show that chroma in sRGB: the
    # lightness-preserving gamut mapping only lowers it, so 0 <= mean b*(output) <= b
    rows = paper_results.per_image[paper_results.per_image["method"] == "mean_ab"]
    for row in rows.itertuples():
        output_b = row.delta_b + _true_lab(sample_data, row.relpath)[..., 2].mean()
        assert 0 <= output_b <= expected.b + 0.1


def test_per_category_and_summary_agree_with_pandas(paper_results):
    table = paper_results.per_image
    cats = paper_results.per_category
    expected = table.groupby(["category", "method"])[list(METRIC_KEYS)].mean()
    for row in cats.itertuples():
        assert row.images == len(table[(table.category == row.category) & (table.method == row.method)])
        for key in METRIC_KEYS:
            assert getattr(row, key) == pytest.approx(expected.loc[(row.category, row.method), key], nan_ok=True)
    stats = paper_results.summary["methods"]
    assert list(stats) == ["model", "gray", "mean_ab"]
    for method, group in table.groupby("method"):
        assert stats[method]["images"] == len(group)
        assert stats[method]["metrics"]["auc"]["mean"] == pytest.approx(group["auc"].mean())
        assert stats[method]["metrics"]["psnr"]["median"] == pytest.approx(group["psnr"].median())
    assert "| metric | better | model | gray | mean_ab |" in paper_results.markdown


def test_nan_metrics_are_skipped_and_counted():
    table = pd.DataFrame(
        {
            "relpath": ["a", "a", "b", "b", "c", "c"],
            "category": ["x", "x", "x", "x", "y", "y"],
            "method": ["model", "gray"] * 3,
            "height": 8,
            "width": 8,
            **{key: 1.0 for key in METRIC_KEYS},
        }
    )
    table["sand_as_water"] = [0.5, np.nan, np.nan, np.nan, 0.25, 0.0]
    cats = per_category(table).set_index(["category", "method"])
    assert cats.loc[("x", "model"), "sand_as_water"] == 0.5
    assert cats.loc[("x", "model"), "valid_sand_as_water"] == 1
    assert math.isnan(cats.loc[("x", "gray"), "sand_as_water"])
    assert cats.loc[("x", "gray"), "valid_sand_as_water"] == 0
    assert cats.loc[("x", "gray"), "images"] == 2
    summary = summarize(table)
    model_stat = summary["methods"]["model"]["metrics"]["sand_as_water"]
    assert model_stat == {"mean": 0.375, "median": 0.375, "valid": 2}
    assert summary["methods"]["gray"]["metrics"]["sand_as_water"]["valid"] == 1


def test_written_files_and_provenance(paper_results, sample_data, model_file, tmp_path):
    from colorization import __version__
    from colorization.data.manifest import manifest_hash

    paths = write_results(paper_results, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*RESULT_FILES.values(), OWNER_MARKER])
    back = read_per_image(paths["per_image"])
    pd.testing.assert_frame_equal(back, paper_results.per_image, check_dtype=False)
    cats = pd.read_csv(paths["per_category"])
    assert len(cats) == len(paper_results.per_category)

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    summary = json.loads(paths["summary"].read_text(), parse_constant=no_constants)
    assert summary["weights"] == {
        "path": str(model_file.resolve()),
        "sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
    }
    data = summary["data"]
    assert data["source"] == "sample" and data["split"] == "all" and data["seed"] == 0
    assert data["manifest_hash"] == manifest_hash(sample_data.manifest)
    assert data["images_evaluated"] == 3 and data["images_in_split"] == 9
    assert data["excluded_by_manifest"]["total"] == 0
    assert summary["resolution"] == "paper"
    assert summary["package"]["version"] == __version__
    assert "commit" in summary["git"]
    assert set(summary["mean_ab"]) >= {"a", "b", "images", "pixels"}
    assert set(summary["methods"]["gray"]["metrics"]) == set(METRIC_KEYS)
    assert paths["markdown"].read_text() == paper_results.markdown


def test_refuses_to_overwrite(paper_results, tmp_path):
    write_results(paper_results, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "summary.md").write_text("mine")
    with pytest.raises(OutputExistsError):
        write_results(paper_results, tmp_path)
    assert (tmp_path / "summary.md").read_text() == "mine"
    assert (tmp_path / "per_image.csv").read_bytes() == before["per_image.csv"]
    write_results(paper_results, tmp_path, overwrite=True)
    assert (tmp_path / "summary.md").read_text() == paper_results.markdown
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [OWNER_MARKER]  # no temporary


def test_full_resolution_uses_each_images_own_size(sample_data, model):
    from colorization.io.images import load_image

    data = replace(sample_data, items=sample_data.items[sample_data.items["relpath"] == "skimage/chelsea.png"])
    methods = [ModelMethod(model), GrayMethod(), ConstantAbMethod((10.0, 20.0))]
    table = score_methods(methods, data, resolution="full", progress=False)
    assert len(table) == 3
    height, width = load_image(data.items["path"].iloc[0]).size
    assert (table["height"] == height).all() and (table["width"] == width).all() and (height, width) != (256, 256)
    gray = table[table["method"] == "gray"].iloc[0]
    assert gray["cf_pred"] == 0
    original = np.asarray(Image.open(data.items["path"].iloc[0]).convert("RGB"))
    assert gray["delta_b"] == pytest.approx(-rgb2lab(original)[..., 2].mean(), abs=5e-3)


def test_folder_source_exclusions_and_undefined_metrics(tmp_path):
    """Grayscale and unreadable files are excluded and counted; an image without sand gets NaN."""
    root = tmp_path / "photos"
    (root / "sky").mkdir(parents=True)
    ramp = np.linspace(0, 1, 64)[:, None]
    for i in range(2):  # blue skies: no sand-like pixel
        sky = np.stack(
            [40 + 60 * ramp + 0 * ramp.T, 110 + 80 * ramp + 5 * i + 0 * ramp.T, np.full((64, 64), 220.0)], axis=-1
        )
        Image.fromarray(sky.astype(np.uint8)).save(root / "sky" / f"sky{i}.png")
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(root / "sky" / "gray.png")
    (root / "sky" / "broken.jpg").write_bytes(b"not a jpeg")
    from colorization.data.sources import FolderSource

    data = load_data(FolderSource(root), split="all", cache_dir=tmp_path / "cache", workers=1, progress=False)
    info = data.describe()
    assert info["excluded_by_manifest"] == {"total": 2, "grayscale": 1, "unreadable": 1, "other_excluded": 0}
    assert info["images_evaluated"] == 2
    table = score_methods([GrayMethod(), ConstantAbMethod((0.0, 0.0), name="zero")], data, progress=False)
    assert (table["sand_pixels"] == 0).all() and table["sand_as_water"].isna().all()
    summary = summarize(table, {"data": info})
    assert summary["methods"]["gray"]["metrics"]["sand_as_water"] == {
        "mean": pytest.approx(math.nan, nan_ok=True),
        "median": pytest.approx(math.nan, nan_ok=True),
        "valid": 0,
    }
    from colorization.evaluation.tables import jsonable, markdown_summary

    assert (
        json.loads(json.dumps(jsonable(summary), allow_nan=False))["methods"]["gray"]["metrics"]["sand_as_water"][
            "mean"
        ]
        is None
    )
    assert "n/a" in markdown_summary(summary)
    # two usable images in one category: 1 train, 0 val, 1 test (colorization.data.splits)
    with pytest.raises(ValueError, match="no usable images in split 'val'"):
        load_data(FolderSource(root), split="val", cache_dir=tmp_path / "cache", workers=1, progress=False)


# --- the command line ---------------------------------------------------------------------
def test_cli_missing_weights_is_one_line(tmp_path, capsys):
    from colorization.cli import main

    missing = tmp_path / "nope.keras"
    status = main(["evaluate", "--weights", str(missing), "--data", "sample", "-o", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert err.startswith("colorization evaluate:") and str(missing) in err
    assert not (tmp_path / "out").exists()


def test_cli_refuses_existing_results(tmp_path, capsys, model_file):
    from colorization.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    status = main(["evaluate", "--weights", str(model_file), "--data", "sample", "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.strip().count("\n") == 0
    assert "summary.json: exists (use --overwrite" in err
    assert (out / "summary.json").read_text() == "{}"


def test_cli_choices_match_the_library():
    from colorization.cli import evaluate as command
    from colorization.evaluation import runner, selection

    assert command.RESOLUTIONS == runner.RESOLUTIONS
    assert command.SPLIT_CHOICES == selection.SPLIT_CHOICES


def test_cli_end_to_end(tmp_path, capsys, model_file):
    from colorization.cli import main

    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--weights",
        str(model_file),
        "--data",
        "sample",
        "--split",
        "test",
        "--cache",
        str(tmp_path / "cache"),
        "--workers",
        "1",
        "-o",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "| metric | better | model | gray | mean_ab |" in captured.out
    assert captured.err == ""  # --quiet: the results on stdout, nothing else
    assert sorted(p.name for p in out.iterdir()) == sorted([*RESULT_FILES.values(), OWNER_MARKER])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weights"]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert summary["data"]["split"] == "test" and summary["data"]["images_evaluated"] == 1
    assert len(read_per_image(out / "per_image.csv")) == 3
    assert main(argv) == 2  # second run: refuses to overwrite
    assert "exists (use --overwrite" in capsys.readouterr().err
    assert main([*argv[:-1], "--overwrite"]) == 0  # not quiet: what was evaluated and where the results are
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "evaluating 1 of 1 images of split 'test'" in err[0] and err[1].startswith("results: ")


# --- data that gives nothing to evaluate: one line each -------------------------------------------
def _two_photo_folder(root):
    (root / "sky").mkdir(parents=True)
    for i, name in enumerate(("astronaut.png", "coffee.png")):
        Image.open(SKIMAGE_DATA / name).convert("RGB").save(root / "sky" / f"{i}.png")
    return root


def _cli_one_line(capsys, argv) -> str:
    from colorization.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorization evaluate:") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("content", ["nothing", "no images"])
def test_cli_data_folder_without_usable_images(tmp_path, capsys, model_file, content):
    data = tmp_path / "photos"
    data.mkdir()
    if content == "no images":
        (data / "notes.txt").write_text("not a photo")
        (data / "broken.jpg").write_bytes(b"not a jpeg")
    err = _cli_one_line(
        capsys,
        [
            "evaluate",
            "--weights",
            str(model_file),
            "--data",
            str(data),
            "--cache",
            str(tmp_path / "cache"),
            "-o",
            str(tmp_path / "out"),
            "--quiet",
            "--workers",
            "1",
        ],
    )
    assert str(data) in err and ("no files at all" in err if content == "nothing" else "no usable images" in err)
    assert not (tmp_path / "out").exists()


def test_cli_split_without_images(tmp_path, capsys, model_file):
    data = _two_photo_folder(tmp_path / "photos")  # two images of one category: 1 train, 0 val, 1 test
    err = _cli_one_line(
        capsys,
        [
            "evaluate",
            "--weights",
            str(model_file),
            "--data",
            str(data),
            "--split",
            "val",
            "--cache",
            str(tmp_path / "cache"),
            "-o",
            str(tmp_path / "out"),
            "--quiet",
            "--workers",
            "1",
        ],
    )
    assert "no usable images in split 'val'" in err and "train 1, val 0, test 1" in err


def test_cli_mean_ab_without_a_train_split(tmp_path, capsys, model_file):
    from colorization.data.manifest import build_manifest, write_manifest
    from colorization.data.sources import FolderSource

    data = _two_photo_folder(tmp_path / "photos")
    manifest = build_manifest(FolderSource(data), workers=0, progress=False)
    manifest["split"] = "test"
    write_manifest(manifest, tmp_path / "manifest.csv")
    argv = [
        "evaluate",
        "--weights",
        str(model_file),
        "--data",
        str(data),
        "--manifest",
        str(tmp_path / "manifest.csv"),
        "--cache",
        str(tmp_path / "cache"),
        "-o",
        str(tmp_path / "out"),
        "--quiet",
        "--workers",
        "1",
    ]
    err = _cli_one_line(capsys, argv)
    assert "train split has no decodable images" in err and "--mean-ab A,B" in err


def test_cli_python_warnings_are_one_line(tmp_path, capsys, model_file, monkeypatch):
    from colorization.cli import main
    from colorization.data import cache as cache_module
    from colorization.io.images import ImageError

    decode = cache_module._DECODERS["file"]

    def fail_on_coffee(path, size):
        if path.endswith("coffee.png"):
            raise ImageError(path, "changed on disk since the manifest was made\nsecond line")
        return decode(path, size)

    monkeypatch.setitem(cache_module._DECODERS, "file", fail_on_coffee)
    argv = [
        "evaluate",
        "--weights",
        str(model_file),
        "--data",
        "sample",
        "--split",
        "test",
        "--cache",
        str(tmp_path / "cache"),
        "-o",
        str(tmp_path / "out"),
        "--quiet",
        "--workers",
        "1",
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert not re.search(r":\d+: \w*Warning:", err) and "warnings.warn" not in err  # not Python's format
    shown = [line for line in err.splitlines() if line.startswith("colorization evaluate: warning:")]
    assert len(shown) == 1 and "1 images could not be decoded" in shown[0] and "second line" in shown[0]
