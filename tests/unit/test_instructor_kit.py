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


def test_workflow_is_valid_and_runs_the_readme_test_command():
    workflow = yaml.safe_load((ROOT / ".github/workflows/course.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads 'on' as True
    assert {"push", "schedule"} <= set(triggers)
    assert triggers["schedule"][0]["cron"].split()[-1] == "1"
    steps = workflow["jobs"]["validate"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    test_command = readme_commands()[1]
    assert any(re.search(rf"(^|\s){re.escape(test_command)}(\s|$)", run) for run in runs), runs
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in steps)


def test_ci_script_calls_the_readme_test_command():
    # The Docker part is the README's command, pinned to Docker, run as one of CI's parts.
    assert re.search(r"^part \"[^\"]+\" env CONTAINERLAB_ENGINE=docker \./lab test\s*$", (ROOT / ".ci/run").read_text(), re.M)


def test_notebooks_have_slide_metadata():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
        assert kinds[0] == "slide" and None not in kinds, path.name
        assert kinds.count("slide") >= 3, path.name
