"""The benchmark scripts run (tiny sizes), and each reports the same objective for emlib and its peer."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import gmm_speed  # noqa: E402


def test_gmm_benchmark_runs_and_agrees_with_sklearn():
    rows = gmm_speed.main(["--sizes", "3000", "--repeats", "1", "--iterations", "1", "3"])
    assert len(rows) == 1 and rows[0]["same_objective"]
