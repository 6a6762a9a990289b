"""The course's ClearSolutions: a %%bash answer cell is released with the bash stub, a
Python one with nbgrader's own, and both through the course's real nbgrader_config.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearSolutions
from traitlets.config.loader import PyFileConfigLoader

from grader.nbgrader_cells import BASH_STUB, ClearSolutionsInBashCells, is_bash_cell

ROOT = Path(__file__).resolve().parents[2]


def _answer(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "x",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return cell


def _released(*cells: nbformat.NotebookNode) -> list[str]:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    notebook.metadata["kernelspec"] = {"language": "python", "name": "python3"}
    released, _ = ClearSolutionsInBashCells(config=config).preprocess(notebook, {})
    return [cell.source for cell in released.cells]


def test_the_course_config_puts_it_in_place_of_nbgraders_own() -> None:
    from nbgrader.converters import GenerateAssignment

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    steps = GenerateAssignment(config=config).preprocessors
    assert ClearSolutionsInBashCells in steps
    assert ClearSolutions not in steps


def test_a_bash_answer_gets_the_bash_stub_and_keeps_its_other_lines() -> None:
    begin, end = ClearSolutions().begin_solution_delimeter, ClearSolutions().end_solution_delimeter
    bash = _answer(
        f"%%bash\ndocker rm -f l1-x 2>/dev/null\n### {begin}\ndocker run l1-x\n### {end}"
    )
    python = _answer(f"### {begin}\nanswer = 42\n### {end}")
    released_bash, released_python = _released(bash, python)
    assert released_bash == f"%%bash\ndocker rm -f l1-x 2>/dev/null\n{BASH_STUB}"
    assert "docker run" not in released_bash
    assert released_python == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_a_bash_answer_without_a_solution_region_is_refused_not_released_as_python() -> None:
    with pytest.raises(RuntimeError, match="%%bash answer cell needs"):
        _released(_answer("%%bash\ndocker run l1-x"))


def test_only_a_cell_that_starts_with_the_magic_is_bash() -> None:
    assert is_bash_cell(nbformat.v4.new_code_cell("\n%%bash\necho hi"))
    assert not is_bash_cell(nbformat.v4.new_code_cell("x = '%%bash'"))
    assert not is_bash_cell(nbformat.v4.new_markdown_cell("%%bash"))
