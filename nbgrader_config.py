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
