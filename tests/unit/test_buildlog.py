"""Build logs read back: steps, cache hits, and each Dockerfile line's reason to rebuild."""

from pathlib import Path

from containerlab.images.buildlog import explain_cache, line_kind, parse_build_log, predict_rebuild
from containerlab.images.dockerfile import parse_dockerfile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "buildlog"
DOCKERFILE_DIR = Path(__file__).resolve().parents[2] / "notebooks/apps/image-demo"
DOCKERFILE = parse_dockerfile((DOCKERFILE_DIR / "Dockerfile").read_text())


def test_classic_first_build():
    steps = parse_build_log((FIXTURES / "classic-first.log").read_text())
    assert [(s.number, s.total, s.keyword, s.cached) for s in steps] == [
        (1, 6, "FROM", False), (2, 6, "COPY", False), (3, 6, "RUN", False), (4, 6, "CMD", False),
        (5, 6, "LABEL", False), (6, 6, "LABEL", False)]
    assert steps[1].image == "0c82b025e3f9" and steps[2].output == ()
    decisions = explain_cache(DOCKERFILE, steps, nocache=True)
    assert [(d.line, d.status) for d in decisions] == [(2, "base"), (3, "built"), (4, "built"), (5, "built"),
                                                       (None, "rebuilt"), (None, "rebuilt")]


def test_a_change_rebuilds_from_the_first_miss():
    steps = parse_build_log((FIXTURES / "classic-changed.log").read_text().splitlines(keepends=True))
    assert steps[2].output == ("warning: something on stderr",)
    decisions = explain_cache(DOCKERFILE, steps, changed=["message.txt"])
    assert [(d.line, d.status) for d in decisions[:4]] == [(2, "base"), (3, "rebuilt"), (4, "rebuilt"),
                                                           (5, "rebuilt")]
    assert "message.txt" in decisions[1].reason and "line 3" in decisions[2].reason
    assert decisions[4].line is None and "builder" in decisions[4].reason
    assert "line 3" in str(decisions[2])


def test_everything_from_the_cache():
    decisions = explain_cache(DOCKERFILE, parse_build_log((FIXTURES / "classic-cached.log").read_text()))
    assert [d.status for d in decisions] == ["base", "cached", "cached", "cached"]
    assert "same files" in decisions[1].reason


def test_podman_logs():
    steps = parse_build_log((FIXTURES / "podman-cached.log").read_text())
    assert [(s.number, s.keyword, s.cached) for s in steps] == [(1, "FROM", False), (2, "COPY", True),
                                                               (3, "RUN", False), (4, "CMD", False)]
    assert steps[2].output == ("compiling something",) and steps[2].image == "6f708192a3b4"
    decisions = explain_cache(DOCKERFILE, steps)
    assert "no earlier build" in decisions[2].reason


def test_buildah_multi_stage_log_is_numbered_over_the_whole_dockerfile():
    """Recorded from Podman 4.3 (Buildah 1.28): steps numbered per stage behind a '[stage/stages]' prefix."""
    multistage = parse_dockerfile((DOCKERFILE_DIR / "Dockerfile.multistage").read_text())
    steps = parse_build_log((FIXTURES / "podman-multistage.log").read_text())
    assert [(s.number, s.keyword, s.cached) for s in steps] == [
        (1, "FROM", False), (2, "COPY", True), (3, "RUN", True), (4, "FROM", False), (5, "COPY", True),
        (6, "CMD", True), (7, "LABEL", False), (8, "LABEL", False)]
    assert steps[2].image == "760ab436618"  # the short ID after "Using cache <full ID>"
    assert steps[6].image == "4d0754e3f71" and steps[7].output == ()  # COMMIT and 'Successfully' lines are noise
    decisions = explain_cache(multistage, steps)
    assert [(d.line, d.status) for d in decisions] == [
        (3, "base"), (4, "cached"), (5, "cached"), (8, "base"), (9, "cached"), (10, "cached"),
        (None, "rebuilt"), (None, "rebuilt")]


def test_line_kinds():
    assert line_kind("Step 2/4 : COPY . /app") == "step"
    assert line_kind(" ---> Using cache") == "cached"
    assert line_kind(" ---> 0c82b025e3f9") == "image"
    assert line_kind("--> 0b6bf9aa479") == "image"  # Buildah shows 11 digits
    assert line_kind("[2/2] STEP 1/4: FROM containerlab/busybox") == "step"
    assert line_kind("[2/2] COMMIT docker.io/library/demo:1") == "noise"
    assert line_kind("Removing intermediate container 4674974c2e05") == "noise"
    assert line_kind("\x1b[91mhello\x1b[0m") == "output"
    assert line_kind("   ") == "blank"


def test_predicting_which_lines_rebuild():
    text = ("FROM base\nENV A=1\nCOPY requirements.txt /app/\nRUN install\nCOPY . /app\nEXPOSE 80\n"
            "CMD [\"run\"]\n")
    dockerfile = parse_dockerfile(text)
    assert predict_rebuild(dockerfile, ["app.py"]) == [5, 6, 7]
    assert predict_rebuild(dockerfile, ["requirements.txt"]) == [3, 4, 5, 6, 7]
    assert predict_rebuild(dockerfile, []) == []
    multi = parse_dockerfile("FROM a AS build\nCOPY src/ /src/\nRUN make\nFROM b\nCOPY docs/*.md /docs/\n"
                             "COPY --from=build /out /out\n")
    assert predict_rebuild(multi, ["src/main.c"], stage="build") == [2, 3]
    assert predict_rebuild(multi, ["docs/a.md"]) == [5, 6]
    assert predict_rebuild(multi, ["src/main.c"]) == []
