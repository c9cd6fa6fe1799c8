"""automl.threads: the thread pools' controller is found once per set of loaded modules, and limits still apply."""

from __future__ import annotations

import sys
import types

import threadpoolctl

from automl import threads
from automl.models.base import OPENMP_THREADS


def test_the_controller_is_found_again_only_after_an_import(monkeypatch):
    made = []
    real = threadpoolctl.ThreadpoolController
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", lambda: made.append(1) or real())
    monkeypatch.setattr(threads, "_CACHED", None)
    first = threads.controller()
    assert threads.controller() is first and len(made) == 1
    monkeypatch.setitem(sys.modules, "automl_tests_a_new_module", types.ModuleType("automl_tests_a_new_module"))
    assert threads.controller() is not first and len(made) == 2


def test_limited_caps_openmp_inside_the_block_and_restores_it_after():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    def openmp() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]

    before = openmp()
    assert before, "no OpenMP runtime loaded"
    with threads.limited():
        assert set(openmp()) == {OPENMP_THREADS}
    assert openmp() == before
