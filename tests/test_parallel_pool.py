"""The evaluation's process pool (colorization.evaluation.parallel): workers stay off the GPU."""

import os

from colorization.evaluation.parallel import WORKER_ENVIRONMENT, cpu_pool, pool_map, worker_count


def environment_of_worker(name: str) -> str | None:
    return os.environ.get(name)


def test_workers_see_the_cpu_only_environment(monkeypatch):
    monkeypatch.setenv("JAX_PLATFORMS", "cuda")  # a parent on a GPU machine
    names = sorted(WORKER_ENVIRONMENT)
    with cpu_pool(2) as pool:
        seen = pool_map(pool, environment_of_worker, names)
    assert seen == [WORKER_ENVIRONMENT[name] for name in names]
    assert os.environ["JAX_PLATFORMS"] == "cuda"  # the caller's own environment is left alone


def test_one_worker_runs_in_the_caller():
    with cpu_pool(1) as pool:
        assert pool is None
        assert pool_map(pool, abs, [-1, 2]) == [1, 2]
    assert worker_count(40) == 16
