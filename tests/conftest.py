"""Shared fixtures: the real engine (or a reasoned skip), and cleanup of what tests made.

Tests and the notebooks nbval runs use the owner `pytest` (or $CONTAINERLAB_OWNER), so a learner's own lab
resources are never touched; everything owned by `pytest` is removed at the end,
pass or fail. Set CONTAINERLAB_REQUIRE_ENGINE=1 (CI does) to turn a missing engine
into a failure instead of a skip.
"""

from __future__ import annotations

import os

import pytest

TEST_OWNER = os.environ.setdefault("CONTAINERLAB_OWNER", "pytest")


def _engine_or_reason():
    from containerlab.engine.connect import connect
    from containerlab.errors import LabError

    try:
        return connect(), ""
    except LabError as err:
        return None, err.one_line()


@pytest.fixture(scope="session")
def engine():
    """The connected engine; skip (or fail under CONTAINERLAB_REQUIRE_ENGINE=1) without one."""
    found, reason = _engine_or_reason()
    if found is None:
        if os.environ.get("CONTAINERLAB_REQUIRE_ENGINE") == "1":
            pytest.fail(f"CONTAINERLAB_REQUIRE_ENGINE=1 but no engine: {reason}")
        pytest.skip(f"no container engine: {reason}")
    return found


@pytest.fixture(scope="session")
def lab_images(engine):
    """The offline lab images must exist (built by `python -m containerlab setup`)."""
    from containerlab.engine.images import BASE_IMAGES, image_status

    missing = [name for name in BASE_IMAGES if not image_status(engine, name).present]
    if missing:
        pytest.fail(f"lab images missing: {missing}; run 'python -m containerlab setup' first")
    return engine


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)


def pytest_sessionfinish(session, exitstatus):
    # Only a run that used the engine cleans it: a quick unit-test run beside a long one (same owner) must not
    # remove the long run's containers and images halfway through. Notebooks use it from their kernels.
    items = getattr(session, "items", ())
    if not any(item.get_closest_marker("engine") or str(item.path).endswith(".ipynb") for item in items):
        return
    found, _ = _engine_or_reason()
    if found is not None:
        from containerlab.engine.lab import remove_labelled

        remove_labelled(found, owner=TEST_OWNER, images=True)
