"""The project's set-up promises: dependencies in step, the README's two commands, CI runs the tests."""

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name → PyPI name


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip_deps = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    pip_deps -= {"tomli"}  # only for Python < 3.11, where conda users get tomllib's backport with pip
    conda_deps = set()
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)", line)
        if m and m.group(1) not in ("python", "pip"):
            name = _name(m.group(1))
            conda_deps.add(CONDA_NAMES.get(name, name))
    assert conda_deps == pip_deps


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert block, "README.md needs a Quick start section with a code block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    # Before the test command, CI only installs what the browser test needs and makes it compulsory.
    assert commands == ["make browser-setup", "export REPTILE_EDU_REQUIRE_BROWSER=1", "make test"]


def test_readmes_link_each_other_and_only_to_files_that_exist():
    readmes = ["README.md", "README.tr.md", "README.zh.md"]
    for name in readmes:
        text = (ROOT / name).read_text(encoding="utf-8")
        head = text.split("\n## ", 1)[0]
        for other in readmes:
            if other != name:
                assert f"]({other})" in head, f"{name} should link to {other} at the top"
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not target.startswith(("http://", "https://")):
                assert (ROOT / target).exists(), f"{name} links to missing {target}"
        block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
        assert block and [ln for ln in block.group(1).splitlines() if ln.strip()] == ["make lab", "make test"], name
