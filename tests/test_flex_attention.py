"""nn.attention: FlexAttention and sdpa_kernel against torch's. Block masks (every tensor,
the printing, slicing, cropping) and forward values against torch 2.13's; gradients, which
torch's FlexAttention has not on a CPU, against torch autograd through the attention written
out in torch ops, and against finite differences."""

import contextlib
import warnings

import jax
import numpy as np
import pytest

import funcgrad
from _compare import F32_ATOL
from test_errors import assert_raises_as_torch, message

FLEX = funcgrad.nn.attention.flex_attention


@pytest.fixture
def torch(dynamo_torch):
    return dynamo_torch


@pytest.fixture(autouse=True)
def _warned_already(monkeypatch):
    """torch warns once per process that flex_attention is not compiled, and both warn once
    that return_lse is deprecated: the tests here count them shown, except the one about
    the deprecation."""
    shown = {"flex_attention_performance", "deprecated_return_lse"}
    monkeypatch.setattr(FLEX, "_WARNINGS_SHOWN", set(shown))
    try:
        import torch.nn.attention.flex_attention as theirs
    except ImportError:
        return
    monkeypatch.setattr(theirs, "_WARNINGS_SHOWN", set(shown))


def _flex(lib):
    if lib is funcgrad:
        return FLEX
    import torch.nn.attention.flex_attention as theirs
    return theirs


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def sliding_window(b, h, q_idx, kv_idx):
    return (q_idx - kv_idx).abs() <= 3


def odd_heads_see_less(b, h, q_idx, kv_idx):
    return (h % 2 == 0) | (kv_idx < 5)


def _documents(lib):
    """A document mask over a captured tensor: each batch's tokens split into documents."""
    ids = lib.tensor([[0] * 4 + [1] * 6 + [2] * 3, [0] * 9 + [1] * 4])

    def same_document(b, h, q_idx, kv_idx):
        return ids[b, q_idx] == ids[b, kv_idx]

    return same_document


MASKS = {
    "causal": lambda lib: causal,
    "sliding": lambda lib: sliding_window,
    "per-head": lambda lib: odd_heads_see_less,
    "documents": _documents,
    "and": lambda lib: _flex(lib).and_masks(causal, sliding_window),
    "or": lambda lib: _flex(lib).or_masks(causal, odd_heads_see_less),
    "noop": lambda lib: _flex(lib).noop_mask,
}
# (B, H, Q_LEN, KV_LEN, BLOCK_SIZE, separate_full_blocks)
LAYOUTS = {
    "blocks-of-4": (2, 4, 13, 13, 4, True),
    "one-block": (2, 4, 13, 13, 128, True),
    "uneven-blocks": (2, 4, 13, 13, (4, 2), True),
    "unseparated": (2, 4, 13, 13, 4, False),
    "broadcast": (None, None, 13, 13, 4, True),
}


def _block_mask(lib, mask, layout):
    B, H, q_len, kv_len, block, separate = LAYOUTS[layout]
    return _flex(lib).create_block_mask(MASKS[mask](lib), B, H, q_len, kv_len, device="cpu",
                                        BLOCK_SIZE=block, separate_full_blocks=separate)


def _same_block_masks(ours, theirs) -> None:
    for name in ours._TENSOR_ATTRS:
        mine, torchs = getattr(ours, name), getattr(theirs, name)
        assert (mine is None) == (torchs is None), name
        if mine is not None:
            np.testing.assert_array_equal(np.asarray(mine), torchs.numpy(), err_msg=name)
            assert str(mine.dtype).split(".")[-1] == str(torchs.dtype).split(".")[-1], name
    assert (ours.shape, ours.BLOCK_SIZE, ours.seq_lengths) == (
        theirs.shape, theirs.BLOCK_SIZE, theirs.seq_lengths)
    assert ours.sparsity() == pytest.approx(theirs.sparsity())
    assert message(repr(ours)) == message(repr(theirs))
    assert str(ours) == str(theirs)
    np.testing.assert_array_equal(np.asarray(ours.to_dense()), theirs.to_dense().numpy())


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mask", MASKS)
def test_create_block_mask_matches_torch(torch, mask, layout):
    ours, theirs = _block_mask(funcgrad, mask, layout), _block_mask(torch, mask, layout)
    _same_block_masks(ours, theirs)
    assert ours.numel() == theirs.numel()
    assert len(ours.as_tuple()) == len(theirs.as_tuple())
    assert len(ours.as_tuple(flatten=False)) == len(theirs.as_tuple(flatten=False))
    assert ours.to_string(grid_size=2, limit=1) == theirs.to_string(grid_size=2, limit=1)
    assert ours.to_string(grid_size=-1) == theirs.to_string(grid_size=-1)


