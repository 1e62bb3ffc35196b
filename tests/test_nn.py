"""funcgrad.nn against torch.nn: the same weights give the same outputs and gradients; names,
state dicts, errors and printing are torch's; modules are JAX pytrees."""

import re

import jax
import numpy as np
import pytest

import funcgrad
from _compare import F32_ATOL
from funcgrad import nn
from funcgrad.nn import functional as F
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t) -> np.ndarray:
    return np.asarray(t.detach())


def _close(ours, theirs, rtol=1e-5, atol=F32_ATOL) -> None:
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


def _twin(torch_module, module):
    """``module`` holding ``torch_module``'s weights (loaded from its state dict)."""
    module.load_state_dict(torch_module.state_dict())
    return module


def _leaves(tree) -> list:
    """The tensors of a tensor or a nested tuple of them (a recurrent layer's outputs)."""
    if isinstance(tree, tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _tensors(lib, x):
    """``x`` (an array, or a tuple of them) as ``lib``'s tensors (floats require grad); other
    values (None, flags) as they are."""
    if isinstance(x, tuple):
        return tuple(_tensors(lib, item) for item in x)
    if not isinstance(x, np.ndarray):
        return x
    return lib.tensor(x, requires_grad=x.dtype.kind == "f")


def _compare(torch, torch_module, module, *inputs, atol=F32_ATOL) -> None:
    """Forward values, and gradients of float inputs and of every parameter, for a random
    cotangent of each output."""
    theirs, ours = _tensors(torch, inputs), _tensors(funcgrad, inputs)
    t_outs, outs = _leaves(torch_module(*theirs)), _leaves(module(*ours))
    assert len(outs) == len(t_outs)
    rng = np.random.default_rng(1)
    t_loss, loss = 0, 0
    for out, t_out in zip(outs, t_outs):
        _close(out, t_out, atol=atol)
        cotangent = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
        t_loss = t_loss + (t_out * torch.tensor(cotangent)).sum()
        loss = loss + (out * funcgrad.tensor(cotangent)).sum()
    t_loss.backward()
    loss.backward()
    for x, t_x in zip(_leaves(ours), _leaves(theirs)):
        if isinstance(t_x, torch.Tensor) and t_x.requires_grad:
            _close(x.grad, t_x.grad, atol=atol)
    named = list(module.named_parameters())
    assert [n for n, _ in named] == [n for n, _ in torch_module.named_parameters()]
    for (name, p), t_p in zip(named, torch_module.parameters()):
        if t_p.grad is None:  # a parameter this forward did not use
            assert p.grad is None, name
        else:
            _close(p.grad, t_p.grad, atol=atol)


def _randn(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch, bias):
    torch.manual_seed(0)
    t_layer = torch.nn.Linear(4, 3, bias=bias)
    _compare(torch, t_layer, _twin(t_layer, nn.Linear(4, 3, bias=bias)), _randn(5, 4))


def test_mlp_matches_torch(torch):
    torch.manual_seed(0)

    def mlp(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 8),
                                 lib.nn.Tanh(), lib.nn.Linear(8, 1), lib.nn.Sigmoid())

    t_mlp = mlp(torch)
    _compare(torch, t_mlp, _twin(t_mlp, mlp(funcgrad)), _randn(6, 4))


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(torch, affine):
    t_norm = torch.nn.LayerNorm((3, 4), elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            t_norm.weight.normal_()
            t_norm.bias.normal_()
    _compare(torch, t_norm, _twin(t_norm, nn.LayerNorm((3, 4), elementwise_affine=affine)),
             _randn(2, 3, 4))


def test_embedding_matches_torch_and_cuts_padding_gradient(torch):
    torch.manual_seed(0)
    t_emb = torch.nn.Embedding(6, 3, padding_idx=2)
    emb = _twin(t_emb, nn.Embedding(6, 3, padding_idx=2))
    _compare(torch, t_emb, emb, np.array([[0, 2, 5], [2, 1, 1]]))
    assert not np.any(_np(emb.weight.grad)[2])
    assert not np.any(_np(nn.Embedding(6, 3, padding_idx=-4).weight)[2])


@pytest.mark.parametrize("options", [dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0),
                                     dict(scale_grad_by_freq=True, padding_idx=2),
                                     dict(max_norm=1.2, norm_type=3.0)])
def test_embedding_options_match_torch(torch, options):
    # max_norm renormalizes the rows looked up, in place in the weight, before the lookup;
    # scale_grad_by_freq divides each row's gradient by its index's count in the batch.
    torch.manual_seed(0)
    t_emb = torch.nn.Embedding(6, 3, **options)
    emb = _twin(t_emb, nn.Embedding(6, 3, **options))
    assert repr(emb) == repr(t_emb)
    _compare(torch, t_emb, emb, np.array([[0, 2, 5], [2, 1, 1], [5, 5, 5]]))
    _close(emb.weight, t_emb.weight)  # rows 3 and 4, never looked up, keep their norms
    t_f = torch.nn.functional.embedding(torch.tensor([4]), t_emb.weight.detach(), **options)
    _close(nn.functional.embedding(funcgrad.tensor([4]), emb.weight.detach(), **options), t_f)
    # sparse: torch's gradient is a sparse tensor, funcgrad's the same values, dense.
    assert repr(nn.Embedding(6, 3, sparse=True, **options)) == repr(
        torch.nn.Embedding(6, 3, sparse=True, **options))


@pytest.mark.parametrize("options", [dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0)])
def test_embedding_bag_max_norm_matches_torch(torch, options):
    torch.manual_seed(0)
    t_bag = torch.nn.EmbeddingBag(6, 3, mode="sum", **options)
    bag = _twin(t_bag, nn.EmbeddingBag(6, 3, mode="sum", **options))
    assert repr(bag) == repr(t_bag)
    _compare(torch, t_bag, bag, np.array([0, 1, 5, 2, 1, 3]), np.array([0, 2, 2]))
    _close(bag.weight, t_bag.weight)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(torch, mode):
    torch.manual_seed(0)
    t_bag = torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=1)
    bag = _twin(t_bag, nn.EmbeddingBag(6, 3, mode=mode, padding_idx=1))
    assert repr(bag) == repr(t_bag)
    assert not np.any(_np(nn.EmbeddingBag(6, 3, padding_idx=-5).weight)[1])
    _compare(torch, t_bag, bag, np.array([0, 1, 5, 2, 1, 3, 4]), np.array([0, 2, 2, 6]))
    _compare(torch, t_bag, bag, np.array([[0, 1, 5], [2, 1, 1]]))


def _losses(lib, weight, pos_weight):
    return {
        "mse": lib.nn.MSELoss(),
        "mse_sum": lib.nn.MSELoss(reduction="sum"),
        "mse_none": lib.nn.MSELoss(reduction="none"),
        "bce": lib.nn.BCELoss(weight=lib.tensor(weight)),
        "bce_logits": lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor(pos_weight)),
        "bce_logits_sum": lib.nn.BCEWithLogitsLoss(reduction="sum"),
        "ce": lib.nn.CrossEntropyLoss(),
        "ce_weighted": lib.nn.CrossEntropyLoss(weight=lib.tensor(weight), ignore_index=1,
                                               label_smoothing=0.1),
        "l1": lib.nn.L1Loss(),
        "l1_none": lib.nn.L1Loss(reduction="none"),
        "nll": lib.nn.NLLLoss(),
        "nll_weighted": lib.nn.NLLLoss(weight=lib.tensor(weight), ignore_index=1,
                                       reduction="sum"),
    }


@pytest.mark.parametrize("name", list(_losses(funcgrad, [1.0], [1.0])))
def test_loss_modules_match_torch(torch, name):
    weight = np.array([0.5, 1.0, 2.0, 1.5], np.float32)
    pos_weight = np.array([2.0, 0.5, 1.0, 3.0], np.float32)
    t_loss = _losses(torch, weight, pos_weight)[name]
    loss = _losses(funcgrad, weight, pos_weight)[name]
    x = _randn(5, 4)
    if name.startswith(("ce", "nll")):
        target = np.array([0, 3, 1, 2, 1])
    elif name == "bce":
        x, target = 1 / (1 + np.exp(-x)), np.random.default_rng(2).random((5, 4), np.float32)
    else:
        target = np.random.default_rng(2).random((5, 4), np.float32)
    _compare(torch, t_loss, loss, x, target)
    assert repr(loss) == repr(t_loss)


def _more_losses(lib) -> dict:
    """Each loss module with its inputs' shapes; the last input is the target, drawn in
    (0, 1) (or a sign, or counts, where the loss asks)."""
    return {
        "smooth_l1": (lib.nn.SmoothL1Loss(beta=0.5), 2),
        "smooth_l1_none": (lib.nn.SmoothL1Loss(reduction="none"), 2),
        "huber": (lib.nn.HuberLoss(delta=0.5), 2),
        "huber_sum": (lib.nn.HuberLoss(reduction="sum"), 2),
        "soft_margin": (lib.nn.SoftMarginLoss(), 2),
        "kl_div": (lib.nn.KLDivLoss(reduction="batchmean"), 2),
        "kl_div_log_target": (lib.nn.KLDivLoss(reduction="sum", log_target=True), 2),
        "margin_ranking": (lib.nn.MarginRankingLoss(margin=0.2), 3),
        "cosine_embedding": (lib.nn.CosineEmbeddingLoss(margin=0.1, reduction="sum"), 3),
        "gaussian_nll": (lib.nn.GaussianNLLLoss(full=True), 3),
        "poisson_nll": (lib.nn.PoissonNLLLoss(), 2),
        "poisson_nll_rates": (lib.nn.PoissonNLLLoss(log_input=False, full=True), 2),
    }


@pytest.mark.parametrize("ignore_index", [-100, 9])
def test_ignored_targets_may_lie_outside_the_classes(torch, ignore_index):
    # Only targets that count are checked against the classes, as torch checks them.
    x, target = _randn(3, 4), np.array([ignore_index, 3, 1])
    for name in ("CrossEntropyLoss", "NLLLoss"):
        _compare(torch, getattr(torch.nn, name)(ignore_index=ignore_index),
                 getattr(nn, name)(ignore_index=ignore_index), x, target)


@pytest.mark.parametrize("name", list(_more_losses(funcgrad)))
def test_more_loss_modules_match_torch(torch, name):
    (loss, count), (t_loss, _) = _more_losses(funcgrad)[name], _more_losses(torch)[name]
    rng = np.random.default_rng(3)
    inputs = [_randn(5, 4, seed=i) for i in range(count)]
    if name.startswith(("margin", "cosine")):
        # (an integer label takes no gradient, as the cosine loss's cannot)
        inputs[-1] = np.sign(_randn(5, seed=9)).astype(int) if name.startswith("cosine") else (
            np.sign(inputs[-1]))
    elif name.startswith("gaussian"):
        inputs[-1] = rng.uniform(0.5, 2.0, (5, 4)).astype(np.float32)
    elif name.startswith("poisson"):
        inputs[-1] = rng.integers(0, 5, (5, 4)).astype(np.float32)
        if name.endswith("rates"):
            inputs[0] = np.exp(inputs[0])
    elif name.startswith("kl"):
        inputs = [np.log(rng.dirichlet(np.ones(4), 5)).astype(np.float32) for _ in inputs]
        if "log_target" not in name:
            inputs[-1] = np.exp(inputs[-1])
    if name == "soft_margin":  # whose target cannot require grad
        _close(loss(*map(funcgrad.tensor, inputs)), t_loss(*map(torch.tensor, inputs)))
    else:
        _compare(torch, t_loss, loss, *inputs)
    assert repr(loss) == repr(t_loss)


def _margin_losses(lib) -> dict:
    """Each margin loss module with its inputs: scores, then other embeddings or labels."""
    # (integer labels, which take no gradient: torch's hinge loss gives its label none)
    scores, labels = _randn(5, 4, seed=1), np.sign(_randn(5, 4, seed=2)).astype(int)
    classes = np.array([0, 3, 1, 1, 2])
    return {
        "hinge_embedding": (lib.nn.HingeEmbeddingLoss(margin=0.5), scores, labels),
        "hinge_embedding_none": (lib.nn.HingeEmbeddingLoss(reduction="none"), scores, labels),
        "multilabel_soft_margin": (
            lib.nn.MultiLabelSoftMarginLoss(weight=lib.tensor([0.5, 1.0, 2.0, 1.5])), scores,
            (labels > 0).astype(np.float32)),
        "triplet_margin": (lib.nn.TripletMarginLoss(margin=1.5, p=1.0, swap=True), scores,
                           _randn(5, 4, seed=3), _randn(5, 4, seed=4)),
        "triplet_margin_sum": (lib.nn.TripletMarginLoss(reduction="sum"), scores,
                               _randn(5, 4, seed=3), _randn(5, 4, seed=4)),
        "triplet_with_distance": (lib.nn.TripletMarginWithDistanceLoss(), scores,
                                  _randn(5, 4, seed=3), _randn(5, 4, seed=4)),
        "triplet_with_cosine_distance_swap": (
            lib.nn.TripletMarginWithDistanceLoss(
                distance_function=lambda x, y: 1 - lib.nn.functional.cosine_similarity(x, y),
                margin=0.5, swap=True, reduction="none"),
            scores, _randn(5, 4, seed=3), _randn(5, 4, seed=4)),
        "multi_margin": (lib.nn.MultiMarginLoss(), scores, classes),
        "multilabel_margin": (lib.nn.MultiLabelMarginLoss(reduction="sum"), scores,
                              np.array([[3, 0, -1, 1]] * 3 + [[0, 1, 2, 3], [2, -1, 0, 0]])),
        "multi_margin_weighted": (
            lib.nn.MultiMarginLoss(p=2, margin=0.5, weight=lib.tensor([0.5, 1.0, 2.0, 1.5]),
                                   reduction="none"), scores, classes),
    }


