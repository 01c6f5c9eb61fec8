"""The instructor kit: the CI workflow for forks runs the README's test command; notebooks carry slide metadata."""

import re
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The commands in README's 'Two commands' block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", text, re.S)
    assert block, "README has no 'Two commands' block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_gives_exactly_two_commands():
    assert readme_commands() == ["./lab open", "./lab test"]


def test_workflow_runs_what_ci_runs_and_is_hardened():
    workflow = yaml.safe_load((ROOT / ".github/workflows/course.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads 'on' as True
    assert {"push", "schedule"} <= set(triggers)
    assert triggers["schedule"][0]["cron"].split()[-1] == "1"
    assert workflow["permissions"] == {"contents": "read"}, "the token may only read"
    steps = workflow["jobs"]["validate"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert any(re.search(r"(^|\s)bash \.ci/run(\s|$)", run) for run in runs), runs
    for step in steps:
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action} is not pinned to a commit: {ref}"
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    assert any(step.get("uses", "").startswith("actions/upload-artifact@") for step in steps)


def test_ci_script_calls_the_readme_test_command():
    # The Docker part is the README's command, pinned to Docker, run as one of CI's parts.
    assert re.search(r"^part \"[^\"]+\" env CONTAINERLAB_ENGINE=docker \./lab test\s*$", (ROOT / ".ci/run").read_text(), re.M)


def test_notebooks_have_slide_metadata():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
        assert kinds[0] == "slide" and None not in kinds, path.name
        assert kinds.count("slide") >= 3, path.name