@pytest.mark.parametrize("index", [0, -1, (0, 1), (slice(0, 2), slice(1, 2)),
                                   (slice(None), slice(None), [1, 2])],
                         ids=["batch", "last-batch", "batch-head", "slices", "query-rows"])
def test_a_sliced_block_mask_matches_torch(torch, index):
    def sliced(lib):
        key = tuple(lib.tensor(i) if isinstance(i, list) else i
                    for i in (index if isinstance(index, tuple) else (index,)))
        return _block_mask(lib, "documents", "blocks-of-4")[key]

    ours, theirs = sliced(funcgrad), sliced(torch)
    _same_block_masks(ours, theirs)

    def use_mask_mod(lib):
        mask = sliced(lib)
        mask.mask_mod(*(lib.tensor(0),) * 4)

    assert_raises_as_torch(torch, use_mask_mod)


@pytest.mark.parametrize("lengths", [(9, 13), (13, 5), (4, 4)])
def test_an_adjusted_block_mask_matches_torch(torch, lengths):
    ours, theirs = (_block_mask(lib, "causal", "blocks-of-4")._adjust(*lengths)
                    for lib in (funcgrad, torch))
    _same_block_masks(ours, theirs)


def test_block_mask_from_kv_blocks_and_to_match_torch(torch):
    def made(lib):
        counts = lib.tensor([[[1, 2], [0, 1]]], dtype=lib.int32)
        indices = lib.tensor([[[[1, 0], [0, 1]], [[0, 1], [1, 0]]]], dtype=lib.int32)
        return _flex(lib).BlockMask.from_kv_blocks(counts, indices, BLOCK_SIZE=(2, 3)).to("cpu")

    _same_block_masks(made(funcgrad), made(torch))


@pytest.mark.parametrize("mod", ["mask", "score"])
def test_create_mask_matches_torch(torch, mod):
    def made(lib):
        if mod == "mask":
            fn = MASKS["documents"](lib)
        else:
            def fn(score, b, h, q_idx, kv_idx):
                return lib.where(q_idx - kv_idx > h, -float("inf"), score)
        return _flex(lib).create_mask(fn, 2, 3, 13, 11, device="cpu")

    ours, theirs = made(funcgrad), made(torch)
    assert ours.dtype == funcgrad.bool and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


def _inputs(lib, dtype="float32", heads=(4, 4), batches=(2, 2), requires_grad=False):
    rng = np.random.default_rng(0)
    shapes = {"q": (batches[0], heads[0], 13, 8), "k": (batches[1], heads[1], 13, 8),
              "v": (batches[1], heads[1], 13, 6)}
    return [lib.tensor(rng.standard_normal(shape), dtype=getattr(lib, dtype),
                       requires_grad=requires_grad) for shape in shapes.values()]


def _relative_bias(lib, slopes):
    def score_mod(score, b, h, q_idx, kv_idx):
        return score - slopes[h] * (q_idx - kv_idx).abs()

    return score_mod


def _soft_cap(lib):
    def score_mod(score, b, h, q_idx, kv_idx):
        return 5 * lib.tanh(score / 5)

    return score_mod


def _table(lib, table):
    def score_mod(score, b, h, q_idx, kv_idx):
        return score + table[q_idx, kv_idx]

    return score_mod


SCORE_MODS = {
    "none": lambda lib, captured: None,
    "relative-bias": lambda lib, captured: _relative_bias(lib, captured["slopes"]),
    "soft-cap": lambda lib, captured: _soft_cap(lib),
    "bias-table": lambda lib, captured: _table(lib, captured["table"]),
}


def _captured(lib, requires_grad=False, dtype="float32"):
    rng = np.random.default_rng(1)
    return {"slopes": lib.tensor(rng.uniform(0, 1, 4), dtype=getattr(lib, dtype),
                                 requires_grad=requires_grad),
            "table": lib.tensor(rng.standard_normal((13, 13)), dtype=getattr(lib, dtype),
                                requires_grad=requires_grad)}


CASES = {
    "plain": dict(),
    "causal": dict(mask="causal"),
    "documents": dict(mask="documents"),
    "gqa": dict(heads=(4, 2), enable_gqa=True, mask="per-head"),
    "shared-kv-batch": dict(batches=(2, 1), mask="sliding"),
    "scale": dict(scale=0.3, mask="or"),
    "float64": dict(dtype="float64", mask="and"),
}


def _x64(settings: dict):
    """float64 needs JAX's 64-bit mode."""
    if settings.get("dtype") == "float64":
        return jax.enable_x64(True)
    return contextlib.nullcontext()


