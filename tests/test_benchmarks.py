"""The benchmark scripts run (tiny sizes), and each reports the same objective for emlib and its peer."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import em_variants  # noqa: E402
import gmm_speed  # noqa: E402
import vb_speed  # noqa: E402


def test_gmm_benchmark_runs_and_agrees_with_sklearn():
    rows = gmm_speed.main(["--sizes", "3000", "--repeats", "1", "--iterations", "1", "3"])
    assert len(rows) == 1 and rows[0]["same_objective"]


def test_vb_benchmark_runs_and_agrees_with_sklearn():
    rows = vb_speed.main(["--sizes", "3000", "--repeats", "1", "--iterations", "1", "3"])
    assert len(rows) == 1 and rows[0]["same_posterior"]


def test_em_variants_benchmark_runs_and_reaches_the_optimum():
    rows, squares = em_variants.main(["--n", "5000", "--max-passes", "30", "--repeats", "1"])
    assert {r["method"] for r in squares} == {"EM", "SQUAREM (S3)"}
    em, sq = squares
    assert sq["evaluations"] < em["evaluations"] and abs(sq["objective"] - em["objective"]) < 1e-6 * abs(em["objective"])
