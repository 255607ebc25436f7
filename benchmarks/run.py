"""Run every benchmark of the course: python benchmarks/run.py (figures are recorded in benchmarks/RESULTS.md)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import gmm_speed  # noqa: E402
import hmm_speed  # noqa: E402
import viterbi_speed  # noqa: E402
import em_variants  # noqa: E402
import vb_speed  # noqa: E402

if __name__ == "__main__":
    print("== Gaussian mixture: emlib against scikit-learn ==")
    gmm_speed.main([])
    print("\n== Baum-Welch: emlib against hmmlearn ==")
    hmm_speed.main([])
    print("\n== HMM decoding (Viterbi, state posteriors): emlib against hmmlearn ==")
    viterbi_speed.main([])
    print("\n== Variational Bayesian Gaussian mixture: emlib against scikit-learn ==")
    vb_speed.main([])
    print("\n== EM variants: incremental, online, SQUAREM against batch EM ==")
    em_variants.main([])