def _attend(lib, case, score_mod, **extra):
    settings = CASES[case]
    q, k, v = _inputs(lib, settings.get("dtype", "float32"), settings.get("heads", (4, 4)),
                      settings.get("batches", (2, 2)))
    block_mask = None
    if "mask" in settings:
        block_mask = _block_mask(lib, settings["mask"], "blocks-of-4")
    captured = _captured(lib, dtype=settings.get("dtype", "float32"))
    return _flex(lib).flex_attention(q, k, v, SCORE_MODS[score_mod](lib, captured), block_mask,
                                     scale=settings.get("scale"),
                                     enable_gqa=settings.get("enable_gqa", False), **extra)


@pytest.mark.parametrize("score_mod", SCORE_MODS)
@pytest.mark.parametrize("case", CASES)
def test_flex_attention_matches_torch(torch, case, score_mod):
    request = {"return_aux": _flex(funcgrad).AuxRequest(lse=True)}
    with _x64(CASES[case]):
        ours, aux = _attend(funcgrad, case, score_mod, **request)
    theirs, their_aux = _attend(torch, case, score_mod,
                                return_aux=_flex(torch).AuxRequest(lse=True))
    assert ours.dtype == getattr(funcgrad, CASES[case].get("dtype", "float32"))
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-5, atol=F32_ATOL)
    assert aux.max_scores is None
    np.testing.assert_allclose(np.asarray(aux.lse), their_aux.lse.numpy(), rtol=1e-5,
                               atol=F32_ATOL)


