"""nbgrader configuration of the course: the repository root is the course directory.

Instructor notebooks (solutions and hidden tests) live in solutions/NN-topic/, and
`nbgrader generate_assignment` writes the learner versions to lessons/NN-topic/.
"""

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

from grader.nbgrader_cells import BASH_STUB, ClearSolutionsInBashCells

c = get_config()  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = "docker-ml-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "work"]

# Cells build images: nbgrader's default of 30 s per cell is too short.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# Notebooks are stored without outputs; the learner runs them.
c.ClearOutput.enabled = True
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
    "bash": BASH_STUB,
}
# Answers typed as real commands live in %%bash cells: they get the bash stub, not Python's.
c.GenerateAssignment.preprocessors = [
    ClearSolutionsInBashCells if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()
]
