"""``testing.assert_close`` passes and fails where ``torch.testing.assert_close`` does (default
tolerances by dtype, NaN, infinities, shapes, dtypes, nested containers), and says where."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.testing import assert_close

CASES = [  # (actual, expected, keywords)
    (np.float32([1, 2, 3]), np.float32([1, 2, 3.00001]), {}),
    (np.float32([1, 2, 3]), np.float32([1, 2, 3.0001]), {}),
    (np.float64([1, 2, 3]), np.float64([1, 2, 3 + 1e-7]), {}),
    (np.float64([1, 2, 3]), np.float64([1, 2, 3 + 1e-6]), {}),
    (np.float64([1, np.nan]), np.float64([1, np.nan]), {}),
    (np.float64([1, np.nan]), np.float64([1, np.nan]), {"equal_nan": True}),
    (np.float64([np.inf, -np.inf]), np.float64([np.inf, -np.inf]), {}),
    (np.float64([np.inf]), np.float64([-np.inf]), {}),
    (np.int64([1, 2]), np.int64([1, 3]), {}),
    (np.float64([1.0, 2.0]), np.float64([1.1, 2.0]), {"rtol": 0.2, "atol": 0.0}),
    (np.float64([1.0]), np.float32([1.0]), {}),
    (np.float64([1.0]), np.float32([1.0]), {"check_dtype": False}),
    (np.float64([1.0, 2.0]), np.float64([[1.0, 2.0]]), {}),
]


@pytest.mark.torch
@pytest.mark.parametrize(("a", "b", "kw"), CASES)
def test_assert_close_agrees_with_torch(a, b, kw):
    torch = pytest.importorskip("torch")
    try:
        torch.testing.assert_close(torch.from_numpy(a), torch.from_numpy(b), **kw)
        theirs = True
    except AssertionError:
        theirs = False
    try:
        assert_close(tr.tensor(a), tr.tensor(b), **kw)
        ours = True
    except AssertionError:
        ours = False
    assert ours == theirs


def test_assert_close_messages_and_containers():
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 3 \(33.3%\)\n"
                                             r"Greatest absolute difference: 1.0 at index "
                                             r"\(1,\) \(up to 1e-05 allowed\)"):
        assert_close(tr.ones(3), tr.tensor([1.0, 2.0, 1.0]))
    assert_close({"w": [tr.ones(2), 1.0]}, {"w": [tr.ones(2), 1.0]})
    with pytest.raises(AssertionError, match=r"not close\['w'\]\[0\]"):
        assert_close({"w": [tr.ones(2)]}, {"w": [tr.zeros(2)]})
    with pytest.raises(AssertionError, match="the keys differ"):
        assert_close({"a": 1.0}, {"b": 1.0})
    with pytest.raises(AssertionError, match="custom"):
        assert_close(tr.ones(1), tr.zeros(1), msg="custom")
    with pytest.raises(ValueError, match="both rtol and atol"):
        assert_close(tr.ones(1), tr.ones(1), rtol=1e-3)
    with pytest.raises(TypeError, match="not str"):
        assert_close("a", "a")


def test_assert_close_takes_pytorchs_keywords():
    with pytest.raises(AssertionError, match=r"^wrapped: Tensor-likes are not close!\n"):
        assert_close(tr.ones(2), tr.zeros(2), msg=lambda m: "wrapped: " + m)
    assert_close(tr.ones(2), np.ones(2, dtype=np.float32), allow_subclasses=True,
                 check_layout=True, check_stride=False)
    with pytest.raises(TypeError, match=r"the types differ: Tensor and ndarray "
                                        r"\(allow_subclasses=False\)"):
        assert_close(tr.ones(2), np.ones(2, dtype=np.float32), allow_subclasses=False)
    with pytest.raises(TypeError, match=r"the types differ\[1\]: Tensor and float"):
        assert_close([tr.ones(1), tr.ones(1)], [tr.ones(1), 1.0], allow_subclasses=False)
    assert_close([tr.ones(1)], [tr.ones(1)], allow_subclasses=False)
    # containers are not leaves: a list against a tuple, a dict against an OrderedDict pass
    from collections import OrderedDict

    assert_close([tr.ones(1)], (tr.ones(1),), allow_subclasses=False)
    assert_close({"a": tr.ones(1)}, OrderedDict(a=tr.ones(1)), allow_subclasses=False)
    x = tr.tensor(np.arange(6.0).reshape(2, 3))
    assert_close(x.T, tr.tensor(x.T.numpy()))  # the same values, laid out otherwise
    assert_close(x.T, tr.tensor(np.arange(6.0).reshape(2, 3)).T, check_stride=True)
    with pytest.raises(AssertionError, match=r"the strides differ: \(1, 3\) and \(2, 1\)"):
        assert_close(x.T, tr.tensor(np.ascontiguousarray(x.T.numpy())), check_stride=True)