@pytest.mark.parametrize("name", list(_margin_losses(funcgrad)))
def test_margin_loss_modules_match_torch(torch, name):
    (loss, *inputs), t_loss = _margin_losses(funcgrad)[name], _margin_losses(torch)[name][0]
    _compare(torch, t_loss, loss, *inputs)
    assert repr(loss) == repr(t_loss)
    assert list(loss.state_dict()) == list(t_loss.state_dict())


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(torch, bias):
    torch.manual_seed(0)
    t_layer = torch.nn.Bilinear(3, 2, 4, bias=bias)
    layer = nn.Bilinear(3, 2, 4, bias=bias)
    assert repr(layer) == repr(t_layer)
    assert [tuple(p.shape) for p in layer.parameters()] == [
        tuple(p.shape) for p in t_layer.parameters()]
    bound = 1 / np.sqrt(3)
    assert all(np.abs(_np(p)).max() <= bound for p in layer.parameters())
    _compare(torch, t_layer, _twin(t_layer, layer), _randn(2, 5, 3), _randn(2, 5, 2, seed=1))


def test_loss_size_mismatch_warns_as_torch(torch):
    for lib in (torch, funcgrad):
        for fn in (lib.nn.functional.smooth_l1_loss, lib.nn.functional.huber_loss):
            with pytest.warns(UserWarning, match="different to the input size"):
                fn(lib.ones(2, 3), lib.ones(3))


def _parameter_holders(lib):
    """A module holding a ParameterList and a ParameterDict, with a forward using both."""
    class Holder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = lib.nn.ParameterList([lib.tensor(_randn(3)), lib.tensor(_randn(2, 3))])
            self.scales.append(lib.nn.Parameter(lib.tensor(_randn(3, seed=1)),
                                                requires_grad=False))
            self.shifts = lib.nn.ParameterDict({"a": lib.tensor(_randn(3, seed=2))})
            self.shifts["b"] = lib.tensor(_randn(1, seed=3))
            self.shifts.update([("c", lib.tensor(_randn(2, seed=4)))])
            del self.shifts["c"]

        def forward(self, x):
            for scale in self.scales[:2]:
                x = x * scale
            return (x + self.shifts["a"] + self.scales[-1] * self.shifts["b"]).sum()

    return Holder()


def test_parameter_list_and_dict_match_torch(torch):
    module, t_module = _parameter_holders(funcgrad), _parameter_holders(torch)
    assert repr(module).replace("funcgrad", "torch") == repr(t_module)
    assert list(module.state_dict()) == list(t_module.state_dict())
    assert ([(name, p.requires_grad) for name, p in module.named_parameters()]
            == [(name, p.requires_grad) for name, p in t_module.named_parameters()])
    ours, theirs = module(funcgrad.ones(3)), t_module(torch.ones(3))
    ours.backward(), theirs.backward()
    _close(ours, theirs)
    for p, t_p in zip(module.parameters(), t_module.parameters()):
        assert (p.grad is None) == (t_p.grad is None)
        if p.grad is not None:
            _close(p.grad, t_p.grad)
    assert module.shifts.pop("a") is not None and list(module.shifts) == ["b"]
    with pytest.raises(TypeError, match="hold tensors"):
        module.scales.append("not a tensor")
    assert len(module.scales) == 3


def _legacy_losses(lib, size_average, reduce) -> dict:
    x = lib.tensor([[0.2, -1.0, 0.7], [1.5, 0.1, -0.3]])
    y = lib.tensor([[0.0, -0.5, 1.0], [1.0, 0.4, 0.2]])
    legacy = dict(size_average=size_average, reduce=reduce)
    F = lib.nn.functional
    return {
        "mse": lambda: F.mse_loss(x, y, **legacy),
        "MSELoss": lambda: lib.nn.MSELoss(**legacy)(x, y),
        "l1_positional": lambda: F.l1_loss(x, y, size_average, reduce),
        "kl_div": lambda: F.kl_div(x.log_softmax(1), y.softmax(1), **legacy),
        "nll": lambda: F.nll_loss(x, lib.tensor([2, 0]), None, size_average, -100, reduce),
        "CrossEntropyLoss": lambda: lib.nn.CrossEntropyLoss(None, size_average, -100, reduce)(
            x, lib.tensor([1, 2])),
    }


@pytest.mark.parametrize("size_average, reduce",
                         [(False, None), (None, False), (True, True), (False, True)])
@pytest.mark.parametrize("name", list(_legacy_losses(funcgrad, None, None)))
def test_deprecated_size_average_and_reduce_mean_what_they_mean_in_torch(
        torch, name, size_average, reduce):
    results = []
    for lib in (torch, funcgrad):
        with pytest.warns(UserWarning) as record:
            results.append(_legacy_losses(lib, size_average, reduce)[name]())
        results.append([str(w.message) for w in record])
    theirs, their_warnings, ours, our_warnings = results
    assert our_warnings == their_warnings
    _close(ours, theirs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_weighted_mse_and_l1_match_torch(torch, name, reduction):
    x, y, w = _randn(3, 4), _randn(3, 4, seed=1), abs(_randn(3, 4, seed=2))
    outs, grads = [], []
    for lib in (torch, funcgrad):
        xt = lib.tensor(x, requires_grad=True)
        out = getattr(lib.nn.functional, name)(xt, lib.tensor(y), reduction=reduction,
                                               weight=lib.tensor(w))
        out.sum().backward()
        outs.append(out)
        grads.append(xt.grad)
    _close(outs[1], outs[0])
    _close(grads[1], grads[0])
    for lib in (torch, funcgrad):
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(2, 3), weight=lib.ones(3))


def _activations(lib) -> dict:
    return {
        "identity": lib.nn.Identity(54, unused="argument"),
        "flatten": lib.nn.Flatten(),
        "flatten_all": lib.nn.Flatten(0, -1),
        "gelu": lib.nn.GELU(),
        "gelu_tanh": lib.nn.GELU(approximate="tanh"),
        "silu": lib.nn.SiLU(),
        "leaky_relu": lib.nn.LeakyReLU(0.2),
        "elu": lib.nn.ELU(alpha=0.5),
        "softplus": lib.nn.Softplus(beta=2.0, threshold=1.0),
        "softmax": lib.nn.Softmax(dim=1),
        "log_softmax": lib.nn.LogSoftmax(dim=-1),
        "hardtanh": lib.nn.Hardtanh(-0.5, 0.8),
        "relu6": lib.nn.ReLU6(),
        "selu": lib.nn.SELU(),
        "celu": lib.nn.CELU(alpha=0.5),
        "softsign": lib.nn.Softsign(),
        "mish": lib.nn.Mish(),
        "hardswish": lib.nn.Hardswish(),
        "hardsigmoid": lib.nn.Hardsigmoid(),
        "glu": lib.nn.GLU(),
        "softmin": lib.nn.Softmin(dim=1),
        "tanhshrink": lib.nn.Tanhshrink(),
        "softshrink": lib.nn.Softshrink(0.3),
        "hardshrink": lib.nn.Hardshrink(),
        "threshold": lib.nn.Threshold(0.1, 20),
        "logsigmoid": lib.nn.LogSigmoid(),
        "rrelu": lib.nn.RReLU(0.1, 0.3).eval(),
    }


@pytest.mark.parametrize("name", list(_activations(funcgrad)))
def test_activation_modules_match_torch(torch, name):
    module, t_module = _activations(funcgrad)[name], _activations(torch)[name]
    _compare(torch, t_module, module, _randn(3, 2, 4))
    assert repr(module) == repr(t_module)


@pytest.mark.parametrize("inplace", [False, True])
def test_inplace_activation_modules_print_and_compute_as_torch(torch, inplace):
    def make(lib):
        return [lib.nn.Hardtanh(inplace=inplace), lib.nn.ReLU6(inplace), lib.nn.SELU(inplace),
                lib.nn.CELU(inplace=inplace), lib.nn.Mish(inplace), lib.nn.Hardswish(inplace),
                lib.nn.Hardsigmoid(inplace), lib.nn.Threshold(0.1, 20, inplace),
                lib.nn.LeakyReLU(0.2, inplace), lib.nn.ELU(0.5, inplace),
                lib.nn.RReLU(inplace=inplace).eval()]

    for module, t_module in zip(make(funcgrad), make(torch)):
        assert repr(module) == repr(t_module)
        x, t_x = funcgrad.tensor(_randn(3, 4) * 4), torch.tensor(_randn(3, 4) * 4)
        out, t_out = module(x), t_module(t_x)
        _close(out, t_out)
        _close(x, t_x)  # changed in place, or not


def test_rrelu_in_training_draws_a_slope_per_negative_element_within_its_bounds(torch):
    funcgrad.manual_seed(0)
    x = funcgrad.tensor(np.linspace(-3, 3, 4001, dtype=np.float32), requires_grad=True)
    module = nn.RReLU(0.1, 0.3)
    y = module(x)
    assert y.grad_fn.name() == type(torch.nn.RReLU()(torch.ones(1, requires_grad=True)
                                                      ).grad_fn).__name__
    y.sum().backward()
    x_, y_, slope = np.asarray(x.detach()), np.asarray(y.detach()), np.asarray(x.grad)
    negative = x_ <= 0
    np.testing.assert_array_equal(y_[~negative], x_[~negative])
    np.testing.assert_array_equal(slope[~negative], 1.0)
    np.testing.assert_allclose(y_[negative], x_[negative] * slope[negative], rtol=1e-6)
    # uniform in [0.1, 0.3]: within the bounds, mean 0.2, standard deviation 0.2 / sqrt(12)
    assert slope[negative].min() >= 0.1 and slope[negative].max() <= 0.3
    assert abs(slope[negative].mean() - 0.2) < 5 * 0.2 / np.sqrt(12 * negative.sum())
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.rrelu(torch.ones(2), 0.5, 0.2)
    with pytest.raises(RuntimeError, match=str(theirs.value)):
        funcgrad.nn.functional.rrelu(funcgrad.ones(2), 0.5, 0.2)


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_module_matches_torch(torch, channels):
    t_prelu = torch.nn.PReLU(channels, init=0.1)
    prelu = nn.PReLU(channels, init=0.1)
    assert repr(prelu) == repr(t_prelu)
    assert list(prelu.state_dict()) == list(t_prelu.state_dict())
    _close(prelu.weight, t_prelu.weight)
    with torch.no_grad():
        t_prelu.weight.uniform_()
    _compare(torch, t_prelu, _twin(t_prelu, prelu), _randn(2, 3, 4))


