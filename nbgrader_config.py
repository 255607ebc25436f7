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

# Feedback pages are read offline (students fetch them into their own folder), so their maths cannot come from a
# CDN, which is where nbconvert's `mathjax()` macro points. grading/feedback/mathjax.html.j2, found before
# nbconvert's own, replaces that macro: MathJax 3 (its self-contained SVG build, from the PyPI package
# django-static-mathjax, which requirements.txt installs) is inlined into the page by the filter below, and error
# output wraps instead of running off screen. (tests/test_instructor_guide.py opens a fetched feedback page in
# Chromium with the network blocked.)
import pathlib  # noqa: E402

import nbgrader  # noqa: E402

c.HTMLExporter.extra_template_basedirs = [
    os.path.join(c.CourseDirectory.root, "grading"),
    os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates"),  # nbgrader's
]


def mathjax_script(_=None) -> str:
    """The text of MathJax 3's tex-svg.js, as installed by django-static-mathjax (a Jinja filter)."""
    import mathjax

    return (pathlib.Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg.js").read_text()


c.HTMLExporter.filters = {"mathjax_script": mathjax_script}

# Student code runs apart from the tests (isolation/, DESIGN.md points 8-11). At autograde and at Validate the
# kernel runs only the course's cells; the student's cells run in a separate worker process, contained by the
# operating system (read-only file system with the course folder hidden, no network, no new processes, limits), and
# the tests call the student's functions through it and get back plain data. emlib's algorithms are never imported
# in the worker: an answer that calls them fails that part and is told why. Flags of the static check, faults and
# incomplete containment are listed in isolation_report.csv (and .html) in this folder.
from nbgrader.converters.autograde import Autograde  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402
from nbgrader.validator import Validator  # noqa: E402

from isolation.preprocessor import IsolatedExecute  # noqa: E402



def isolated(preprocessors) -> list:
    """nbgrader's default list of preprocessors (a traitlets List trait) with IsolatedExecute in place of Execute."""
    return [IsolatedExecute if p is Execute else p for p in preprocessors.default_args[0]]


c.Autograde.autograde_preprocessors = isolated(Autograde.class_traits()["autograde_preprocessors"])
# Validator.preprocessors is not configurable (not tagged config=True in nbgrader 0.9), so its default is set here.
Validator.class_traits()["preprocessors"].default_args = (isolated(Validator.class_traits()["preprocessors"]),)
c.IsolatedExecute.fenced_modules = ["emlib"]
c.IsolatedExecute.allowed_modules = ["emlib.checks", "emlib.datasets", "emlib.plotting", "emlib._validation"]
