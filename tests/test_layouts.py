"""Memory formats and layouts against torch's: the functions that take a ``memory_format``
check it as torch does (type, rank, where ``preserve_format`` is refused) and give torch's
values in every format; tensors are ``strided``."""

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


_REFUSED = {
    "clone-not-a-format": lambda T: T.ones(2).clone(memory_format="channels_last"),
    "empty_like-not-a-format": lambda T: T.empty_like(T.ones(2), memory_format=4),
    "contiguous-rank": lambda T: T.ones(2, 3, 4).contiguous(memory_format=T.channels_last),
    "to-rank": lambda T: T.ones(2, 3, 4).to(memory_format=T.channels_last),
    "zeros_like-rank": lambda T: T.zeros_like(T.ones(2, 3, 4), memory_format=T.channels_last),
    "rand_like-rank-3d": lambda T: T.rand_like(T.ones(1, 2, 3, 4),
                                               memory_format=T.channels_last_3d),
    "empty-rank": lambda T: T.empty(2, 3, memory_format=T.channels_last),
    "empty-preserve": lambda T: T.empty(2, 3, 4, 5, memory_format=T.preserve_format),
    "clone-rank-3d": lambda T: T.ones(2, 3, 4, 5).clone(memory_format=T.channels_last_3d),
}


@pytest.mark.parametrize("scenario", _REFUSED.values(), ids=_REFUSED)
def test_bad_memory_formats_are_refused_as_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


_FORMATTED = {
    "contiguous-channels_last": lambda T, x: x.contiguous(memory_format=T.channels_last),
    "clone-channels_last": lambda T, x: (x * 2).clone(memory_format=T.channels_last),
    "to-dtype-channels_last": lambda T, x: x.to(T.float16, memory_format=T.channels_last),
    "full_like-contiguous": lambda T, x: T.full_like(x, 2.5, memory_format=T.contiguous_format),
    "ones_like-preserve": lambda T, x: T.ones_like(x, memory_format=T.preserve_format),
    "contiguous-3d-format": lambda T, x: x.reshape(1, 2, 3, 4, 5).contiguous(
        memory_format=T.channels_last_3d),
}


@pytest.mark.parametrize("fn", _FORMATTED.values(), ids=_FORMATTED)
def test_every_format_gives_torchs_values(torch, fn):
    values = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    ours, theirs = fn(funcgrad, funcgrad.tensor(values)), fn(torch, torch.tensor(values))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())
    assert ours.layout is funcgrad.strided and theirs.layout is torch.strided


def test_a_module_takes_a_format_for_its_4d_tensors_alone_as_torch(torch):
    for lib in (funcgrad, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.Flatten(), lib.nn.Linear(12, 1))
        weights = [p.detach().clone() for p in model.parameters()]
        assert model.to(memory_format=lib.channels_last) is model  # no rank error from Linear
        assert all(lib.equal(p, w) for p, w in zip(model.parameters(), weights))


def test_formats_and_layout_print_as_torchs(torch):
    for name in ("strided", "contiguous_format", "channels_last", "channels_last_3d",
                 "preserve_format"):
        assert repr(getattr(funcgrad, name)) == repr(getattr(torch, name)).replace(
            "torch", "funcgrad")
    assert isinstance(funcgrad.channels_last, funcgrad.memory_format)
    assert isinstance(funcgrad.ones(1).layout, funcgrad.layout)