def _layers(lib) -> dict:
    return {
        "conv2d": (lib.nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
        "conv2d-groups": (lib.nn.Conv2d(4, 6, (3, 2), groups=2, dilation=(1, 2), bias=False),
                          (2, 4, 6, 6)),
        "conv2d-same-unbatched": (lib.nn.Conv2d(2, 3, 3, padding="same"), (2, 5, 5)),
        "conv1d": (lib.nn.Conv1d(3, 2, 3, padding=1), (2, 3, 6)),
        "conv3d": (lib.nn.Conv3d(2, 4, (2, 3, 2), stride=(2, 1, 1), padding=(0, 1, 1),
                                 dilation=(1, 1, 2)), (2, 2, 5, 4, 5)),
        "conv3d-groups-unbatched": (lib.nn.Conv3d(4, 2, 2, groups=2, bias=False),
                                    (4, 3, 3, 3)),
        "pixel_shuffle": (lib.nn.PixelShuffle(2), (2, 8, 3, 2)),
        "pixel_unshuffle": (lib.nn.PixelUnshuffle(3), (2, 6, 3)),
        "channel_shuffle": (lib.nn.ChannelShuffle(2), (2, 6, 3, 2)),
        "unfold": (lib.nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=2), (2, 3, 5, 6)),
        "fold": (lib.nn.Fold((4, 5), 2, stride=(2, 1)), (2, 8, 8)),
        "fold-unbatched": (lib.nn.Fold(4, 3, padding=1, dilation=2), (18, 4)),
        "conv_transpose2d": (lib.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1,
                                                    output_padding=1), (2, 3, 4, 4)),
        "conv_transpose2d-groups-unbatched": (
            lib.nn.ConvTranspose2d(4, 6, (2, 3), groups=2, dilation=(1, 2), bias=False),
            (4, 3, 5)),
        "conv_transpose1d": (lib.nn.ConvTranspose1d(2, 3, 4, stride=3, padding=2), (2, 2, 5)),
        "conv_transpose3d": (lib.nn.ConvTranspose3d(2, 4, (2, 3, 2), stride=2, padding=(0, 1, 1),
                                                    groups=2), (2, 2, 3, 2, 3)),
        "max_pool2d": (lib.nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 6, 6)),
        "avg_pool2d": (lib.nn.AvgPool2d(2), (2, 3, 6, 6)),
        "max_pool1d": (lib.nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 7)),
        "avg_pool1d": (lib.nn.AvgPool1d(3, 2, 1, count_include_pad=False), (3, 8)),
        "adaptive_avg_pool1d": (lib.nn.AdaptiveAvgPool1d(4), (2, 3, 9)),
        "adaptive_avg_pool2d": (lib.nn.AdaptiveAvgPool2d((2, None)), (2, 3, 5, 4)),
        "adaptive_avg_pool2d-one": (lib.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 4)),
        "adaptive_avg_pool3d": (lib.nn.AdaptiveAvgPool3d((2, None, 3)), (2, 3, 4, 3, 5)),
        "adaptive_max_pool1d": (lib.nn.AdaptiveMaxPool1d(3, return_indices=True), (2, 3, 8)),
        "adaptive_max_pool2d": (lib.nn.AdaptiveMaxPool2d((3, 2)), (3, 5, 7)),
        "adaptive_max_pool2d-indices": (lib.nn.AdaptiveMaxPool2d((4, None), True),
                                        (2, 3, 5, 3)),
        "adaptive_max_pool3d": (lib.nn.AdaptiveMaxPool3d((2, None, 3), True), (2, 3, 5, 3, 7)),
        "adaptive_max_pool3d-unbatched": (lib.nn.AdaptiveMaxPool3d(2), (3, 4, 4, 5)),
        "max_pool3d": (lib.nn.MaxPool3d((2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0)),
                       (2, 3, 4, 5, 6)),
        "avg_pool3d": (lib.nn.AvgPool3d(3, 2, 1, count_include_pad=False), (3, 4, 5, 6)),
        "group_norm": (lib.nn.GroupNorm(2, 4), (2, 4, 3)),
        "rms_norm": (lib.nn.RMSNorm((3, 4)), (2, 3, 4)),
        "lp_pool1d": (lib.nn.LPPool1d(2, 3, stride=2), (2, 3, 8)),
        "lp_pool2d": (lib.nn.LPPool2d(2, (2, 3), ceil_mode=True), (2, 3, 5, 7)),
        "lp_pool3d": (lib.nn.LPPool3d(float("inf"), 2), (1, 2, 4, 4, 3)),
        "rms_norm-plain": (lib.nn.RMSNorm(4, eps=1e-3, elementwise_affine=False), (5, 4)),
        "local_response_norm": (lib.nn.LocalResponseNorm(3, alpha=0.1), (2, 5, 3, 2)),
        "group_norm-plain": (lib.nn.GroupNorm(3, 6, eps=1e-3, affine=False), (2, 6, 2, 2)),
        "group_norm-no-bias": (lib.nn.GroupNorm(1, 2, bias=False), (3, 2, 4)),
        "zero_pad1d": (lib.nn.ZeroPad1d((1, 2)), (2, 3, 4)),
        "zero_pad2d": (lib.nn.ZeroPad2d(1), (2, 3, 4)),
        "constant_pad1d": (lib.nn.ConstantPad1d(2, 3.5), (2, 3, 4)),
        "constant_pad2d": (lib.nn.ConstantPad2d((1, 0, 2, -1), -1.0), (2, 3, 4, 4)),
        "reflection_pad1d": (lib.nn.ReflectionPad1d((3, 1)), (2, 3, 4)),
        "reflection_pad2d": (lib.nn.ReflectionPad2d(2), (3, 4, 4)),
        "replication_pad1d": (lib.nn.ReplicationPad1d(3), (3, 4)),
        "replication_pad2d": (lib.nn.ReplicationPad2d((0, 1, 3, 2)), (2, 3, 4, 4)),
        "circular_pad1d": (lib.nn.CircularPad1d((2, 3)), (2, 3, 4)),
        "circular_pad2d": (lib.nn.CircularPad2d(1), (2, 3, 4, 4)),
        "zero_pad3d": (lib.nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), (2, 3, 2, 3, 2)),
        "constant_pad3d": (lib.nn.ConstantPad3d(1, 2.5), (3, 2, 2, 2)),
        "reflection_pad3d": (lib.nn.ReflectionPad3d((1, 2, 0, 1, 1, 1)), (2, 2, 3, 3, 4)),
        "replication_pad3d": (lib.nn.ReplicationPad3d(2), (2, 2, 3, 3)),
        "circular_pad3d": (lib.nn.CircularPad3d((0, 1, 1, 2, 2, 0)), (1, 2, 3, 3, 3)),
        "softmax2d": (lib.nn.Softmax2d(), (2, 3, 2, 4)),
        "softmax2d-unbatched": (lib.nn.Softmax2d(), (3, 2, 4)),
        "upsampling_nearest2d": (lib.nn.UpsamplingNearest2d(scale_factor=2), (2, 3, 2, 3)),
        "upsampling_bilinear2d": (lib.nn.UpsamplingBilinear2d((5, 4)), (2, 3, 2, 3)),
        "unflatten": (lib.nn.Unflatten(1, (2, 3)), (4, 6, 2)),
        "upsample": (lib.nn.Upsample(scale_factor=2), (2, 3, 4)),
        "upsample-bilinear": (lib.nn.Upsample((5, 3), mode="bilinear", align_corners=True),
                              (2, 3, 4, 4)),
    }


@pytest.mark.parametrize("name", list(_layers(funcgrad)))
def test_conv_and_pool_modules_match_torch(torch, name):
    torch.manual_seed(0)
    t_module, shape = _layers(torch)[name]
    module = _twin(t_module, _layers(funcgrad)[name][0])
    assert repr(module).replace("funcgrad", "torch") == repr(t_module)
    _compare(torch, t_module, module, _randn(*shape))
    assert repr(module) == repr(t_module)


def _recurrent(lib) -> dict:
    """Each recurrent module with its inputs: (T, N, H_in) unless batch_first or unbatched,
    then initial states (None for zeros)."""
    return {
        "rnn_cell": (lib.nn.RNNCell(3, 4), [(5, 3), (5, 4)]),
        "rnn_cell-relu-unbatched": (lib.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
                                    [(3,)]),
        "gru_cell": (lib.nn.GRUCell(3, 4), [(5, 3), (5, 4)]),
        "lstm_cell": (lib.nn.LSTMCell(3, 4), [(5, 3), ((5, 4), (5, 4))]),
        "lstm_cell-no-state": (lib.nn.LSTMCell(3, 2, bias=False), [(5, 3)]),
        "rnn": (lib.nn.RNN(3, 4), [(6, 2, 3)]),
        "rnn-relu-stacked-bidirectional": (
            lib.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True),
            [(6, 2, 3), (4, 2, 4)]),
        "gru": (lib.nn.GRU(3, 4, num_layers=2, batch_first=True), [(2, 6, 3), (2, 2, 4)]),
        "gru-bidirectional-unbatched": (lib.nn.GRU(3, 4, bidirectional=True), [(6, 3), (2, 4)]),
        "lstm": (lib.nn.LSTM(3, 4), [(6, 2, 3), ((1, 2, 4), (1, 2, 4))]),
        "lstm-stacked-bidirectional-no-bias": (
            lib.nn.LSTM(3, 4, num_layers=3, bias=False, bidirectional=True, batch_first=True),
            [(2, 5, 3)]),
        "lstm-unbatched-batch-first": (lib.nn.LSTM(3, 4, 2, batch_first=True),
                                       [(5, 3), ((2, 4), (2, 4))]),
        "lstm-dropout-eval": (lib.nn.LSTM(3, 4, 2, dropout=0.5).eval(), [(5, 2, 3)]),
        "lstm-proj-stacked-bidirectional": (
            lib.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2),
            [(6, 2, 3), ((4, 2, 2), (4, 2, 5))]),
        "lstm-proj-no-bias-unbatched": (lib.nn.LSTM(3, 4, bias=False, proj_size=3), [(5, 3)]),
    }


def _arrays(shapes, seed=0):
    """Standard-normal arrays of the given (nested) shapes."""
    if isinstance(shapes[0], tuple):
        return tuple(_arrays(shape, seed + i) for i, shape in enumerate(shapes))
    return _randn(*shapes, seed=seed)


@pytest.mark.parametrize("name", list(_recurrent(funcgrad)))
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_recurrent_modules_match_torch(torch, name):
    torch.manual_seed(0)
    t_module, shapes = _recurrent(torch)[name]
    module = _twin(t_module, _recurrent(funcgrad)[name][0])
    assert list(module.state_dict()) == list(t_module.state_dict())
    assert repr(module) == repr(t_module)
    _compare(torch, t_module, module, *(_arrays(s, 10 * i) for i, s in enumerate(shapes)))


@pytest.mark.parametrize("name", list(_recurrent(funcgrad)))
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_recurrent_modules_have_torchs_base_classes_and_weight_lists(torch, name):
    module, t_module = _recurrent(funcgrad)[name][0], _recurrent(torch)[name][0]
    for base in ("RNNBase", "RNNCellBase"):
        assert isinstance(module, getattr(funcgrad.nn, base)) == isinstance(
            t_module, getattr(torch.nn, base))
    if isinstance(t_module, torch.nn.RNNBase):
        assert module.mode == t_module.mode
        assert module._all_weights == t_module._all_weights
        assert [[tuple(w.shape) for w in ws] for ws in module.all_weights] == [
            [tuple(w.shape) for w in ws] for ws in t_module.all_weights]
        assert module.flatten_parameters() is t_module.flatten_parameters()


@pytest.mark.parametrize("args", [("LSTM", 3, 4), ("GRU", 3, 4, 2, False, True),
                                  ("RNN_RELU", 2, 3, 1, True, False, 0.0, True)])
def test_rnn_base_builds_the_layers_of_its_mode(torch, args):
    module, t_module = funcgrad.nn.RNNBase(*args), torch.nn.RNNBase(*args)
    assert repr(module) == repr(t_module)
    assert [(n, tuple(p.shape)) for n, p in module.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t_module.named_parameters()]


def test_rnn_cell_base_has_num_chunks_gates(torch):
    module, t_module = funcgrad.nn.RNNCellBase(3, 4, False, 2), torch.nn.RNNCellBase(3, 4, False, 2)
    assert repr(module) == repr(t_module)
    assert [(n, tuple(p.shape)) for n, p in module.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t_module.named_parameters()]


def test_rnn_base_refuses_an_unknown_mode(torch):
    assert_raises_as_torch(torch, lambda lib: lib.nn.RNNBase("LSTMish", 3, 4))


