"""automl.threads: the thread pools' controller is found once per set of loaded modules, and limits still apply."""

from __future__ import annotations

import sys
import types

import threadpoolctl

from automl import threads
from automl.models.base import OPENMP_THREADS


def test_the_controller_is_found_again_only_after_an_import(monkeypatch):
    first = threads.controller()
    assert threads.controller() is first
    monkeypatch.setitem(sys.modules, "automl_tests_a_new_module", types.ModuleType("automl_tests_a_new_module"))
    assert threads.controller() is not first


def test_limited_caps_openmp_inside_the_block_and_restores_it_after():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    def openmp() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]

    before = openmp()
    assert before, "no OpenMP runtime loaded"
    with threads.limited():
        assert set(openmp()) == {OPENMP_THREADS}
    assert openmp() == before


def test_limited_leaves_blas_alone_while_another_thread_limits_it():
    """A user's thread predicting (BLAS at 1 inside side_by_side.run) while another leaves ``limited()``: the
    second used to restore every library to what it saw on entry, BLAS's 1 included, for good."""
    import numpy  # noqa: F401  (loads numpy's BLAS)

    def blas() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        user = blas()
        inner = threads.limited()
        inner.__enter__()
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):  # another thread's limit, meanwhile
            inner.__exit__(None, None, None)
            assert set(blas()) == {1}
        assert blas() == user