def test_flex_attention_in_bfloat16_matches_torch(torch):
    def attend(lib):
        q, k, v = _inputs(lib, "bfloat16")
        return _flex(lib).flex_attention(q, k, v, _soft_cap(lib),
                                         _block_mask(lib, "causal", "blocks-of-4"))

    ours, theirs = attend(funcgrad), attend(torch)
    assert ours.dtype == funcgrad.bfloat16
    np.testing.assert_allclose(np.asarray(ours.float()), theirs.float().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_a_fully_masked_row_gives_zeros_and_no_nan_gradient():
    def skip_row_3(b, h, q_idx, kv_idx):
        return q_idx != 3

    q, k, v = _inputs(funcgrad, requires_grad=True)
    mask = FLEX.create_block_mask(skip_row_3, None, None, 13, 13, device="cpu", BLOCK_SIZE=4)
    out, aux = FLEX.flex_attention(q, k, v, block_mask=mask,
                                   return_aux=FLEX.AuxRequest(lse=True, max_scores=True))
    assert (out[:, :, 3] == 0).all() and funcgrad.isneginf(aux.lse[:, :, 3]).all()
    assert funcgrad.isneginf(aux.max_scores[:, :, 3]).all()
    out.sum().backward()
    for x in (q, k, v):
        assert funcgrad.isfinite(x.grad).all()
    assert (q.grad[:, :, 3] == 0).all()  # the row's output is the constant 0


def _reference(torch, q, k, v, score_mod, mask, scale, groups):
    """The attention written out in torch ops (what torch's eager FlexAttention computes),
    for torch's autograd to differentiate."""
    k, v = (t.repeat_interleave(groups, dim=1) for t in (k, v))
    shape = (q.shape[0], q.shape[1], q.shape[2], k.shape[2])
    index = [torch.arange(n).view([n if d == i else 1 for d in range(4)])
             for i, n in enumerate(shape)]
    scores = q @ k.transpose(-2, -1) * scale
    if score_mod is not None:
        scores = score_mod(scores, *index)
    if mask is not None:
        scores = torch.where(mask(*index), scores, -float("inf"))
    return scores.expand(shape).softmax(-1) @ v


@pytest.mark.parametrize("score_mod", SCORE_MODS)
@pytest.mark.parametrize("case", ["causal", "gqa", "documents"])
def test_flex_attention_gradients_match_torch_autograd_of_the_math(torch, case, score_mod):
    settings = CASES[case]
    grads = []
    for lib in (funcgrad, torch):
        q, k, v = _inputs(lib, heads=settings.get("heads", (4, 4)), requires_grad=True)
        captured = _captured(lib, requires_grad=True)
        mask = MASKS[settings["mask"]](lib)
        groups = q.shape[1] // k.shape[1]
        if lib is funcgrad:
            block_mask = FLEX.create_block_mask(mask, 2, 4, 13, 13, device="cpu", BLOCK_SIZE=4)
            out = FLEX.flex_attention(q, k, v, SCORE_MODS[score_mod](lib, captured), block_mask,
                                      enable_gqa=groups > 1)
        else:
            out = _reference(torch, q, k, v, SCORE_MODS[score_mod](lib, captured), mask,
                             8 ** -0.5, groups)
        (out * lib.linspace(-1, 1, 6)).sum().backward()
        used = [t for name, t in captured.items()
                if (name == "slopes") == (score_mod == "relative-bias")
                and score_mod in ("relative-bias", "bias-table")]
        grads.append([np.asarray(t.grad.detach() if lib is funcgrad else t.grad)
                      for t in (q, k, v, *used)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@jax.enable_x64(True)
def test_flex_attention_passes_gradcheck():
    rng = np.random.default_rng(2)
    q, k, v = (funcgrad.tensor(rng.standard_normal((1, 2, 5, 3)), dtype=funcgrad.float64,
                               requires_grad=True) for _ in range(3))
    slopes = funcgrad.tensor([0.3, 0.7], dtype=funcgrad.float64, requires_grad=True)
    mask = FLEX.create_block_mask(sliding_window, 1, 2, 5, 5, device="cpu", BLOCK_SIZE=2)

    def attention(q, k, v, slopes):
        return FLEX.flex_attention(q, k, v, _relative_bias(funcgrad, slopes), mask)

    assert funcgrad.autograd.gradcheck(attention, (q, k, v, slopes))


def test_max_scores_are_each_rows_largest_modified_score():
    q, k, v = _inputs(funcgrad)
    slopes = _captured(funcgrad)["slopes"]
    _, aux = FLEX.flex_attention(q, k, v, _relative_bias(funcgrad, slopes),
                                 _block_mask(funcgrad, "causal", "blocks-of-4"),
                                 return_aux=FLEX.AuxRequest(max_scores=True))
    assert aux.lse is None
    qn, kn, sn = (np.asarray(t, np.float64) for t in (q, k, slopes))
    position = np.arange(13)
    scores = qn @ kn.swapaxes(-1, -2) / np.sqrt(8)
    scores = scores - sn[:, None, None] * np.abs(position[:, None] - position)
    scores = np.where(position[:, None] >= position, scores, -np.inf)
    np.testing.assert_allclose(np.asarray(aux.max_scores), scores.max(-1), rtol=1e-5, atol=1e-5)


def test_return_lse_warns_once_as_torch_and_returns_the_logsumexp(torch, monkeypatch):
    def attend(lib):
        monkeypatch.setattr(_flex(lib), "_WARNINGS_SHOWN", {"flex_attention_performance"})
        with pytest.warns(FutureWarning) as record:
            out = _attend(lib, "causal", "none", return_lse=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _attend(lib, "causal", "none", return_lse=True)  # once per process
        assert len(record) == 1
        return out, record[0].message

    (ours, lse, warned), (theirs, their_lse, their_warning) = (
        (*attend(lib)[0], attend(lib)[1]) for lib in (funcgrad, torch))
    assert message(warned) == message(their_warning)
    np.testing.assert_allclose(np.asarray(lse), their_lse.numpy(), rtol=1e-5, atol=F32_ATOL)


def test_there_is_no_warning_that_it_is_not_compiled(monkeypatch):
    """torch's advice to compile would not avoid the score matrix here (see the module)."""
    monkeypatch.setattr(FLEX, "_WARNINGS_SHOWN", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _attend(funcgrad, "plain", "none")


def test_a_compiled_step_trains_through_flex_attention_as_eager():
    def make():
        slopes = funcgrad.nn.Parameter(funcgrad.tensor([0.1, 0.2, 0.3, 0.4]))
        q = funcgrad.nn.Parameter(_inputs(funcgrad)[0])
        k, v = _inputs(funcgrad)[1:]
        optimizer = funcgrad.optim.SGD([slopes, q], lr=0.5)
        mask = _block_mask(funcgrad, "causal", "blocks-of-4")

        def step():
            optimizer.zero_grad()
            loss = FLEX.flex_attention(q, k, v, _relative_bias(funcgrad, slopes),
                                       mask).square().mean()
            loss.backward()
            optimizer.step()
            return loss

        return step, slopes

    (eager, eager_slopes), (compiled, compiled_slopes) = make(), make()
    compiled = funcgrad.compile(compiled)
    for _ in range(3):
        np.testing.assert_allclose(compiled().item(), eager().item(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(compiled_slopes.detach()),
                               np.asarray(eager_slopes.detach()), rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(eager_slopes.detach()), [0.1, 0.2, 0.3, 0.4])


def _qkv(lib, q=(2, 4, 13, 8), k=(2, 4, 13, 8), v=(2, 4, 13, 6)):
    return [lib.zeros(shape) for shape in (q, k, v)]


def _unchanged(score, b, h, q_idx, kv_idx):
    return score


ERRORS = {
    "heads": lambda lib: _flex(lib).flex_attention(*_qkv(lib, k=(2, 2, 13, 8),
                                                         v=(2, 2, 13, 6))),
    "gqa-heads": lambda lib: _flex(lib).flex_attention(
        *_qkv(lib, k=(2, 3, 13, 8), v=(2, 3, 13, 6)), enable_gqa=True),
    "embedding": lambda lib: _flex(lib).flex_attention(*_qkv(lib, k=(2, 4, 13, 4))),
    "three-dims": lambda lib: _flex(lib).flex_attention(*_qkv(lib, (4, 13, 8), (4, 13, 8),
                                                              (4, 13, 6))),
    "batch": lambda lib: _flex(lib).flex_attention(*_qkv(lib, k=(1, 4, 13, 8),
                                                         v=(1, 4, 13, 6))),
    "short-mask": lambda lib: _flex(lib).flex_attention(
        *_qkv(lib), block_mask=_flex(lib).create_block_mask(causal, 2, 4, 9, 13, device="cpu")),
    "long-mask": lambda lib: _flex(lib).flex_attention(
        *_qkv(lib), block_mask=_flex(lib).create_block_mask(causal, 2, 4, 20, 13,
                                                            device="cpu")),
    "sliced-mask": lambda lib: _flex(lib).flex_attention(
        *_qkv(lib), block_mask=_block_mask(lib, "causal", "blocks-of-4")[:, :]),
    "lse-and-aux": lambda lib: _flex(lib).flex_attention(
        *_qkv(lib), return_lse=True, return_aux=_flex(lib).AuxRequest(lse=True)),
    "backend": lambda lib: _flex(lib).flex_attention(*_qkv(lib),
                                                     kernel_options={"BACKEND": "CUDNN"}),
    "score-mod-for-block-mask": lambda lib: _flex(lib).create_block_mask(
        _unchanged, 1, 1, 4, 4, device="cpu"),
    "three-arguments": lambda lib: _flex(lib).create_mask(lambda b, h, q: q, 1, 1, 4, 4,
                                                          device="cpu"),
    "or-of-a-number": lambda lib: _flex(lib).or_masks(causal, 3),
    "and-of-a-number": lambda lib: _flex(lib).and_masks(3),
    "dq-kv-order": lambda lib: _flex(lib).create_block_mask(causal, 1, 1, 4, 4, device="cpu",
                                                            dq_kv_order=None),
}


@pytest.mark.parametrize("scenario", ERRORS.values(), ids=ERRORS)
def test_flex_attention_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_dq_write_order_is_refused_with_the_reason():
    with pytest.raises(NotImplementedError, match="FLASH backward kernel"):
        FLEX.create_block_mask(causal, 1, 1, 4, 4, device="cpu", compute_dq_write_order=True)


def _sdpa_flags(lib):
    cuda = lib.backends.cuda
    return (cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(), cuda.math_sdp_enabled(),
            cuda.cudnn_sdp_enabled())


@pytest.mark.parametrize("backends", [["MATH"], ["FLASH_ATTENTION", "EFFICIENT_ATTENTION"],
                                      "CUDNN_ATTENTION", []])
def test_sdpa_kernel_sets_and_restores_torchs_flags(torch, backends):
    def inside(lib):
        SDPBackend = lib.nn.attention.SDPBackend
        chosen = (getattr(SDPBackend, backends) if isinstance(backends, str)
                  else [getattr(SDPBackend, name) for name in backends])
        before = _sdpa_flags(lib)
        with lib.nn.attention.sdpa_kernel(chosen) as entered:
            flags = _sdpa_flags(lib)
        assert _sdpa_flags(lib) == before
        return flags, entered

    assert inside(funcgrad) == inside(torch)


def test_sdp_switches_and_backend_names_match_torch(torch):
    for lib in (funcgrad, torch):
        lib.backends.cuda.enable_flash_sdp(False)
    try:
        assert _sdpa_flags(funcgrad) == _sdpa_flags(torch)
    finally:
        for lib in (funcgrad, torch):
            lib.backends.cuda.enable_flash_sdp(True)
    ours, theirs = funcgrad.nn.attention.SDPBackend, torch.nn.attention.SDPBackend
    assert [(b.name, int(b)) for b in ours] == [
        (name, int(b)) for name, b in theirs.__members__.items()]
    assert repr(ours.MATH) == repr(theirs.MATH)
    assert_raises_as_torch(torch, lambda lib: lib.nn.attention.sdpa_kernel("math").__enter__())