def _attention(lib) -> dict:
    """Each attention module with its inputs (None for an absent mask); the modules have no
    dropout, or are in eval mode."""
    padding = np.array([[False, False, True, False, True], [False] * 5])
    causal = np.triu(np.ones((4, 4), bool), 1)
    return {
        "mha": (lib.nn.MultiheadAttention(8, 2), [(4, 2, 8), (5, 2, 8), (5, 2, 8)]),
        "mha-kdim-vdim-masks": (
            lib.nn.MultiheadAttention(8, 4, kdim=3, vdim=5),
            [(4, 2, 8), (5, 2, 3), (5, 2, 5), padding, True, np.triu(np.ones((4, 5), bool), 2)]),
        "mha-batch-first-per-head-weights": (
            lib.nn.MultiheadAttention(6, 3, bias=False, batch_first=True),
            [(2, 4, 6), (2, 5, 6), (2, 5, 6), None, True, None, False]),
        "mha-bias-kv-zero-attn-masks": (
            lib.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
            [(4, 2, 8), (5, 2, 8), (5, 2, 8), padding, True, np.triu(np.ones((4, 5), bool), 2)]),
        "mha-bias-kv-batch-first-unmasked": (
            lib.nn.MultiheadAttention(6, 3, add_bias_kv=True, kdim=4, batch_first=True),
            [(2, 4, 6), (2, 5, 4), (2, 5, 6), None, True, None, False]),
        "mha-zero-attn-unbatched": (
            lib.nn.MultiheadAttention(8, 2, add_zero_attn=True), [(4, 8), (3, 8), (3, 8)]),
        "mha-unbatched-bool-mask": (
            lib.nn.MultiheadAttention(8, 2), [(4, 8), (4, 8), (4, 8), None, True, causal]),
        "encoder_layer": (lib.nn.TransformerEncoderLayer(8, 2, 16).eval(),
                          [(4, 2, 8), _randn(4, 4, seed=3)]),
        "encoder_layer-norm-first-gelu-batch-first": (
            lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True),
            [(2, 4, 8), causal, padding[:, :4]]),
        "encoder": (lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(8, 4, 16, batch_first=True), 2,
            norm=lib.nn.LayerNorm(8), enable_nested_tensor=False).eval(),
            [(2, 4, 8), causal, padding[:, :4]]),
        "decoder_layer": (lib.nn.TransformerDecoderLayer(8, 2, 16).eval(),
                          [(4, 2, 8), (5, 2, 8), causal]),
        "decoder_layer-norm-first-gelu-batch-first-masks": (
            lib.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True),
            [(2, 4, 8), (2, 5, 8), causal, None, padding[:, :4], padding]),
        "decoder": (lib.nn.TransformerDecoder(
            lib.nn.TransformerDecoderLayer(8, 4, 16), 2, norm=lib.nn.LayerNorm(8)).eval(),
            [(4, 2, 8), (5, 2, 8), causal, np.triu(np.ones((4, 5), bool), 2)]),
        "transformer": (lib.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, batch_first=True),
                        [(2, 5, 8), (2, 4, 8), None, causal, None, padding, None, padding]),
    }


@pytest.mark.parametrize("name", list(_attention(funcgrad)))
def test_attention_modules_match_torch(torch, name):
    torch.manual_seed(0)
    t_module, shapes = _attention(torch)[name]
    with torch.no_grad():  # (torch starts the biases and the norms at constants)
        for p in t_module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    module = _twin(t_module, _attention(funcgrad)[name][0])
    assert list(module.state_dict()) == list(t_module.state_dict())
    assert repr(module) == repr(t_module)
    inputs = [_randn(*s, seed=10 * i) if isinstance(s, tuple) else s
              for i, s in enumerate(shapes)]
    # the key bias's gradient is zero (a softmax does not see a shift), and rounding leaves
    # a few 1e-7 there, torch's and ours apart
    _compare(torch, t_module, module, *inputs, atol=1e-5)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # (torch's kernel choice)
def test_transformer_masks_and_errors_match_torch(torch):
    for size in (1, 4):
        _close(funcgrad.nn.Transformer.generate_square_subsequent_mask(size),
               torch.nn.Transformer.generate_square_subsequent_mask(size))
    for src, tgt in [((5, 2, 8), (4, 3, 8)), ((5, 2, 8), (4, 2, 6))]:
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.Transformer(8, 2, 1, 1, 16)(torch.ones(*src), torch.ones(*tgt))
        with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
            nn.Transformer(8, 2, 1, 1, 16)(funcgrad.ones(*src), funcgrad.ones(*tgt))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.MultiheadAttention(6, 2)(x, x, x),
    lambda lib, x: lib.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=lib.zeros(3, 3)),
    lambda lib, x: lib.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=lib.zeros(2, 4, 4)),
], ids=["embed-dim", "2d-mask", "3d-mask"])
def test_attention_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.ones(4, 2, 8))
    with pytest.raises(type(theirs.value)) as ours:
        call(funcgrad, funcgrad.ones(4, 2, 8))
    assert str(ours.value).replace("funcgrad.", "torch.") == str(theirs.value)


def test_attention_without_weights_and_with_dropout_in_training():
    funcgrad.manual_seed(0)
    attn = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = funcgrad.randn(4, 2, 8)
    out, weights = attn(x, x, x, need_weights=False)
    assert weights is None
    assert not np.allclose(_np(out), _np(attn.eval()(x, x, x)[0]))
    assert np.allclose(_np(attn(x, x, x)[0]), _np(attn(x, x, x, need_weights=False)[0]),
                       atol=1e-6)


@pytest.mark.parametrize("gqa", [False, True])
def test_attention_dropout_drops_weights_as_dropout_does(gqa):
    q, k, v = (funcgrad.tensor(_randn(2, 2, 3, 4, seed=i)[:, :1 if gqa and i else 2],
                               requires_grad=True) for i in range(3))
    outs = []
    for composed in (False, True):
        funcgrad.manual_seed(7)
        if composed:  # the same draw, as F.dropout of the weights
            keys, values = (x.repeat_interleave(2, dim=1) if gqa else x for x in (k, v))
            scores = q @ keys.transpose(-2, -1) / 2.0
            out = F.dropout(F.softmax(scores, -1), 0.4) @ values
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, enable_gqa=gqa)
        outs.append([out, *funcgrad.autograd.grad(out.square().sum(), (q, k, v))])
    for ours, theirs in zip(*outs):
        _close(ours, theirs)


def test_attention_dropout_keeps_the_expected_output(torch):
    q, k, v = (_randn(1, 3, 4, seed=i) for i in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)))
    draws = F.scaled_dot_product_attention(
        *(funcgrad.tensor(np.repeat(a, 4000, 0)) for a in (q, k, v)), dropout_p=0.3)
    assert (_np(draws) != _np(draws[:1])).any()  # each batch element draws its own mask
    _close(draws.mean(0, keepdim=True), expected, atol=0.08)


def _run_packed(lib, module, x, lengths, hx, batch_first):
    """A recurrent module over a packed batch: its outputs, padded back, and the gradients of
    a loss of them."""
    rnn = lib.nn.utils.rnn
    x = lib.tensor(x, requires_grad=True)
    packed = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    hx = tuple(map(lib.tensor, hx)) if isinstance(hx, tuple) else lib.tensor(hx)
    out, final = module(packed, hx)
    padded, out_lengths = rnn.pad_packed_sequence(out, batch_first=batch_first)
    final = final if isinstance(final, tuple) else (final,)
    ((padded ** 2).sum() + sum((h * h).sum() for h in final)).backward()
    return [out.data, out.batch_sizes, padded, out_lengths, *final, x.grad,
            *(p.grad for p in module.parameters())]


@pytest.mark.parametrize("mode, options", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(bidirectional=True, batch_first=True)),
    ("RNN", dict(num_layers=2, nonlinearity="relu")),
    ("LSTM", dict(proj_size=2, batch_first=True)),
])
def test_recurrent_modules_on_packed_sequences_match_torch(torch, mode, options):
    t_module = getattr(torch.nn, mode)(3, 4, **options)
    module = _twin(t_module, getattr(nn, mode)(3, 4, **options))
    batch_first = options.get("batch_first", False)
    x = _randn(*((3, 5, 3) if batch_first else (5, 3, 3)))
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    h = _randn(layers, 3, options.get("proj_size") or 4, seed=1)
    hx = (h, _randn(layers, 3, 4, seed=2)) if mode == "LSTM" else h
    for ours, theirs in zip(_run_packed(funcgrad, module, x, [3, 5, 2], hx, batch_first),
                            _run_packed(torch, t_module, x, [3, 5, 2], hx, batch_first)):
        _close(ours, theirs)


def _sequences(lib):
    return [lib.tensor(_randn(n, 2, seed=n)) for n in (2, 4, 1, 4)]


@pytest.mark.parametrize("call", [
    lambda R, s: R.pad_sequence(s),
    lambda R, s: R.pad_sequence(s, batch_first=True, padding_value=-1.0, padding_side="left"),
    lambda R, s: R.pack_sequence(s, enforce_sorted=False),  # ties: torch's order of equals
    lambda R, s: R.pack_sequence(sorted(s, key=len, reverse=True)),
    lambda R, s: R.unpack_sequence(R.pack_sequence(s, enforce_sorted=False)),
    lambda R, s: R.unpad_sequence(R.pad_sequence(s, batch_first=True),
                                  R.pad_packed_sequence(R.pack_sequence(s, False))[1], True),
    lambda R, s: R.pad_packed_sequence(R.pack_sequence(s, enforce_sorted=False),
                                       batch_first=True, padding_value=9.0, total_length=6),
    lambda R, s: R.PackedSequence(s[0], R.invert_permutation(R.pack_sequence(s, False)[2]),
                                  R.pack_sequence(s, False).sorted_indices),
])
def test_padded_and_packed_sequences_match_torch(torch, call):
    ours = call(funcgrad.nn.utils.rnn, _sequences(funcgrad))
    theirs = call(torch.nn.utils.rnn, _sequences(torch))
    assert repr(ours).replace("funcgrad", "torch") == repr(theirs)


@pytest.mark.parametrize("call", [
    lambda R, lib: R.pack_padded_sequence(lib.ones(4, 3, 2), [2, 3, 1]),
    lambda R, lib: R.pack_padded_sequence(lib.ones(4, 3, 2), [2, 0, 1], enforce_sorted=False),
    lambda R, lib: R.pack_padded_sequence(lib.ones(4, 3, 2), [4, 3]),
    lambda R, lib: R.pad_packed_sequence(R.pack_padded_sequence(lib.ones(4, 3, 2), [4, 3, 1]),
                                         total_length=2),
    lambda R, lib: R.pad_sequence([lib.ones(2)], padding_side="middle"),
], ids=["unsorted", "empty", "count", "total_length", "padding_side"])
def test_packed_sequence_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch.nn.utils.rnn, torch)
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        call(funcgrad.nn.utils.rnn, funcgrad)


def test_recurrent_second_derivatives_match_torch(torch):
    t_gru = torch.nn.GRU(2, 3, bidirectional=True)
    gru = _twin(t_gru, nn.GRU(2, 3, bidirectional=True))
    results = []
    for lib, module in ((torch, t_gru), (funcgrad, gru)):
        x = lib.tensor(_randn(4, 1, 2), requires_grad=True)
        (grad,) = lib.autograd.grad(module(x)[0].pow(2).sum(), x, create_graph=True)
        results.append(lib.autograd.grad(grad.pow(2).sum(), x)[0])
    _close(results[1], results[0], atol=1e-5)


def test_recurrent_init_is_uniform_within_torchs_bound():
    lstm = nn.LSTM(5, 16, num_layers=2, bidirectional=True)
    for name, p in lstm.named_parameters():
        values = _np(p)
        assert np.abs(values).max() <= 0.25 and values.std() > 0.1, name


def test_recurrent_dropout_acts_between_layers_in_training_only():
    funcgrad.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = funcgrad.randn(7, 2, 3)
    trained, _ = gru(x)
    evaluated, _ = gru.eval()(x)
    assert not np.allclose(_np(trained), _np(evaluated))
    assert np.allclose(_np(gru(x)[0]), _np(evaluated))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.CosineSimilarity(), lambda lib: lib.nn.CosineSimilarity(dim=-1, eps=0.1),
    lambda lib: lib.nn.PairwiseDistance(), lambda lib: lib.nn.PairwiseDistance(1.0, keepdim=True),
], ids=["cosine", "cosine-dim-eps", "pairwise", "pairwise-p1-keepdim"])
def test_distance_modules_match_torch(torch, make):
    module, t_module = make(funcgrad), make(torch)
    _compare(torch, t_module, module, _randn(3, 4, seed=1), _randn(3, 4, seed=2))
    assert repr(module) == repr(t_module)


