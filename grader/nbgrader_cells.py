"""nbgrader's ClearSolutions, taught that a ``%%bash`` cell is a shell script.

The lessons ask the learner to type real commands (``docker run --name l1-hello …``) in
``%%bash`` cells. nbgrader picks the stub that replaces a solution by the notebook's kernel
language, so a bash cell would be released holding ``raise NotImplementedError()``, which
bash answers with ``raise: command not found``. This subclass uses the ``bash`` stub of
``ClearSolutions.code_stub`` for cells that start with ``%%bash`` (nbgrader_config.py puts it
in place of nbgrader's own in ``GenerateAssignment.preprocessors``).
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import ClearSolutions

__all__ = ["BASH_STUB", "ClearSolutionsInBashCells", "is_bash_cell"]

BASH_STUB = """\
# YOUR COMMANDS HERE
echo "Not answered yet: type your commands in this cell, then run it again." >&2
exit 1"""
"""What a released ``%%bash`` answer cell holds: it fails, as an unanswered Python cell does."""


def is_bash_cell(cell: Any) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith("%%bash")


class ClearSolutionsInBashCells(ClearSolutions):
    """ClearSolutions, with the ``bash`` stub in ``%%bash`` cells."""

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        if is_bash_cell(cell):
            if "bash" not in self.code_stub:
                raise ValueError("ClearSolutions.code_stub has no 'bash' stub for %%bash cells")
            language = "bash"
        replaced = super()._replace_solution_region(cell, language)
        if (
            is_bash_cell(cell)
            and not replaced
            and cell.metadata.get("nbgrader", {}).get("solution")
        ):
            # nbgrader would replace the whole cell, %%bash line and all, by the Python stub.
            raise RuntimeError(
                f"a %%bash answer cell needs {self.begin_solution_delimeter} and "
                f"{self.end_solution_delimeter} around its answer:\n{cell.source}"
            )
        return replaced
