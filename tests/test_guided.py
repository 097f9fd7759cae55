"""Colour points everywhere a user colorizes: the Python front door and ``colorization colorize --hints``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import colorization as cz
from colorization.cli import main
from colorization.hints.points import HintError
from colorization.lab import rgb_to_lab
from colorization.model import build_paper_model
from tests.conftest import SKIMAGE_DATA

PHOTO = SKIMAGE_DATA / "chelsea.png"  # 451 x 300
RED = [{"x": 120, "y": 48, "rgb": [200, 30, 30], "radius": 3}]


def _ab_at(rgb: np.ndarray, x: int, y: int) -> np.ndarray:
    return rgb_to_lab(rgb[y - 2 : y + 3, x - 2 : x + 3]).reshape(-1, 3)[:, 1:].mean(axis=0)


def test_levin_through_the_front_door_keeps_lightness_and_takes_the_hint_colour():
    image = cz.load_image(PHOTO)
    result = cz.colorize(None, image, hints=RED, method="levin")
    assert result.rgb.shape == image.rgb.shape
    wanted = rgb_to_lab(np.array([[RED[0]["rgb"]]], np.uint8))[0, 0, 1:]
    got = _ab_at(result.rgb, 120, 48)
    assert got[0] > 20 and np.abs(got - wanted).max() < 25  # reddish where the hint is (at the image's own L)
    np.testing.assert_allclose(rgb_to_lab(result.rgb)[..., 0], rgb_to_lab(image.rgb)[..., 0], atol=1.0)


def test_the_hint_network_uses_the_hints_and_other_networks_refuse_them(tmp_path):
    hints_model = build_paper_model(None, hints=True)
    image = cz.load_image(PHOTO)
    automatic = cz.colorize(hints_model, image, hints=[], method="network")
    hinted = cz.colorize(hints_model, image, hints=RED)
    assert automatic.rgb.shape == hinted.rgb.shape == image.rgb.shape and not np.array_equal(automatic.rgb, hinted.rgb)
    with pytest.raises(ValueError, match="takes no colour hints"):
        cz.colorize(build_paper_model(None), image, hints=RED)
    with pytest.raises(ValueError, match="mode 'full'"):
        cz.colorize(hints_model, image, mode="paper", hints=RED)
    with pytest.raises(HintError, match="outside the image"):
        cz.colorize(hints_model, image, hints=[{"x": 451, "y": 0, "rgb": [1, 2, 3]}])
    path = tmp_path / "hints.json"
    path.write_text(json.dumps(RED))
    np.testing.assert_array_equal(cz.colorize(hints_model, image, hints=str(path)).rgb, hinted.rgb)


def test_cli_hints(tmp_path, capsys):
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps(RED))
    out = tmp_path / "out"
    assert main(["colorize", str(PHOTO), "-o", str(out), "--hints", str(hints), "--method", "levin", "-q"]) == 0
    written = out / "chelsea.png"
    assert capsys.readouterr().out.strip() == str(written)
    assert np.asarray(Image.open(written)).shape == (300, 451, 3)
    # an existing output is kept; a bad hints file is one line naming it; two images are refused
    assert main(["colorize", str(PHOTO), "-o", str(out), "--hints", str(hints), "--method", "levin"]) == 0
    assert "exists (use --overwrite to replace it)" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('[{"x": 10, "y": 10, "rgb": [300, 0, 0]}]')
    assert main(["colorize", str(PHOTO), "-o", str(tmp_path / "o2"), "--hints", str(bad), "--method", "levin"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and not (tmp_path / "o2" / "chelsea.png").exists()
    two = [str(PHOTO), str(PHOTO).replace("chelsea", "astronaut")]
    assert main(["colorize", *two, "-o", str(tmp_path / "o3"), "--hints", str(hints)]) == 2
    assert "exactly one input image" in capsys.readouterr().err


def test_cli_refuses_hints_for_a_network_without_hint_channels(tmp_path, capsys, model_file):
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps(RED))
    command = ["colorize", str(PHOTO), "-o", str(tmp_path / "o"), "--hints", str(hints), "--weights", str(model_file)]
    assert main(command) == 2
    assert "takes no colour hints" in capsys.readouterr().err