def test_pad_norm_pool_and_resize_errors_match_torch(torch):
    for make, kind in ((lambda lib: lib.nn.GroupNorm(3, 4), ValueError),
                       (lambda lib: lib.nn.Hardtanh(1.0, -1.0), AssertionError),
                       (lambda lib: lib.nn.Unflatten(1, 3), TypeError)):
        with pytest.raises(kind) as ours:
            make(funcgrad)
        with pytest.raises(kind) as theirs:
            make(torch)
        assert str(ours.value) == str(theirs.value)
    F_calls = [
        (lambda F, x: F.pad(x, (3, 3), mode="reflect"), RuntimeError),
        (lambda F, x: F.pad(x, (1, 1, 3, 3), mode="reflect"), RuntimeError),
        (lambda F, x: F.pad(x[0, 0], (1, 1), mode="replicate"), NotImplementedError),
        (lambda F, x: F.pad(x, (4, 4), mode="circular"), RuntimeError),
        (lambda F, x: F.pad(x, (1,)), RuntimeError),
        (lambda F, x: F.pad(x, (1,) * 8), RuntimeError),
        (lambda F, x: F.pad(x, (1, 1), mode="reflect", value=2.0), RuntimeError),
        (lambda F, x: F.pad(x, (1, 1), mode="wrap"), NotImplementedError),
        (lambda F, x: F.max_pool1d(x[None], 2), RuntimeError),
        (lambda F, x: F.max_pool1d(x, (2, 2)), RuntimeError),
        (lambda F, x: F.max_pool1d(x, 0), RuntimeError),
        (lambda F, x: F.max_pool1d(x, 2, padding=2), RuntimeError),
        (lambda F, x: F.max_pool1d(x, 5), RuntimeError),
        (lambda F, x: F.avg_pool1d(x[None], 2), RuntimeError),
        (lambda F, x: F.avg_pool1d(x, (2, 2)), RuntimeError),
        (lambda F, x: F.avg_pool1d(x, 5), RuntimeError),
        (lambda F, x: F.adaptive_avg_pool1d(x[None], 2), RuntimeError),
        (lambda F, x: F.adaptive_avg_pool1d(x, (2, 2)), RuntimeError),
        (lambda F, x: F.adaptive_avg_pool2d(x[0, 0], 2), RuntimeError),
        (lambda F, x: F.adaptive_avg_pool2d(x[:, :0], 2), RuntimeError),
        (lambda F, x: F.interpolate(x, 2, 2.0), ValueError),
        (lambda F, x: F.interpolate(x), ValueError),
        (lambda F, x: F.interpolate(x, (2, 2)), ValueError),
        (lambda F, x: F.interpolate(x, scale_factor=(2, 2)), ValueError),
        (lambda F, x: F.interpolate(x, 4, align_corners=True), ValueError),
        (lambda F, x: F.interpolate(x, 4, mode="bilinear"), NotImplementedError),
        (lambda F, x: F.interpolate(x[None], 4, mode="linear"), NotImplementedError),
        (lambda F, x: F.interpolate(x[0], 4), NotImplementedError),
        (lambda F, x: F.interpolate(x, 4, recompute_scale_factor=True), ValueError),
        (lambda F, x: F.interpolate(x, 4, mode="linear", antialias=True), ValueError),
        (lambda F, x: F.interpolate(x[None], 4, mode="lanczos"), ValueError),
        (lambda F, x: F.interpolate(x[None], 4, mode="lanczos", align_corners=True,
                                    antialias=True), ValueError),
        (lambda F, x: F.group_norm(x[0, 0], 1), RuntimeError),
        (lambda F, x: F.group_norm(x, 3), RuntimeError),
        (lambda F, x: F.group_norm(x[:, :, 0], 2), ValueError),
        (lambda F, x: F.group_norm(x, 2, x[0, 0]), RuntimeError),
    ]
    for call, kind in F_calls:
        with pytest.raises(kind) as ours:
            call(funcgrad.nn.functional, funcgrad.ones(1, 2, 3))
        with pytest.raises(kind) as theirs:
            call(torch.nn.functional, torch.ones(1, 2, 3))
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call", [
    lambda F, x: F.pad(x, (1, 1)), lambda F, x: F.pad(x, (1, 1), mode="reflect"),
    lambda F, x: F.pad(x, (1, 1, 1, 1), mode="circular"),
    lambda F, x: F.interpolate(x, scale_factor=2, mode="linear"),
    lambda F, x: F.adaptive_avg_pool1d(x, 3), lambda F, x: F.adaptive_avg_pool2d(x, 1),
], ids=["pad", "pad-reflect", "pad-circular", "interpolate", "adaptive-pool", "adaptive-mean"])
def test_second_backward_needs_retain_graph_as_in_torch(torch, call):
    """Where torch's node keeps the input, a second backward without retain_graph fails."""
    def second_backward_fails(lib) -> bool:
        y = call(lib.nn.functional, lib.ones(1, 2, 4, requires_grad=True)).sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError:
            return True
        return False

    assert second_backward_fails(funcgrad) == second_backward_fails(torch)


def _batch_norm_run(lib, make, shape) -> list:
    """Three training steps on different batches, then one in eval mode: outputs, input and
    parameter gradients, and the running statistics after each step."""
    norm = make(lib)
    record = []
    for step in range(4):
        if step == 3:
            norm.eval()
        x = lib.tensor(_randn(*shape, seed=step) * (step + 1) + step, requires_grad=True)
        out = norm(x)
        (out * lib.tensor(_randn(*shape, seed=10 + step))).sum().backward()
        record += [out, x.grad, *(p.grad for p in norm.parameters())]
        record += [b for name, b in norm.named_buffers() if name != "num_batches_tracked"]
        if lib is funcgrad:
            for p in norm.parameters():
                p.grad = None
        else:
            norm.zero_grad()
    return [_np(t) for t in record] + [repr(norm)]


_NORM_SHAPES = {"BatchNorm1d": (6, 3), "BatchNorm2d": (5, 3, 4, 4), "BatchNorm3d": (2, 3, 2, 3, 2),
                "InstanceNorm1d": (4, 3, 5), "InstanceNorm2d": (3, 4, 4),
                "InstanceNorm3d": (2, 3, 2, 2, 3)}


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.BatchNorm2d(3),
    lambda lib: lib.nn.BatchNorm1d(3, momentum=None, affine=False),
    lambda lib: lib.nn.BatchNorm1d(3, momentum=0.3, track_running_stats=False),
    lambda lib: lib.nn.BatchNorm3d(3, eps=1e-3),
    lambda lib: lib.nn.InstanceNorm1d(3),
    lambda lib: lib.nn.InstanceNorm1d(3, momentum=0.3, affine=True, track_running_stats=True),
    lambda lib: lib.nn.InstanceNorm2d(3, momentum=None, track_running_stats=True),
    lambda lib: lib.nn.InstanceNorm3d(3, affine=True),
], ids=["2d", "1d-cumulative-no-affine", "1d-untracked", "3d", "instance-1d",
        "instance-1d-tracked-affine", "instance-2d-unbatched-cumulative", "instance-3d-affine"])
def test_batch_norm_modules_match_torch_in_training_and_eval(torch, make):
    shape = _NORM_SHAPES[type(make(funcgrad)).__name__]
    ours, theirs = _batch_norm_run(funcgrad, make, shape), _batch_norm_run(torch, make, shape)
    assert ours[-1] == theirs[-1] and len(ours) == len(theirs)
    for a, b in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_small_cnn_trains_the_same_eager_and_compiled():
    def run(compiled: bool):
        funcgrad.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
        optimizer = funcgrad.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        x, y = funcgrad.tensor(_randn(8, 1, 4, 4)), funcgrad.tensor(np.arange(8) % 2)

        def step():
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            return loss

        step = funcgrad.compile(step) if compiled else step
        losses = [step().item() for _ in range(5)]
        return losses, [_np(t) for t in net.state_dict().values()]

    (eager, eager_state), (compiled, compiled_state) = run(False), run(True)
    np.testing.assert_allclose(eager, compiled, rtol=1e-5)
    assert eager[-1] < eager[0]
    for a, b in zip(eager_state, compiled_state):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("output_size", [(7, 8), [2, 3, 8, 7], (9, 9)])
def test_conv_transpose_output_size_matches_torch(torch, output_size):
    def run(lib):
        lib.manual_seed(0)
        up = lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
        return up(lib.ones(2, 3, 4, 4), output_size).shape

    if output_size == (9, 9):
        with pytest.raises(ValueError, match=r"valid sizes range from \[7, 7\] to \[8, 8\]"):
            run(torch)
        with pytest.raises(ValueError, match=r"valid sizes range from \[7, 7\] to \[8, 8\]"):
            run(funcgrad)
    else:
        assert tuple(run(funcgrad)) == tuple(run(torch))


def test_recurrent_and_attention_layers_train_the_same_eager_and_compiled():
    def run(compiled: bool):
        funcgrad.manual_seed(0)
        up = nn.ConvTranspose1d(4, 4, 2, stride=2)
        encoder = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
        lstm, head = nn.LSTM(4, 8, 2, batch_first=True), nn.Linear(8, 1)
        modules = [up, encoder, lstm, head]
        optimizer = funcgrad.optim.SGD([p for m in modules for p in m.parameters()], lr=0.1)
        x, y = funcgrad.tensor(_randn(3, 4, 3)), funcgrad.tensor(_randn(3, 1, seed=1))

        def step():
            optimizer.zero_grad()
            out, _ = lstm(encoder(up(x).transpose(1, 2)))
            loss = ((head(out[:, -1]) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        step = funcgrad.compile(step) if compiled else step
        return [step().item() for _ in range(4)]

    eager, compiled = run(False), run(True)
    np.testing.assert_allclose(eager, compiled, rtol=1e-5)
    assert eager[-1] < eager[0]


def _containers(lib):
    layers = lib.nn.ModuleList([lib.nn.Linear(2, 3), lib.nn.ReLU()])
    layers.append(lib.nn.Linear(3, 1))
    layers.insert(1, lib.nn.Tanh())
    layers.extend([lib.nn.Sigmoid()])
    layers[-1] = lib.nn.Linear(1, 1)
    heads = lib.nn.ModuleDict({"mean": lib.nn.Linear(1, 2)})
    heads["scale"] = lib.nn.Linear(1, 2)
    heads.update([("extra", lib.nn.Linear(1, 1)), ("gone", lib.nn.ReLU())])
    del heads["gone"]
    popped = heads.pop("extra")
    net = lib.nn.Module()
    net.layers, net.heads = layers, heads
    return net, popped


def test_module_list_and_dict_register_and_behave_as_torch(torch):
    (ours, popped), (theirs, t_popped) = _containers(funcgrad), _containers(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs) and repr(popped) == repr(t_popped)
    for a, b in ((ours.layers, theirs.layers), (ours.heads, theirs.heads)):
        assert len(a) == len(b) and [repr(m) for m in a] == [repr(m) for m in b]
    assert list(ours.heads.keys()) == list(theirs.heads.keys()) and "mean" in ours.heads
    assert [repr(m) for m in ours.layers[1:3]] == [repr(m) for m in theirs.layers[1:3]]
    assert isinstance(ours.layers[1:3], nn.ModuleList) and ours.layers[-1] is ours.layers[4]
    with pytest.raises(IndexError) as mine:
        ours.layers[5]
    with pytest.raises(IndexError) as torchs:
        theirs.layers[5]
    assert str(mine.value) == str(torchs.value)


def test_parameter_is_a_leaf_that_requires_grad_and_prints_as_torch(torch):
    p = nn.Parameter(funcgrad.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, funcgrad.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert not nn.Parameter(funcgrad.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(funcgrad.tensor([1, 2]))


def _net(lib):
    """One network definition, written once and built with torch or funcgrad."""

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)
            self.register_buffer("steps", lib.ones(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.steps

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.again = self.block
            self.head = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Dropout(0.2))
            self.scale = lib.nn.Parameter(lib.ones(4))
            self.norm = lib.nn.LayerNorm(4)

        def forward(self, x):
            return self.norm(self.head(self.again(self.block(x))) * self.scale)

    return Net()


@pytest.mark.torch_wording
def test_registration_names_and_printing_match_torch(torch):
    t_net, net = _net(torch), _net(funcgrad)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in t_net.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in t_net.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in t_net.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in t_net.named_children()]
    assert list(net.state_dict()) == list(t_net.state_dict())
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    visited, t_visited = [], []
    net.apply(lambda m: visited.append(type(m).__name__))
    t_net.apply(lambda m: t_visited.append(type(m).__name__))
    assert visited == t_visited
    assert repr(net) == repr(t_net)


def test_custom_network_matches_torch(torch):
    torch.manual_seed(0)
    t_net = _net(torch).eval()
    net = _twin(t_net, _net(funcgrad)).eval()
    _compare(torch, t_net, net, _randn(4, 3))


def test_state_dict_round_trip_writes_in_place():
    funcgrad.manual_seed(0)
    source = _net(funcgrad)
    funcgrad.manual_seed(1)
    target = _net(funcgrad)
    weight = target.block.fc.weight
    assert target.load_state_dict(source.state_dict()) == ([], [])
    assert target.block.fc.weight is weight
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(_np(a), _np(b), err_msg=name)
    assert "cache" not in str(list(target.state_dict()))


def test_load_state_dict_copies_torchs_tensors(torch):
    # torch's optimizer writes its parameters in place; a module loaded from them must not see
    # that. Without a copy of its own, about a third of these loads did: JAX may alias the host
    # memory it is given, or read it after the call returns.
    for _ in range(30):
        source = torch.nn.Linear(64, 64)
        module = _twin(source, nn.Linear(64, 64))
        expected = source.weight.detach().numpy().copy()
        with torch.no_grad():
            source.weight.add_(1.0)
        np.testing.assert_array_equal(_np(module.weight), expected)


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape", "all"])
def test_load_state_dict_errors_match_torch(torch, change):
    t_net, net = _net(torch), _net(funcgrad)
    state = {k: _np(v) for k, v in t_net.state_dict().items()}
    if change in ("missing", "all"):
        del state["head.0.bias"], state["scale"]
    if change in ("unexpected", "all"):
        state["block.fc.extra"] = np.zeros(1, np.float32)
        state["other"] = np.zeros(1, np.float32)
    if change in ("shape", "all"):
        state["block.fc.weight"] = np.zeros((3, 4), np.float32)
    before = {k: _np(v) for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError) as theirs:
        t_net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    with pytest.raises(RuntimeError) as ours:
        net.load_state_dict(state)
    assert str(ours.value) == str(theirs.value).replace("torch.Size", "funcgrad.Size")
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(_np(v), before[k])
    if change in ("missing", "unexpected"):
        t_keys = t_net.load_state_dict({k: torch.tensor(v) for k, v in state.items()},
                                       strict=False)
        assert net.load_state_dict(state, strict=False) == tuple(t_keys)


def test_assignment_rules_and_errors_match_torch(torch):
    def error(lib, action):
        with pytest.raises((TypeError, KeyError, AttributeError)) as info:
            action(lib)
        return type(info.value), str(info.value).replace("torch", "funcgrad")

    class Early(funcgrad.nn.Module):
        def __init__(self):
            self.w = funcgrad.nn.Parameter(funcgrad.ones(1))

    class TorchEarly(torch.nn.Module):
        def __init__(self):
            self.w = torch.nn.Parameter(torch.ones(1))

    assert error(funcgrad, lambda lib: Early()) == error(torch, lambda lib: TorchEarly())
    actions = [
        lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.zeros(2, 2)),
        lambda lib: setattr(lib.nn.Sequential(lib.nn.Tanh()), "0", 3),
        lambda lib: lib.nn.Linear(2, 2).register_buffer("weight", lib.zeros(1)),
        lambda lib: lib.nn.Linear(2, 2).register_buffer("a.b", lib.zeros(1)),
        lambda lib: lib.nn.Linear(2, 2).add_module("x", 3),
        lambda lib: lib.nn.Linear(2, 2).add_module("a.b", lib.nn.Tanh()),
        lambda lib: lib.nn.Linear(2, 2).register_parameter("", None),
    ]
    for action in actions:
        assert error(funcgrad, action) == error(torch, action)
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer.extra = nn.Tanh()
    del layer.extra
    assert list(layer.children()) == []
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'extra'"):
        layer.extra  # noqa: B018


def test_train_and_eval_reach_every_module():
    net = _net(funcgrad)
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_dropout_is_seeded_scaled_and_identity_in_eval(torch):
    drop = nn.Dropout(0.3)
    x = funcgrad.ones(20000, requires_grad=True)
    funcgrad.manual_seed(7)
    first = drop(x)
    funcgrad.manual_seed(7)
    again = drop(x)
    np.testing.assert_array_equal(_np(first), _np(again))
    assert np.any(_np(drop(x)) != _np(first))
    values = _np(first)
    np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(np.mean(values == 0) - 0.3) < 0.02
    first.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), values)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not np.any(_np(nn.Dropout(1.0)(x)))
    with pytest.raises(ValueError) as ours:
        nn.Dropout(1.5)
    with pytest.raises(ValueError) as theirs:
        torch.nn.Dropout(1.5)
    assert str(ours.value) == str(theirs.value)


