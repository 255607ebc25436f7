"""Grading in which student code runs apart from the tests.

At autograde and at Validate, nbgrader's kernel runs only the course's cells (set-up and tests); every cell a
student wrote runs in a separate worker process, contained by the operating system where it allows, and the tests
call the student's functions through it and get back plain data (numbers, strings, numeric arrays, and tuples,
lists and dicts of them). So the checks, numpy, IPython and the gradebook are out of the student's reach, output on
stderr or a warning costs nothing, and a part that hangs or kills its process costs only that part.

    wire           the plain-data codec and frames between kernel and worker
    containment    what the OS does: limits, namespaces, read-only mounts, no capabilities, seccomp
    guards         what the worker does to itself: the library fence and an audit hook
    worker         the worker process: runs cells and calls, captures output and figures
    kernel         the grading kernel's side: starts the worker, proxies, restarts, events
    preprocessor   IsolatedExecute, the nbgrader preprocessor (set in nbgrader_config.py)
    static_check   flags what grading cannot prove harmless
    report         the instructor's CSV and HTML report
"""
