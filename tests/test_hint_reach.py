"""How far one colour point reaches (colorization.evaluation.hint_reach): the receptive field of the paper's
table, the ring means, and that Levin et al.'s one point tints everything while the network's fades."""

from __future__ import annotations

import numpy as np

from colorization.evaluation.hint_reach import RING_EDGES, hint_reach, receptive_field, ring_means
from colorization.model import build_paper_model


def test_receptive_field_of_the_paper_table():
    # twelve 3x3 convolutions, each adding 2 x its input's stride product: 1 + 2 * (1+1+2+2+4+4+8+8+8+4+2+2)
    model = build_paper_model(input_size=64)
    assert receptive_field(model) == 93


def test_ring_means_average_each_ring():
    change = np.zeros((33, 33))
    rows, cols = np.indices(change.shape)
    change[np.hypot(rows - 16, cols - 16) < 4] = 2.0
    means = ring_means(change, (16, 16), edges=(0, 4, 8, 40))
    assert means[0] == 2.0 and means[1] == 0.0 and means[2] == 0.0


def test_one_point_tints_everything_in_levin_and_stays_local_in_the_network():
    model = build_paper_model(input_size=None, hints=True)
    rng = np.random.default_rng(0)
    views = rng.integers(0, 256, (1, 256, 256, 3), dtype=np.uint8)
    table = hint_reach(model, views).set_index(["method", "outer"])["change"]
    levin = table["levin"].to_numpy()
    np.testing.assert_allclose(levin, np.hypot(60, -40), rtol=1e-3)  # one point: the whole image its colour
    network = table["network"].to_numpy()
    far = np.asarray(RING_EDGES[:-1]) >= 64  # beyond the receptive field's half (46 px) and then some
    assert np.all(network[far] < 1e-3)
