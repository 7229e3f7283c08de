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


README_LANGS = {"README.md": "en", "README.tr.md": "tr", "README.zh.md": "zh"}


def _readme_parts(name: str) -> tuple[list[int], list[list[str]], list[str], set[str]]:
    """A README's heading levels (in order), its code blocks (comments removed), its link targets (lesson
    links with the language folder replaced by LANG; the language switch at the top left out) and the set of
    its inline code (commands, variables, module and function names)."""
    text = (ROOT / name).read_text(encoding="utf-8")
    blocks = [
        [re.sub(r"(^|\s+)#.*$", "", line).rstrip() for line in block.splitlines() if line.strip()]
        for block in re.findall(r"^ *```[a-z]*\n(.*?)^ *```", text, re.S | re.M)
    ]
    prose = re.sub(r"^ *```.*?^ *```", "", text, flags=re.S | re.M)
    levels = [len(m.group(1)) for m in re.finditer(r"^(#+) ", prose, re.M)]
    body = prose.split("\n## ", 1)[1]
    links = [re.sub(r"^notebooks/(en|tr|zh)/", "notebooks/LANG/", t) for t in re.findall(r"\]\(([^)]+)\)", body)]
    lesson_langs = set(re.findall(r"\]\(notebooks/(en|tr|zh)/", body))
    assert lesson_langs == {README_LANGS[name]}, f"{name} links to lessons in {lesson_langs}"
    inline = set(re.findall(r"`([^`]+)`", prose.replace("\n", " ")))
    return levels, blocks, links, inline


def test_translated_readmes_have_every_section_command_and_link_of_the_english_one():
    english = _readme_parts("README.md")
    assert english[0].count(2) >= 7 and len(english[1]) >= 4 and len(english[2]) >= 10  # the parts are found
    for name in ("README.tr.md", "README.zh.md"):
        levels, blocks, links, inline = _readme_parts(name)
        assert levels == english[0], f"{name}: heading levels {levels}, README.md has {english[0]}"
        assert blocks == english[1], f"{name}: its code blocks differ from README.md's (comments aside)"
        assert links == english[2], f"{name}: links {links}\nREADME.md: {english[2]}"
        missing, extra = english[3] - inline, inline - english[3]
        assert not missing and not extra, f"{name}: inline code missing {missing}, not in README.md {extra}"


def test_readmes_and_contributing_link_the_glossary():
    assert (ROOT / "docs" / "glossary.md").exists()
    for name in [*README_LANGS, "CONTRIBUTING.md"]:
        assert "](docs/glossary.md)" in (ROOT / name).read_text(encoding="utf-8"), f"{name} should link the glossary"