def test_modules_are_pytrees():
    funcgrad.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    leaves = jax.tree_util.tree_leaves(mlp)
    assert [leaf.shape for leaf in leaves] == [tuple(p.shape) for p in mlp.parameters()]
    paths = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_leaves_with_path(mlp)]
    assert paths[0].startswith(".0.weight")

    doubled = jax.tree_util.tree_map(lambda a: 2 * a, mlp)
    assert type(doubled) is nn.Sequential and isinstance(doubled[0].weight, nn.Parameter)
    np.testing.assert_allclose(_np(doubled[2].bias), 2 * _np(mlp[2].bias))
    assert repr(doubled) == repr(mlp)

    x = funcgrad.randn(5, 3)
    forward = jax.jit(lambda model, x: model(x))
    np.testing.assert_allclose(_np(forward(mlp, x)), _np(mlp(x)), rtol=1e-6)

    def loss(model):
        return (model(x) ** 2).mean()

    grads = funcgrad.grad(loss)(mlp)
    loss(mlp).backward()
    for g, p in zip(jax.tree_util.tree_leaves(grads), mlp.parameters()):
        np.testing.assert_allclose(np.asarray(g), _np(p.grad), rtol=1e-5, atol=1e-7)


def test_plain_tensor_attributes_are_static_per_module():
    class Shift(nn.Module):
        def __init__(self, offset):
            super().__init__()
            self.offset = funcgrad.tensor(offset)  # not registered: static, baked into a trace

        def forward(self, x):
            return x + self.offset

    shift = jax.jit(lambda module, x: module(x))
    x = funcgrad.zeros(2)
    np.testing.assert_array_equal(_np(shift(Shift([1.0, 2.0]), x)), [1.0, 2.0])
    np.testing.assert_array_equal(_np(shift(Shift([3.0, 4.0]), x)), [3.0, 4.0])


def test_zero_grad_drops_or_zeroes_in_place():
    layer = nn.Linear(2, 1)
    layer(funcgrad.ones(1, 2)).sum().backward()
    grad = layer.weight.grad
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is grad
    assert not np.any(_np(grad))
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_to_casts_floating_tensors_in_place():
    layer = nn.Linear(2, 2)
    layer.register_buffer("count", funcgrad.tensor([3]))
    weight = layer.weight
    assert layer.to(funcgrad.float16) is layer
    assert layer.weight is weight and weight.dtype == funcgrad.float16
    assert layer.count.dtype == funcgrad.tensor([3]).dtype
    assert layer(funcgrad.ones(1, 2, dtype=funcgrad.float16)).dtype == funcgrad.float16


def test_linear_init_is_torchs_uniform_and_seeded():
    funcgrad.manual_seed(3)
    first = nn.Linear(64, 256)
    funcgrad.manual_seed(3)
    again = nn.Linear(64, 256)
    np.testing.assert_array_equal(_np(first.weight), _np(again.weight))
    bound = 1 / np.sqrt(64)
    for p in (_np(first.weight), _np(first.bias)):
        assert np.all(np.abs(p) <= bound)
    assert abs(_np(first.weight).std() - bound / np.sqrt(3)) < 0.05 * bound
    assert _np(first.weight).max() > 0.99 * bound and _np(first.weight).min() < -0.99 * bound


def test_sequential_indexing(torch):
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh())
    assert len(seq) == 3 and seq[-1] is list(seq)[2]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == list(seq)[1:]
    assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]
    with pytest.raises(IndexError) as ours:
        seq[3]
    with pytest.raises(IndexError) as theirs:
        torch.nn.Sequential(torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.ReLU())[3]
    assert str(ours.value) == str(theirs.value)


def test_functional_errors_match_torch(torch):
    cases = [
        (lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (4,)), RuntimeError),
        (lambda lib: lib.nn.functional.embedding(lib.tensor([5]), lib.ones(3, 2)), IndexError),
        (lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
         RuntimeError),
        (lambda lib: lib.nn.functional.huber_loss(lib.ones(2), lib.ones(2), delta=0.0),
         RuntimeError),
        (lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(2, 3), lib.ones(3),
                                                             lib.ones(2)), RuntimeError),
        (lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3),
                                                             lib.ones(2, 1)), RuntimeError),
        (lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3),
                                                         lib.ones(3)), ValueError),
        (lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(2), lib.ones(2),
                                                         -lib.ones(2)), ValueError),
        (lambda lib: lib.nn.functional.poisson_nll_loss(lib.ones(2), lib.ones(2),
                                                        reduction="any"), ValueError),
        (lambda lib: lib.nn.functional.glu(lib.ones(2, 3)), RuntimeError),
        (lambda lib: lib.nn.functional.glu(lib.tensor(1.0)), RuntimeError),
        (lambda lib: lib.nn.functional.hardtanh(lib.ones(2), 1.0, -1.0), ValueError),
        (lambda lib: lib.nn.functional.prelu(lib.ones(2, 3), lib.ones(2)), RuntimeError),
        (lambda lib: lib.nn.functional.softshrink(lib.ones(2), -1.0), RuntimeError),
    ]
    for call, kind in cases:
        with pytest.raises(kind) as ours:
            call(funcgrad)
        with pytest.raises(kind) as theirs:
            call(torch)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(2, 5, 4, 4), lib.ones(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(2, 4, 4), lib.ones(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 4, 4, 4), lib.ones(4, 3, 3, 3),
                                                   lib.ones(4)),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 4, 4, 4), lib.ones(4, 3, 3, 3),
                                                   stride=2, output_padding=2),
    lambda lib: lib.nn.functional.conv_transpose1d(lib.ones(1, 4, 4), lib.ones(4, 3, 3),
                                                   output_padding=1),
    lambda lib: lib.nn.functional.conv_transpose1d(lib.ones(1, 4, 4), lib.ones(4, 3, 3),
                                                   groups=3),
    lambda lib: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 2)),
    lambda lib: lib.nn.GRU(3, 4)(lib.ones(5, 1, 2, 3)),
    lambda lib: lib.nn.RNN(3, 4)(lib.ones(5, 2, 3), lib.ones(2, 2, 4)),
    lambda lib: lib.nn.RNN(3, 4)(lib.ones(5, 3), lib.ones(1, 2, 4)),
    lambda lib: lib.nn.LSTM(3, 4, 2)(lib.ones(5, 2, 3), (lib.ones(2, 2, 4), lib.ones(2, 3, 4))),
    lambda lib: lib.nn.LSTM(3, 4)(lib.ones(5, 3), (lib.ones(1, 4), lib.ones(1, 1, 4))),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 2)),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=2)(lib.ones(5, 2, 3), (lib.ones(1, 2, 4),) * 2),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    lambda lib: lib.nn.GRUCell(3, 4)(lib.ones(2, 3), lib.ones(3, 4)),
    lambda lib: lib.nn.RNNCell(3, 4)(lib.ones(2, 3), lib.ones(2, 2, 4)),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(3), (lib.ones(4), lib.ones(2, 4))),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), (lib.ones(2, 5), lib.ones(2, 4))),
], ids=["conv_transpose-channels", "conv_transpose-unbatched-channels", "conv_transpose-bias",
        "conv_transpose-output-padding", "conv_transpose1d-output-padding",
        "conv_transpose-groups", "lstm-input-size", "gru-4d", "rnn-hidden-size",
        "rnn-unbatched-hidden-dims", "lstm-cell-size", "lstm-unbatched-state-dims",
        "lstm-cell-input-size", "lstm-proj-hidden-size", "lstm-proj-too-large", "gru-proj",
        "gru-cell-batch", "rnn-cell-hidden-dims", "lstm-cell-hx-dims", "lstm-cell-hidden-size"])
def test_conv_transpose_and_recurrent_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(funcgrad)
    assert str(ours.value) == str(theirs.value)


def test_gaussian_nll_loss_goes_through_a_transform(torch):
    """Its variance check reads the variances, which a trace cannot: there it is skipped.
    (torch's vmap refuses the check; its loss row by row is the reference.)"""
    x, t, v = _randn(3, 2, seed=1), _randn(3, 2, seed=2), np.exp(_randn(3, 2, seed=3))
    ours = funcgrad.func.vmap(lambda xi, ti, vi: nn.functional.gaussian_nll_loss(xi, ti, vi))(
        funcgrad.tensor(x), funcgrad.tensor(t), funcgrad.tensor(v))
    theirs = torch.stack([torch.nn.functional.gaussian_nll_loss(*map(torch.tensor, row))
                          for row in zip(x, t, v)])
    _close(ours, theirs)


def test_loss_argument_errors_match_torch(torch):
    for lib in (torch, funcgrad):
        with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
            lib.nn.functional.margin_ranking_loss(lib.ones(2), lib.ones(2, 1), lib.ones(2))
        with pytest.raises(RuntimeError, match="'soft_margin_loss' is not differentiable with "
                                               "respect to argument 'target'"):
            lib.nn.functional.soft_margin_loss(lib.ones(2), lib.ones(2, requires_grad=True))


def test_dropout_inside_a_jax_trace_leaves_the_generator_usable():
    drop = nn.Dropout(0.5)
    out = jax.jit(lambda module, x: module(x))(drop, funcgrad.ones(8))
    assert set(np.unique(_np(out))) <= {0.0, 2.0}
    funcgrad.rand(2)  # the generator holds a concrete key, not the trace's tracer


