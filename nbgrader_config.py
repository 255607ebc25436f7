"""nbgrader configuration for the course (read by every `nbgrader` command run in this folder)."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader/traitlets when this file is loaded)

# The course root is the folder of this file; setting it explicitly avoids a
# warning on every nbgrader command and makes commands work from any folder.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "em-course"

# Our folder names differ from nbgrader's defaults ("source" and "release"):
# instructors edit assignments in solutions/, students get them from exercises/.
# Both folders are committed.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Seconds a single cell may run when nbgrader executes notebooks (validate, autograde).
c.ExecutePreprocessor.timeout = 120

# What replaces a "### BEGIN SOLUTION ... ### END SOLUTION" block in the released exercise.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback returned to students is HTML made from the autograded notebook, which by default shows the
# hidden tests twice: in the test cells' code, and in every traceback, which quotes the lines around the
# failing one. Clear the hidden-test blocks and cut each traceback to its last line: students see their
# scores and the failure messages (which name the mistake), never the hidden tests
# (tests/test_assignments.py checks this).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor  # noqa: E402


class FailureMessagesOnly(NbGraderPreprocessor):
    """Replace each error's traceback by its last line, "AssertionError: <message>"."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, FailureMessagesOnly, CSSHTMLHeaderPreprocessor]
