"""Colour hints as data: the file format and its validation, the planes on the network's view, the protocol's user."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from colorization.hints import (
    DEFAULT_RADIUS,
    MAX_FILE_BYTES,
    MAX_HINTS,
    MAX_RADIUS,
    PROTOCOL_COUNTS,
    Hint,
    HintError,
    hint_planes,
    hints_from_truth,
    load_hints,
    parse_hints,
    save_hints,
)
from colorization.io.files import OutputExistsError
from colorization.lab import rgb_to_lab

SHAPE = (100, 120, 3)  # H, W: x in [0, 120), y in [0, 100)
OK = '"y": 10, "ab": [1, 2]'  # the rest of a valid hint, for cases about x


def write(tmp_path, text: str | bytes, name: str = "hints.json"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def refused(path, shape=SHAPE) -> str:
    """The one-line message load_hints gives for ``path``, checked to name the file."""
    with pytest.raises(HintError) as caught:
        load_hints(path, shape)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


# --- the file: each class of bad input, with its siblings -> one line naming the file -----------------
BAD_FILES = {
    # the document is not a list of hints
    "object, not a list": ('{"x": 1, "y": 1, "ab": [0, 0]}', "JSON object, not a list"),
    "a string": ('"hints"', "a string"),
    "null": ("null", "null, not a list"),
    "a number": ("5", "5, not a list"),
    "empty file": ("", "not valid JSON"),
    "trailing comma": ('[{"x": 1, "y": 1, "ab": [0, 0]},]', "not valid JSON"),
    "python, not JSON": ("[dict(x=1, y=1, ab=(0, 0))]", "not valid JSON"),
    "not UTF-8": (b'[{"x": 1, "y": 1, "rgb": [0, 0, 0], "note": "\xff"}]', "not UTF-8"),
    "UTF-16": ("[]".encode("utf-16"), "not UTF-8"),
    "nested too deeply": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "an int of 5000 digits": (f'[{{"x": {"1" * 5000}, {OK}}}]', "not valid JSON"),
    # entries that are not objects
    "entry a number": ("[1]", "hint 0: 1, not an object"),
    "entry a list": ("[[120, 48]]", "hint 0: a list of 2, not an object"),
    "entry a string": ('["x"]', "hint 0: a string"),
    "entry null": ("[null]", "hint 0: null"),
    "second entry bad": (f'[{{"x": 1, {OK}}}, 7]', "hint 1: 7, not an object"),
    # keys
    "unknown key": (f'[{{"x": 1, {OK}, "colour": "red"}}]', "unknown key 'colour'"),
    "key in capitals": (f'[{{"X": 1, {OK}}}]', "unknown key 'X'"),
    "duplicate key": (f'[{{"x": 1, "x": 2, {OK}}}]', "'x' appears twice"),
    "missing x": (f"[{{{OK}}}]", "no 'x'"),
    "missing y": ('[{"x": 1, "ab": [0, 0]}]', "no 'y'"),
    "both rgb and ab": ('[{"x": 1, "y": 1, "ab": [0, 0], "rgb": [0, 0, 0]}]', "not exactly one colour"),
    "neither rgb nor ab": ('[{"x": 1, "y": 1}]', "not exactly one colour"),
    # numbers that are not numbers
    "NaN": (f'[{{"x": NaN, {OK}}}]', "NaN is not a number JSON allows"),
    "Infinity": (f'[{{"x": Infinity, {OK}}}]', "Infinity is not a number"),
    "-Infinity": (f'[{{"x": -Infinity, {OK}}}]', "-Infinity is not a number"),
    "1e309 (inf)": (f'[{{"x": 1e309, {OK}}}]', "not a finite number"),
    "-1e309": ('[{"x": 1, "y": -1e309, "ab": [0, 0]}]', "not a finite number"),
    "an int of 400 digits": (f'[{{"x": 1{"0" * 400}, {OK}}}]', "not a finite number"),
    "bool as number": (f'[{{"x": true, {OK}}}]', "true (a boolean), not a number"),
    "string as number": (f'[{{"x": "120", {OK}}}]', "a string ('120'), not a number"),
    "nested list as number": (f'[{{"x": [[120]], {OK}}}]', "a list of 1, not a number"),
    "null as number": (f'[{{"x": null, {OK}}}]', "null, not a number"),
    "object as number": (f'[{{"x": {{"v": 1}}, {OK}}}]', "an object, not a number"),
    # outside the image
    "x = W exactly": (f'[{{"x": 120, {OK}}}]', "x = 120 is outside the image"),
    "x beyond W": (f'[{{"x": 5000, {OK}}}]', "outside the image"),
    "x negative": (f'[{{"x": -1, {OK}}}]', "x = -1 is outside"),
    "x barely negative": (f'[{{"x": -0.0001, {OK}}}]', "outside the image"),
    "y = H exactly": ('[{"x": 1, "y": 100, "ab": [0, 0]}]', "y = 100 is outside the image"),
    "y negative": ('[{"x": 1, "y": -3, "ab": [0, 0]}]', "y = -3 is outside"),
    # colours
    "rgb of 2": ('[{"x": 1, "y": 1, "rgb": [1, 2]}]', "rgb: a list of 2, not a list of 3"),
    "rgb of 4": ('[{"x": 1, "y": 1, "rgb": [1, 2, 3, 4]}]', "not a list of 3"),
    "rgb a name": ('[{"x": 1, "y": 1, "rgb": "red"}]', "rgb: a string"),
    "rgb a number": ('[{"x": 1, "y": 1, "rgb": 200}]', "rgb: 200, not a list of 3"),
    "rgb nested": ('[{"x": 1, "y": 1, "rgb": [[200, 30, 30]]}]', "not a list of 3"),
    "rgb over 255": ('[{"x": 1, "y": 1, "rgb": [256, 0, 0]}]', "rgb[0] = 256 is not within 0..255"),
    "rgb negative": ('[{"x": 1, "y": 1, "rgb": [0, -1, 0]}]', "rgb[1] = -1 is not within"),
    "rgb NaN": ('[{"x": 1, "y": 1, "rgb": [0, 0, NaN]}]', "NaN is not a number"),
    "rgb inf": ('[{"x": 1, "y": 1, "rgb": [0, 0, 1e999]}]', "rgb[2]: inf is not a finite number"),
    "rgb bool": ('[{"x": 1, "y": 1, "rgb": [true, 0, 0]}]', "rgb[0]: true (a boolean)"),
    "ab over 128": ('[{"x": 1, "y": 1, "ab": [129, 0]}]', "ab[0] = 129 is not within -128..128"),
    "ab under -128": ('[{"x": 1, "y": 1, "ab": [0, -128.5]}]', "ab[1] = -128.5 is not within"),
    "ab of 3": ('[{"x": 1, "y": 1, "ab": [0, 0, 0]}]', "ab: a list of 3, not a list of 2"),
    "ab a string": ('[{"x": 1, "y": 1, "ab": "0,0"}]', "ab: a string"),
    # radius
    "radius negative": (f'[{{"x": 1, {OK}, "radius": -1}}]', "radius = -1 is not within 0..256"),
    "radius too large": (f'[{{"x": 1, {OK}, "radius": {MAX_RADIUS + 1}}}]', "radius = 257 is not within"),
    "radius fractional": (f'[{{"x": 1, {OK}, "radius": 2.5}}]', "radius: 2.5, not a whole number"),
    "radius as float": (f'[{{"x": 1, {OK}, "radius": 2.0}}]', "not a whole number"),
    "radius a string": (f'[{{"x": 1, {OK}, "radius": "2"}}]', "radius: a string"),
    "radius bool": (f'[{{"x": 1, {OK}, "radius": true}}]', "radius: true (a boolean)"),
    "radius null": (f'[{{"x": 1, {OK}, "radius": null}}]', "radius: null"),
    "radius 1e309": (f'[{{"x": 1, {OK}, "radius": 1e309}}]', "radius: inf, not a whole number"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_are_refused_in_one_line_naming_the_file(tmp_path, case):
    text, expected = BAD_FILES[case]
    message = refused(write(tmp_path, text))
    assert expected in message


def test_every_message_says_what_to_do(tmp_path):
    for case, (text, _) in BAD_FILES.items():
        message = refused(write(tmp_path, text, f"{len(case)}.json"))
        assert re.search(r"; (give|write|keep|save|use) ", message), case


def test_too_many_hints_are_refused(tmp_path):
    entry = {"x": 1, "y": 1, "ab": [0, 0]}
    message = refused(write(tmp_path, json.dumps([entry] * (MAX_HINTS + 1))))
    assert f"{MAX_HINTS + 1} hints, more than {MAX_HINTS}" in message
    assert len(load_hints(write(tmp_path, json.dumps([entry] * MAX_HINTS), "ok.json"), SHAPE)) == MAX_HINTS


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    path = write(tmp_path, b"[" + b" " * MAX_FILE_BYTES + b"]")
    assert "larger than 4 MiB; give at most" in refused(path)


def test_a_list_of_millions_of_numbers_is_refused_by_count(tmp_path):
    assert "more than" in refused(write(tmp_path, "[" + ",".join(["0"] * 1_000_000) + "]"))


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_unreadable_paths_are_refused(tmp_path, kind):
    path = tmp_path / "nothing.json"
    if kind == "folder":
        path.mkdir()
    message = refused(path)
    assert "cannot be read" in message and "; give" in message


@pytest.mark.parametrize("text", ["[]", "  [ ]\n", "\ufeff[]"])
def test_an_empty_list_is_no_hints(tmp_path, text):
    assert load_hints(write(tmp_path, text), SHAPE) == []


def test_a_valid_file_gives_its_hints(tmp_path):
    text = '[{"x": 119.99, "y": 0, "rgb": [200, 30, 30]}, {"x": 0, "y": 99.5, "ab": [-128, 128], "radius": 0}]'
    first, second = load_hints(write(tmp_path, text), SHAPE)
    assert (first.x, first.y, first.radius) == (119.99, 0.0, DEFAULT_RADIUS)
    assert second == Hint(0.0, 99.5, (-128.0, 128.0), 0)


def test_an_rgb_hint_keeps_only_its_chroma_at_its_own_lightness():
    (hint,) = parse_hints([{"x": 1, "y": 1, "rgb": [200, 30, 30]}], SHAPE)
    expected = rgb_to_lab(np.array([200, 30, 30], dtype=np.uint8))
    np.testing.assert_allclose(hint.ab, expected[1:], atol=1e-4)
    (gray,) = parse_hints([{"x": 1, "y": 1, "rgb": [128, 128, 128]}], SHAPE)
    assert max(abs(v) for v in gray.ab) < 0.01


# --- parsed JSON and Python objects go through the same checks -------------------------------------------
def test_parse_hints_names_its_source_and_the_hint():
    with pytest.raises(HintError, match=r"^the app: hint 2: x = 500 is outside the image"):
        parse_hints([{"x": 1, "y": 1, "ab": [0, 0]}] * 2 + [{"x": 500, "y": 1, "ab": [0, 0]}], SHAPE, "the app")


def test_hint_objects_are_checked_against_the_image():
    assert parse_hints([Hint(5, 5, (1.0, 2.0))], SHAPE) == [Hint(5.0, 5.0, (1.0, 2.0), DEFAULT_RADIUS)]
    for bad, expected in [
        (Hint(120, 5, (0, 0)), "outside the image"),
        (Hint(5, 5, (float("nan"), 0)), "not a finite number"),
        (Hint(5, 5, (200, 0)), "not within -128..128"),
        (Hint(5, 5, (0, 0), -2), "radius = -2"),
    ]:
        with pytest.raises(HintError, match=expected):
            parse_hints([bad], SHAPE)


def test_numpy_numbers_are_numbers_and_numpy_bools_are_not():
    entry = {"x": np.float32(3.5), "y": np.int64(2), "ab": np.array([1.0, 2.0]), "radius": np.int16(1)}
    assert parse_hints([entry], SHAPE) == [Hint(3.5, 2.0, (1.0, 2.0), 1)]
    with pytest.raises(HintError, match="not a number"):
        parse_hints([{"x": np.True_, "y": 1, "ab": [0, 0]}], SHAPE)


@pytest.mark.parametrize("obj", [{"x": 1}, "hints", None, 3, Hint(1, 1, (0, 0))])
def test_parse_hints_wants_a_list(obj):
    with pytest.raises(HintError, match="not a list of hints"):
        parse_hints(obj, SHAPE)


# --- saving ----------------------------------------------------------------------------------------------
def test_save_then_load_gives_the_same_hints(tmp_path):
    hints = [Hint(1.25, 2.0, (10.5, -3.125), 0), Hint(119.5, 99.0, (-128.0, 128.0), MAX_RADIUS)]
    path = save_hints(tmp_path / "out.json", hints)
    assert load_hints(path, SHAPE) == hints
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind
    assert load_hints(save_hints(tmp_path / "none.json", []), SHAPE) == []


def test_save_never_overwrites_unless_asked(tmp_path):
    path = write(tmp_path, "[]", "mine.json")
    with pytest.raises(OutputExistsError):
        save_hints(path, [Hint(1, 1, (1.0, 1.0))])
    assert path.read_text() == "[]"
    save_hints(path, [Hint(1, 1, (1.0, 1.0))], overwrite=True)
    assert len(load_hints(path, SHAPE)) == 1


# --- the planes on the network's view ---------------------------------------------------------------------
def test_planes_scale_positions_and_radius_to_the_view():
    planes = hint_planes([Hint(100, 100, (5.0, -6.0), 4)], (128, 512))  # x scales by 1/2, y by 2
    assert planes.shape == (256, 256, 3) and planes.dtype == np.float32
    rows, columns = np.nonzero(planes[..., 2])
    # centre: the view pixel holding the input pixel's centre (100.5 / 2, 100.5 * 2); half-sides 4/2, 4*2
    assert (rows.min(), rows.max(), columns.min(), columns.max()) == (201 - 8, 201 + 8, 50 - 2, 50 + 2)
    assert np.all(planes[rows, columns, :2] == (5.0, -6.0))
    assert np.count_nonzero(planes) == 3 * 17 * 5  # a and b nonzero here, 0 elsewhere


def test_a_hint_marks_at_least_its_own_view_pixel():
    planes = hint_planes([Hint(3999.9, 0, (1.0, 1.0), 5)], (3000, 4000))  # a 12-MP photo: 5 px < half a view px
    assert np.argwhere(planes[..., 2]).tolist() == [[0, 255]]


def test_patches_are_clipped_to_the_view_and_later_hints_win():
    hints = [Hint(0, 0, (1.0, 1.0), 3), Hint(1, 1, (2.0, 2.0), 1)]
    planes = hint_planes(hints, (256, 256))
    assert planes[..., 2].sum() == 16  # rows and columns 0..3
    assert np.all(planes[0:3, 0:3, 0] == 2.0) and planes[3, 3, 0] == 1.0


def test_no_hints_are_zero_planes():
    assert not hint_planes([], SHAPE).any()


def test_planes_in_the_images_own_pixels():
    planes = hint_planes([Hint(7.9, 3.2, (1.0, 1.0), 2)], SHAPE, size=SHAPE[:2])
    assert planes.shape == (100, 120, 3)
    assert np.argwhere(planes[..., 2]).min(axis=0).tolist() == [1, 5]
    assert np.argwhere(planes[..., 2]).max(axis=0).tolist() == [5, 9]


@pytest.mark.parametrize("shape", [(300, 200), (512, 1024), (97, 131)])
def test_the_view_pixel_is_where_network_view_puts_the_hints_pixel(shape):
    from colorization.colorize import network_view

    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.uniform(0, shape[1]), rng.uniform(0, shape[0])
        image = np.zeros(shape + (3,), dtype=np.uint8)
        image[int(y), int(x)] = 255  # one bright input pixel
        view = network_view(image).astype(float).sum(axis=-1)
        (marked,) = np.argwhere(hint_planes([Hint(x, y, (1.0, 1.0), 0)], shape)[..., 2])
        assert view[tuple(marked)] == view.max() > 0  # the brightest view pixel (or one tied with it)


# --- the protocol's simulated user ------------------------------------------------------------------------
def test_protocol_counts():
    assert PROTOCOL_COUNTS == (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)


def test_sampling_is_deterministic_and_nested(real_photos):
    photo = real_photos["chelsea.png"]
    largest = hints_from_truth(photo, 500, seed=7)
    assert hints_from_truth(photo, 500, seed=7) == largest
    assert hints_from_truth(photo, 20, seed=8) != largest[:20]
    for n in PROTOCOL_COUNTS:
        assert hints_from_truth(photo, n, seed=7) == largest[:n]
    assert parse_hints(largest, photo.shape) == largest  # valid hints of that image


def test_positions_follow_a_gaussian_centred_on_the_image():
    height, width = 400, 1000
    hints = hints_from_truth(np.zeros((height, width, 3), np.uint8), MAX_HINTS, seed=0, radius=0)
    xs, ys = np.array([h.x for h in hints]), np.array([h.y for h in hints])
    assert xs.min() >= 0 and xs.max() <= width - 1 and ys.min() >= 0 and ys.max() <= height - 1
    assert abs(xs.mean() - width / 2) < 0.02 * width and abs(ys.mean() - height / 2) < 0.02 * height
    # a quarter of the side, a little less once the 5% of draws beyond two sigma are clipped
    assert 0.9 * width / 4 < xs.std() < width / 4 and 0.9 * height / 4 < ys.std() < height / 4


def test_the_colour_is_the_patch_mean_of_the_truth():
    truth = np.zeros((64, 64, 3), np.uint8)
    truth[:, :32] = (200, 30, 30)
    truth[:, 32:] = (30, 30, 200)
    red, blue = (rgb_to_lab(np.array(c, np.uint8))[1:] for c in ((200, 30, 30), (30, 30, 200)))
    for hint in hints_from_truth(truth, 200, seed=3, radius=1):
        column = int(hint.x)
        share_red = np.clip(32 - (column - 1), 0, 3) / 3  # of the patch's three columns (none at the edges)
        if column in (0, 63):
            share_red = float(column == 0)
        np.testing.assert_allclose(hint.ab, share_red * red + (1 - share_red) * blue, atol=1e-3)
        assert hint.radius == 1


@pytest.mark.parametrize("n", [-1, 1.5, True, MAX_HINTS + 1])
def test_a_bad_count_is_refused(n):
    with pytest.raises(ValueError, match="n must be"):
        hints_from_truth(np.zeros((8, 8, 3), np.uint8), n, seed=0)


@pytest.mark.parametrize(
    "bad", [Hint("3", 1, (0, 0)), Hint(1, 1, "red"), Hint(1, 1, (0, 0, 0)), Hint(1, 1, (0, 0), 1.5)]
)
def test_hint_objects_of_the_wrong_types_are_refused_not_converted(bad):
    with pytest.raises(HintError):
        parse_hints([bad], SHAPE)


def test_saved_numbers_are_plain_json(tmp_path):
    hint = Hint(np.float32(2.5), np.int64(3), (np.float64(1.5), np.float32(-2.0)), np.int8(1))
    path = save_hints(tmp_path / "numpy.json", [hint])
    assert json.loads(path.read_text()) == [{"x": 2.5, "y": 3.0, "ab": [1.5, -2.0], "radius": 1}]