def _ctc_case(lib, targets, lengths, reduction, zero_infinity, blank, batched=True):
    """F.ctc_loss of fixed random log-probabilities (T=7, N=3, C=5): the loss and its
    gradient with respect to the log-probabilities."""
    logits = _randn(7, 3, 5, seed=3)
    if not batched:
        logits = logits[:, 0]
    log_probs = lib.tensor(logits).log_softmax(-1).detach().requires_grad_(True)
    inputs = lib.tensor(lengths[0]) if batched else lib.tensor(lengths[0][0])
    loss = lib.nn.functional.ctc_loss(log_probs, lib.tensor(targets), inputs,
                                      lib.tensor(lengths[1]), blank=blank, reduction=reduction,
                                      zero_infinity=zero_infinity)
    loss.sum().backward()
    return loss, log_probs.grad


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_loss_matches_torch(torch, reduction, layout, blank):
    # Sequence 1 repeats a label (a blank must separate the two), sequence 2 has shorter
    # input and target lengths than the padding.
    padded = np.array([[1, 2, 3], [2, 2, 0], [3, 1, 1]]) % 4 + (blank == 0)
    lengths = (np.array([7, 6, 4]), np.array([3, 2, 1]))
    targets = padded if layout == "padded" else np.concatenate(
        [row[:n] for row, n in zip(padded, lengths[1])])
    ours = _ctc_case(funcgrad, targets, lengths, reduction, False, blank)
    theirs = _ctc_case(torch, targets, lengths, reduction, False, blank)
    assert ours[0].grad_fn.name() == theirs[0].grad_fn.name()
    for a, b in zip(ours, theirs):
        _close(a, b, atol=1e-5)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_of_an_impossible_alignment_is_inf_or_zero_as_torch(torch, zero_infinity):
    # Sequence 0 needs 3 labels and 2 separating blanks (5 steps) in 4 steps; sequence 1 fits.
    targets, lengths = np.array([[1, 1, 1], [1, 2, 3]]), (np.array([4, 7, 7]), np.array([3, 3, 2]))
    targets = np.concatenate([targets, [[2, 2, 0]]])
    ours = _ctc_case(funcgrad, targets, lengths, "none", zero_infinity, 0)
    theirs = _ctc_case(torch, targets, lengths, "none", zero_infinity, 0)
    _close(ours[0], theirs[0], atol=1e-5)
    if zero_infinity:  # (torch's gradient of an infinite loss is not meant to be used)
        _close(ours[1], theirs[1], atol=1e-5)


def test_ctc_loss_unbatched_and_the_module_match_torch(torch):
    lengths = (np.array([7]), np.array(3))
    ours = _ctc_case(funcgrad, np.array([1, 2, 1]), lengths, "mean", False, 0, batched=False)
    theirs = _ctc_case(torch, np.array([1, 2, 1]), lengths, "mean", False, 0, batched=False)
    for a, b in zip(ours, theirs):
        _close(a, b, atol=1e-5)
    assert repr(nn.CTCLoss(blank=2, zero_infinity=True)) == repr(
        torch.nn.CTCLoss(blank=2, zero_infinity=True))


@pytest.mark.parametrize("name, shape, channel_axis", [
    ("dropout1d", (40, 30, 3), 1), ("dropout1d", (30, 3), 0), ("dropout2d", (40, 30, 2, 3), 1),
    ("dropout3d", (40, 30, 2, 1, 2), 1), ("dropout3d", (30, 2, 2, 2), 0),
    ("feature_alpha_dropout", (40, 30, 2), 1),
])
def test_channel_dropouts_drop_whole_channels_as_torch(torch, name, shape, channel_axis):
    p = 0.3
    for lib in (torch, funcgrad):
        lib.manual_seed(0)
        x = lib.ones(*shape, requires_grad=True)
        out = getattr(lib.nn.functional, name)(x, p, training=True)
        out.sum().backward()
        values = np.moveaxis(_np(out), channel_axis, 0).reshape(*shape[:channel_axis + 1], -1)
        # every channel of one value: kept (1 / (1 - p), or alpha dropout's affine image of 1)
        # or dropped (0, or its saturation value)
        assert (values == values[..., :1]).all()
        kept, dropped = np.unique(values).max(), np.unique(values).min()
        gain = 1 / np.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
        if name == "feature_alpha_dropout":
            np.testing.assert_allclose([kept, dropped], [gain * (1 + 1.7580993408473766 * p),
                                                         gain * 1.7580993408473766 * (p - 1)],
                                       rtol=1e-6)
        else:
            np.testing.assert_allclose([kept, dropped], [1 / (1 - p), 0.0], rtol=1e-6)
        # about p of them dropped (a binomial count, 5 standard deviations either way)
        count, n = (values[..., 0] == dropped).sum(), values[..., 0].size
        assert abs(count - p * n) < 5 * np.sqrt(n * p * (1 - p))
        np.testing.assert_array_equal(_np(x.grad) == 0, _np(out) == dropped)  # where kept


def test_alpha_dropout_keeps_mean_and_variance():
    funcgrad.manual_seed(0)
    x = funcgrad.randn(200_000)
    out = F.alpha_dropout(x, 0.2, training=True)
    assert abs(float(out.mean())) < 0.01 and abs(float(out.var()) - 1) < 0.01
    assert F.alpha_dropout(x, 0.2) is x  # (training defaults to False, as torch's)


@pytest.mark.parametrize("call", [
    lambda F, x: F.dropout2d(x[0], 0.5),
    lambda F, x: F.dropout2d(x[None], 0.5),
    lambda F, x: F.dropout3d(x[0], 0.5),
], ids=["2d-of-3d", "2d-of-5d", "3d-of-3d"])
def test_channel_dropout_warnings_match_torch(torch, call):
    with pytest.warns(UserWarning) as theirs:
        call(torch.nn.functional, torch.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning) as ours:
        call(funcgrad.nn.functional, funcgrad.ones(2, 3, 4, 5))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("call", [
    lambda F, x: F.dropout1d(x, 0.5),
    lambda F, x: F.feature_alpha_dropout(x[0, 0, 0], 0.5, training=True),
    lambda F, x: F.dropout2d(x, 1.5),
], ids=["1d-of-4d", "feature-of-1d", "p"])
def test_channel_dropout_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional, torch.ones(2, 3, 4, 5))
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        call(funcgrad.nn.functional, funcgrad.ones(2, 3, 4, 5))


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                  "FeatureAlphaDropout"])
def test_dropout_modules_print_as_torch_and_pass_through_in_eval(torch, name):
    module, t_module = getattr(nn, name)(0.25, inplace=True), getattr(torch.nn, name)(0.25, True)
    assert repr(module) == repr(t_module)
    x = funcgrad.ones(*{"Dropout1d": (2, 3, 4), "Dropout2d": (2, 3, 4, 5),
                        "Dropout3d": (2, 3, 4, 5, 6)}.get(name, (2, 3)))
    assert module.eval()(x) is x
    module.train()(x)  # in place
    assert not (x.numpy() == 1).all()


def test_channel_dropout_in_eval_leaves_its_input_as_it_is():
    x = funcgrad.ones(3, 4)
    version = x._version
    assert F.dropout1d(x, 0.5, training=False, inplace=True) is x and x._version == version


def test_unbatched_channel_dropout_in_place_changes_its_input():
    funcgrad.manual_seed(1)
    x = funcgrad.ones(8, 3)
    out = F.dropout1d(x, 0.5, inplace=True)
    np.testing.assert_array_equal(x.numpy(), out.numpy())
    assert {0.0, 2.0} == set(np.unique(x.numpy()))


def test_gumbel_softmax_samples_the_softmax_and_passes_gradients_straight_through():
    logits = funcgrad.tensor([0.5, 2.0, -1.0, 1.0]).repeat(20_000, 1)
    funcgrad.manual_seed(3)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    # one-hot rows whose argmax is drawn from softmax(logits) (the Gumbel-max trick; the
    # tolerance is 5 standard deviations of a frequency)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0} and (hard.numpy().sum(1) == 1).all()
    expected = np.exp([0.5, 2.0, -1.0, 1.0]) / np.exp([0.5, 2.0, -1.0, 1.0]).sum()
    np.testing.assert_allclose(hard.numpy().mean(0), expected,
                               atol=5 * np.sqrt(expected * (1 - expected) / 20_000).max())
    x = funcgrad.tensor([[0.5, 2.0, -1.0], [1.0, 0.0, 0.3]], requires_grad=True)
    weights = funcgrad.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    grads = []
    for is_hard in (False, True):
        funcgrad.manual_seed(7)  # the same noise: the hard sample's gradient is the soft's
        (F.gumbel_softmax(x, tau=2.0, hard=is_hard, dim=1) * weights).sum().backward()
        grads.append(x.grad.numpy().copy())
        x.grad = None
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_gumbel_softmax_eps_is_deprecated_as_in_torch(torch):
    for lib in (torch, funcgrad):
        with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
            lib.nn.functional.gumbel_softmax(lib.ones(2, 3), eps=1e-5)


def _hooked_run(lib, state=None):
    """A small network (with ``state``'s weights) with forward pre-hooks and hooks of every
    kind: its weights, the calls the hooks saw and the outputs."""
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    if state is not None:
        net.load_state_dict(state)
    log = []
    handles = [
        net[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,)),
        net[0].register_forward_pre_hook(lambda m, args: log.append(("pre", args[0].shape))),
        net[0].register_forward_pre_hook(lambda m, args: log.append(("first", len(args))),
                                         prepend=True),
        net[1].register_forward_hook(lambda m, args, out: out + 1.0),
        net[2].register_forward_hook(
            lambda m, args, kwargs, out: log.append(("kw", sorted(kwargs), out.shape)),
            with_kwargs=True),
        net[2].register_forward_pre_hook(lambda m, args, kwargs: ((args[0] - 0.5,), kwargs),
                                         with_kwargs=True),
        net.register_forward_hook(lambda m, args, out: out.sum(-1)),
    ]
    x = lib.tensor(_randn(5, 3))
    out = net(x)
    with handles[0], handles[3]:  # (a handle removes its hook as it exits)
        pass
    out_without = net(x)
    for handle in handles:
        handle.remove()
    return net.state_dict(), log, [out, out_without, net(x)]


def test_forward_hooks_match_torch(torch):
    state, t_log, t_outs = _hooked_run(torch)
    _, log, outs = _hooked_run(funcgrad, state)
    assert [str(entry).replace("funcgrad", "torch") for entry in log] == [
        str(entry) for entry in t_log]
    for ours, theirs in zip(outs, t_outs):
        _close(ours, theirs)


def test_a_module_unpickled_without_some_kinds_of_hooks_gets_them_empty():
    layer = nn.Linear(2, 1)
    state = {k: v for k, v in layer.__dict__.items() if "backward" not in k}
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)  # as pickle restores a module saved before backward hooks existed
    x = funcgrad.ones(3, 2)
    _close(old(x), layer(x))
    seen = []
    old.register_full_backward_hook(lambda m, gi, go: seen.append(go[0].shape))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        old(x).sum().backward()
    assert seen == [(3, 1)]


@pytest.mark.parametrize("call", [
    lambda net: net.get_submodule("0.weight"), lambda net: net.get_submodule("3"),
    lambda net: net.get_parameter("0.foo"), lambda net: net.get_parameter("1.running_mean"),
    lambda net: net.get_buffer("1.weight"), lambda net: net.get_buffer("0.weight.x"),
])
def test_get_submodule_parameter_and_buffer_errors_match_torch(torch, call):
    nets = [lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
            for lib in (torch, funcgrad)]
    with pytest.raises(AttributeError) as theirs:
        call(nets[0])
    with pytest.raises(AttributeError, match=re.escape(str(theirs.value))):
        call(nets[1])


def test_get_submodule_parameter_and_buffer_find_torchs():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.BatchNorm1d(2)))
    assert net.get_submodule("") is net and net.get_submodule("1.0") is net[1][0]
    assert net.get_parameter("0.bias") is net[0].bias
    assert net.get_buffer("1.0.running_var") is net[1][0].running_var


@pytest.mark.parametrize("cast", ["half", "bfloat16", "float", "type-float16", "type-int32",
                                  "cpu"])
