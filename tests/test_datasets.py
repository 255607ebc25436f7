import numpy as np

from emlib.datasets import genetic_linkage, old_faithful


def test_old_faithful_shape_and_dtype():
    X = old_faithful()
    assert X.shape == (272, 2)  # R: dim(faithful) == c(272, 2)
    assert X.dtype == np.float64


def test_old_faithful_columns_match_r_faithful():
    eruptions, waiting = old_faithful().T
    # R: range(faithful$eruptions) == c(1.6, 5.1); range(faithful$waiting) == c(43, 96)
    assert eruptions.min() == 1.6 and eruptions.max() == 5.1
    assert waiting.min() == 43 and waiting.max() == 96
    assert np.all(waiting == np.round(waiting))  # waiting times are whole minutes
    # R: head(faithful, 1) is 3.600 79; tail(faithful, 1) is 4.467 74 (row 272)
    np.testing.assert_array_equal(old_faithful()[0], [3.6, 79])
    np.testing.assert_array_equal(old_faithful()[-1], [4.467, 74])
    # R: colMeans(faithful) == c(3.487783, 70.897059)
    np.testing.assert_allclose([eruptions.mean(), waiting.mean()], [3.487783, 70.897059], atol=1e-6)


def test_old_faithful_returns_an_independent_copy():
    X = old_faithful()
    X[:] = -1
    assert old_faithful()[0, 0] == 3.6
    assert old_faithful() is not old_faithful()


def test_old_faithful_does_not_depend_on_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # read through importlib.resources, not a path relative to cwd
    assert old_faithful().shape == (272, 2)


def test_genetic_linkage_counts():
    y = genetic_linkage()
    # Dempster, Laird and Rubin (1977), Section 1: y = (125, 18, 20, 34), 197 animals
    np.testing.assert_array_equal(y, [125, 18, 20, 34])
    assert y.dtype.kind == "i"
    assert y.sum() == 197