def test_module_casts_match_torchs(torch, cast):
    def run(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        net[0].weight.grad = lib.ones(3, 2)
        weight, grad, mean = net[0].weight, net[0].weight.grad, net[1].running_mean
        before = net[0].bias.detach().clone()
        name, _, dtype = cast.partition("-")
        if cast == "type-int32":  # refused, and (in funcgrad) before anything changed
            with pytest.raises(RuntimeError) as info:
                net.type(lib.int32)
            if lib is funcgrad:
                assert net[0].bias.dtype == funcgrad.float32
                assert net[0].bias.tolist() == before.tolist()
            raise info.value
        out = getattr(net, name)(*([getattr(lib, dtype)] if dtype else []))
        return {"returns self": out is net, "weight kept": net[0].weight is weight,
                "grad kept": net[0].weight.grad is grad,
                "buffer kept": net[1].running_mean is mean,
                "dtypes": [str(t.dtype).split(".")[-1] for t in
                           [*net.parameters(), net[0].weight.grad, *net.buffers()]]}

    def outcome(lib):
        try:
            return run(lib)
        except RuntimeError as e:
            return str(e)

    ours, theirs = outcome(funcgrad), outcome(torch)
    if isinstance(theirs, dict):  # (integers are int32 without jax_enable_x64)
        theirs["dtypes"] = [d.replace("int64", "int32") for d in theirs["dtypes"]]
    assert ours == theirs


@pytest.mark.parametrize("recurse", [True, False])
def test_to_empty_leaves_torchs_values_under_deterministic_algorithms(torch, recurse):
    """Under deterministic algorithms both fill what to_empty leaves (NaN, the largest
    integer); otherwise torch's is whatever memory held, and funcgrad's zeros."""
    def run(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        net[0].weight.grad = lib.ones(3, 2)
        weight, grad, mean = net[0].weight, net[0].weight.grad, net[1].running_mean
        lib.use_deterministic_algorithms(True)
        target = net if recurse else net[0]  # (without recurse, the BatchNorm keeps its values)
        try:
            out = target.to_empty(device="cpu", recurse=recurse)
        finally:
            lib.use_deterministic_algorithms(False)
        kept = (out is target, net[0].weight is weight, net[0].weight.grad is grad,
                net[1].running_mean is mean)
        return kept, [t.detach().float().tolist() for t in
                      [*net.parameters(), net[0].weight.grad, *net.buffers()]]

    ours, theirs = run(funcgrad), run(torch)
    assert ours[0] == theirs[0]
    # (torch's integer buffer, num_batches_tracked, is int64: its largest value differs)
    assert len(ours[1]) == len(theirs[1])
    for got, want in zip(ours[1][:-1], theirs[1][:-1]):
        np.testing.assert_array_equal(got, want)
    if recurse:
        zeros = funcgrad.nn.Linear(2, 3).to_empty(device="cpu")
        assert zeros.weight.tolist() == [[0.0, 0.0]] * 3 and zeros.bias.tolist() == [0.0] * 3


def test_set_submodule_matches_torch(torch):
    def run(lib):
        net = lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(1, 1)), lib.nn.ReLU())
        net.set_submodule("0.0", lib.nn.Tanh())
        net.set_submodule("0.extra", lib.nn.Identity())
        errors = []
        for args in [("", lib.nn.ReLU()), ("0.0", 3), ("0.missing", lib.nn.ReLU(), True),
                     ("x.y", lib.nn.ReLU())]:
            with pytest.raises((ValueError, AttributeError)) as info:
                net.set_submodule(*args)
            errors.append((type(info.value).__name__, str(info.value).split(",")[0]))
        net.register_buffer("b", lib.zeros(1))
        with pytest.raises(AttributeError) as info:
            net.set_submodule("b", lib.nn.ReLU())
        errors.append(str(info.value))
        return repr(net), errors

    assert run(funcgrad) == run(torch)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_sync_batch_norm_normalizes_as_batch_norm_in_one_process(torch, shape):
    torch.manual_seed(0)
    t_module = torch.nn.SyncBatchNorm(3)
    module = _twin(t_module, nn.SyncBatchNorm(3))
    assert repr(module) == repr(t_module)
    _compare(torch, t_module, module, _randn(*shape))
    _close(module.running_var, t_module.running_var)
    _compare(torch, t_module.eval(), module.eval(), _randn(*shape, seed=1))


def test_sync_batch_norm_refuses_a_1d_input(torch):
    assert_raises_as_torch(torch, lambda lib: lib.nn.SyncBatchNorm(3)(lib.ones(3)))


def test_convert_sync_batchnorm_replaces_batch_norms_and_keeps_their_state(torch):
    def converted(lib):
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3, momentum=None),
                                lib.nn.Sequential(lib.nn.BatchNorm1d(3, affine=False).eval(),
                                                  lib.nn.InstanceNorm1d(3)))
        weight = net[1].weight
        out = lib.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert out[1].weight is weight
        return out

    ours, theirs = converted(funcgrad), converted(torch)
    assert repr(ours) == repr(theirs)
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_deprecated_container_and_nllloss2d_warn_as_torch(torch):
    for make in (lambda lib: lib.nn.Container(layer=lib.nn.Linear(2, 1)),
                 lambda lib: lib.nn.NLLLoss2d(ignore_index=1)):
        with pytest.warns(FutureWarning) as theirs:
            t_module = make(torch)
        with pytest.warns(FutureWarning) as ours:
            module = make(funcgrad)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
        assert repr(module) == repr(t_module)
        assert list(module.state_dict()) == list(t_module.state_dict())


_LINEAR_CE = {
    "plain": (dict(), (5, 4), [0, 2, 1, 2, 0]),
    "bias-weight-smoothing": (dict(bias=True, weight=[1.0, 2.0, 0.5], label_smoothing=0.1),
                              (5, 4), [0, 2, 1, 2, 0]),
    "ignore-index-sum": (dict(ignore_index=1, reduction="sum"), (5, 4), [0, 1, 1, 2, 0]),
    "none": (dict(reduction="none", bias=True), (5, 4), [0, 2, 1, 2, 0]),
    "unbatched": (dict(), (4,), 2),
    "k-dimensional": (dict(out_features=(2,), bias=True), (5, 4),
                      [[0, 1], [2, 2], [1, 0], [0, 0], [2, 1]]),
}


@pytest.mark.parametrize("name", _LINEAR_CE)
def test_linear_cross_entropy_loss_matches_torch(torch, name):
    options, shape, target = _LINEAR_CE[name]

    def build(lib):
        kwargs = dict(options)
        if "weight" in kwargs:
            kwargs["weight"] = lib.tensor(kwargs["weight"])
        return lib.nn.LinearCrossEntropyLoss(4, 3, **kwargs)

    torch.manual_seed(0)
    t_module = build(torch)
    module = _twin(t_module, build(funcgrad))
    assert repr(module) == repr(t_module)
    _compare(torch, t_module, module, _randn(*shape), np.array(target))


def test_linear_cross_entropy_takes_probabilities(torch):
    def loss(lib):
        x = lib.tensor(_randn(3, 4), requires_grad=True)
        w = lib.tensor(_randn(5, 4, seed=1), requires_grad=True)
        target = lib.softmax(lib.tensor(_randn(3, 5, seed=2)), 1)
        out = lib.nn.functional.linear_cross_entropy(x, w, target, label_smoothing=0.2)
        out.backward()
        return out, x.grad, w.grad

    for got, want in zip(loss(funcgrad), loss(torch)):
        _close(got, want)


@pytest.mark.parametrize("scenario", [
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 2, 4), lib.ones(3, 4),
                                                       lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 4), lib.ones(3),
                                                       lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 4), lib.ones(3, 5),
                                                       lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(
        lib.ones(2, 4), lib.ones(3, 4), lib.tensor([0, 1]), linear_bias=lib.ones(4)),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(4), lib.ones(3, 2, 4),
                                                       lib.tensor(0)),
    lambda lib: lib.nn.functional.linear_cross_entropy(
        lib.ones(2, 4), lib.ones(3, 4), lib.ones(2, 3) / 3, ignore_index=0),
    lambda lib: lib.nn.LinearCrossEntropyLoss(4, 3, weight=lib.ones(2)),
    lambda lib: lib.nn.LinearCrossEntropyLoss(4, 3, label_smoothing=1.5),
], ids=["input-rank", "weight-rank", "in-features", "bias-shape", "k-dim-unbatched",
        "ignore-index-with-probabilities", "class-weight-shape", "label-smoothing"])
def test_linear_cross_entropy_errors(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def _adaptive(lib, **kwargs):
    return lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 7], **dict(
        dict(div_value=2.0), **kwargs))


@pytest.mark.parametrize("target", [[1, 5, 9, 0, 6, 2], [1, 2, 0, 1, 2, 0], [8, 9, 7, 9, 8, 9], 5],
                         ids=["mixed", "shortlist", "tail", "unbatched"])
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(torch, target, head_bias):
    torch.manual_seed(0)
    t_module = _adaptive(torch, head_bias=head_bias)
    module = _twin(t_module, _adaptive(funcgrad, head_bias=head_bias))
    assert repr(module) == repr(t_module)
    shape = (len(target), 8) if isinstance(target, list) else (8,)
    _compare(torch, t_module, module, _randn(*shape), np.array(target))
    x = _randn(6, 8, seed=3)
    _close(module.log_prob(funcgrad.tensor(x)), t_module.log_prob(torch.tensor(x)))
    assert module.predict(funcgrad.tensor(x)).tolist() == t_module.predict(torch.tensor(x)).tolist()


def test_adaptive_log_softmax_predicts_rare_classes_as_torch(torch):
    """Rows whose head picks a cluster take the tail's best class (all rows, and some)."""
    torch.manual_seed(1)
    t_module = _adaptive(torch, head_bias=True)
    module = _twin(t_module, _adaptive(funcgrad, head_bias=True))
    for cluster_bias in ([5.0, 5.0], [0.3, 0.0]):
        with torch.no_grad():
            t_module.head.bias[3:] = torch.tensor(cluster_bias)
        module.load_state_dict(t_module.state_dict())
        x = _randn(12, 8, seed=4)
        assert module.predict(funcgrad.tensor(x)).tolist() == t_module.predict(
            torch.tensor(x)).tolist()


def test_zero_width_layers_warn_as_torch(torch):
    """A tail too narrow for ``div_value`` (8 // 4 ** 2 = 0 features) has weights with no
    elements, which torch's He initialization warns about, as it does for any such Linear or
    convolution."""
    for make in (lambda lib: _adaptive(lib, div_value=4.0), lambda lib: lib.nn.Linear(0, 3),
                 lambda lib: lib.nn.Conv1d(2, 0, 3),
                 lambda lib: lib.nn.init.kaiming_normal_(lib.empty(0, 3)),
                 lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(2, 0))):
        with pytest.warns(UserWarning) as theirs:
            make(torch)
        with pytest.warns(UserWarning) as ours:
            make(funcgrad)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("scenario", [
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[]),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[5, 3]),
    lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 10]),
    lambda lib: _adaptive(lib)(lib.ones(2, 8), lib.tensor([1, 10])),
    lambda lib: _adaptive(lib)(lib.ones(3, 8), lib.tensor([1, 2])),
    lambda lib: _adaptive(lib)(lib.ones(2, 2, 8), lib.tensor([1, 2])),
    lambda lib: _adaptive(lib)(lib.ones(2, 8), lib.tensor(1)),
    lambda lib: _adaptive(lib)(lib.ones(2, 8), lib.tensor([[1, 2]])),
], ids=["no-cutoffs", "unsorted", "too-large", "target-range", "batch-sizes", "input-rank",
        "unbatched-input-rank", "multi-target"])
def test_adaptive_log_softmax_errors(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("make", [
    lambda T, u: T.nn.FractionalMaxPool2d(2, output_size=(3, 4), _random_samples=u[..., :2]),
    lambda T, u: T.nn.FractionalMaxPool2d((3, 2), output_ratio=0.5, return_indices=True,
                                          _random_samples=u[..., :2]),
    lambda T, u: T.nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.7), _random_samples=u),
], ids=["2d-size", "2d-ratio-indices", "3d-ratio"])
def test_fractional_max_pools_are_torchs(torch, make):
    samples = np.random.default_rng(2).random((2, 3, 3)).astype(np.float32)
    t_pool, pool = make(torch, torch.tensor(samples)), make(funcgrad, funcgrad.tensor(samples))
    assert repr(pool) == repr(t_pool)
    assert (pool.kernel_size, pool.output_size, pool.output_ratio) == (
        t_pool.kernel_size, t_pool.output_size, t_pool.output_ratio)
    shape = (2, 3, 6, 7, 8) if isinstance(pool, funcgrad.nn.FractionalMaxPool3d) else (2, 3, 7, 9)
    _compare(torch, t_pool, pool, _randn(*shape))


def test_fractional_max_pool_draws_its_own_windows_without_samples():
    funcgrad.manual_seed(0)
    x = funcgrad.arange(64.0).reshape(1, 1, 8, 8)  # increasing: each window's last element
    pool = funcgrad.nn.FractionalMaxPool2d(2, output_size=5, return_indices=True)
    values, indices = pool(x)
    assert values.shape == indices.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(values.numpy().ravel(), indices.numpy().ravel())
    assert indices[0, 0, -1, -1].item() == 63  # the last window ends at the corner
    rows = indices.numpy()[0, 0, :, 0] // 8
    assert (np.diff(rows) >= 1).all() and (np.diff(rows) <= 2).all()  # strides of 1 or 2


def test_data_parallel_wraps_a_module_as_torchs_does_without_cuda(torch):
    t_model = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()))
    model = funcgrad.nn.DataParallel(funcgrad.nn.Sequential(funcgrad.nn.Linear(3, 4),
                                                            funcgrad.nn.ReLU()))
    model.load_state_dict(t_model.state_dict())  # checkpoint keys start with "module."
    assert list(model.state_dict()) == list(t_model.state_dict())
    assert repr(model) == repr(t_model) and model.device_ids == t_model.device_ids == []
    assert isinstance(model.module, funcgrad.nn.Sequential)
    _compare(torch, t_model, model, _randn(5, 3))
