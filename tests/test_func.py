"""funcgrad.func against torch.func: functional_call (with buffers, tied weights, strictness
and its errors), per-sample gradients by vmap of grad, grad_and_value's order, vmap's in_dims
and out_dims, and Jacobians of a module's output with respect to its parameters."""

import copy
import warnings

import numpy as np
import pytest

import funcgrad


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t) -> np.ndarray:
    return np.asarray(t.detach() if hasattr(t, "detach") else t)


class _Net:
    """The same network in either library: Linear, tanh, Linear, times a buffer."""

    @staticmethod
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = lib.nn.Linear(3, 4)
                self.out = lib.nn.Linear(4, 2)
                self.register_buffer("scale", lib.tensor([1.5, -0.5]))

            def forward(self, x):
                return self.out(lib.tanh(self.hidden(x))) * self.scale

        net = Net()
        rng = np.random.default_rng(0)
        with lib.no_grad():
            for _, p in net.named_parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        return net


def _data():
    rng = np.random.default_rng(1)
    return (rng.standard_normal((6, 3)).astype(np.float32),
            rng.standard_normal((6, 2)).astype(np.float32))


def _per_sample_grads(lib):
    net = _Net.build(lib)
    params = {k: v.detach() for k, v in net.named_parameters()}
    buffers = dict(net.named_buffers())

    def loss(params, x, y):
        out = lib.func.functional_call(net, (params, buffers), (x[None],))
        return ((out - y[None]) ** 2).sum()

    x, y = (lib.tensor(a) for a in _data())
    grads = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    return {k: _np(v) for k, v in grads.items()}


def test_per_sample_gradients_are_torch_funcs(torch):
    ours, theirs = _per_sample_grads(funcgrad), _per_sample_grads(torch)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6)


def test_grad_and_value_returns_torch_funcs_order(torch):
    def f(lib, x):
        return (x.sin() ** 2).sum(), x.cos()

    for has_aux in (False, True):
        results = []
        for lib in (funcgrad, torch):
            fn = (lambda x, lib=lib: f(lib, x)) if has_aux else (lambda x, lib=lib: f(lib, x)[0])
            gradient, value = lib.func.grad_and_value(fn, has_aux=has_aux)(
                lib.tensor([0.3, -1.2, 2.0]))
            results.append([_np(gradient), *map(_np, value if has_aux else (value,))])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_functional_call_puts_the_modules_own_tensors_back(torch):
    net = _Net.build(funcgrad)
    before = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    x = funcgrad.tensor(_data()[0])
    zeros = {k: funcgrad.zeros_like(v) for k, v in before.items()}
    np.testing.assert_array_equal(_np(funcgrad.func.functional_call(net, zeros, (x,))), 0)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):  # inside the call
        funcgrad.func.functional_call(net, {"hidden.weight": funcgrad.zeros(2, 2)}, (x,))
    after = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    assert all(after[k] is v for k, v in before.items())
    t_net = _Net.build(torch)
    np.testing.assert_allclose(_np(net(x)), _np(t_net(torch.tensor(_data()[0]))), rtol=1e-6)


def _tied_and_loose(lib):
    layer = lib.nn.Linear(2, 2, bias=False)
    net = lib.nn.Sequential(layer, lib.nn.Tanh(), layer)  # one weight, two names
    x = lib.tensor([[0.5, -1.0]])
    w = lib.tensor([[1.0, 2.0], [-0.5, 0.25]])
    tied = lib.func.functional_call(net, {"0.weight": w}, (x,))
    loose = lib.func.functional_call(net, {"0.weight": w}, (x,), tie_weights=False)
    extra = lib.func.functional_call(net, {"0.weight": w, "0.extra": lib.ones(1)}, x)
    return [_np(tied), _np(loose), _np(extra), hasattr(net[0], "extra")]


def test_tied_weights_and_extra_names_are_torch_funcs(torch):
    ours, theirs = _tied_and_loose(funcgrad), _tied_and_loose(torch)
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert ours[3] == theirs[3] is False


@pytest.mark.parametrize("call", [
    lambda lib, net, x: lib.func.functional_call(
        net, {"hidden.weight": lib.ones(4, 3), "bogus": lib.ones(1)}, (x,), strict=True),
    lambda lib, net, x: lib.func.functional_call(
        net, ({"out.bias": lib.ones(2)}, {"out.bias": lib.zeros(2)}), (x,)),
], ids=["strict", "ambiguous"])
def test_functional_call_errors_are_torch_funcs(torch, call):
    raised = []
    for lib in (funcgrad, torch):
        with pytest.raises(Exception) as info:
            call(lib, _Net.build(lib), lib.tensor(_data()[0]))
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


def test_vmap_in_dims_and_out_dims_are_torch_funcs(torch):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1.0, -2.0], np.float32)
    results = []
    for lib in (funcgrad, torch):
        mapped = lib.func.vmap(lambda x, s: x * s + x.sum(), in_dims=(1, None), out_dims=1)
        results.append(_np(mapped(lib.tensor(a), lib.tensor(b))))
    np.testing.assert_allclose(*results, rtol=1e-6)


def test_vmap_indexes_a_captured_tensor_by_a_mapped_index_as_torch_funcs(torch):
    # Each element's index is a 0-d integer tensor: it indexes as an int does (failed before
    # inside func.vmap: its value was read to make a Python int).
    table = np.arange(12, dtype=np.float32).reshape(3, 4)
    results = []
    for lib in (funcgrad, torch):
        def element(i, j, captured=lib.tensor(table)):
            return captured[i, j] * 2 + captured[i].sum()

        per_pair = lib.func.vmap(lib.func.vmap(element, in_dims=(None, 0)), in_dims=(0, None))
        results.append(_np(per_pair(lib.tensor([2, 0]), lib.tensor([3, 1, -1]))))
    np.testing.assert_allclose(*results)


def test_vmap_randomness_and_chunk_size_are_torch_funcs(torch):
    from test_errors import assert_raises_as_torch

    def draw(lib, randomness):
        return lib.func.vmap(lambda t: t + lib.rand(2), randomness=randomness)(lib.zeros(4, 2))

    for lib in (funcgrad, torch):
        same, different = _np(draw(lib, "same")), _np(draw(lib, "different"))
        assert (same == same[0]).all() and len({tuple(row) for row in different}) == 4
        assert ((0 <= different) & (different < 1)).all()
    assert_raises_as_torch(torch, lambda lib: draw(lib, "error"))
    assert_raises_as_torch(torch, lambda lib: draw(lib, "sometimes"))
    assert_raises_as_torch(torch, lambda lib: lib.func.vmap(lambda t: t, chunk_size=0))
    assert_raises_as_torch(torch, lambda lib: lib.func.jacrev(lib.sin, chunk_size=0))
    # the default is 'error', and a failed draw leaves the global stream where it was
    funcgrad.manual_seed(3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        funcgrad.func.vmap(lambda t: funcgrad.nn.functional.dropout(t, 0.5))(funcgrad.ones(2, 2))
    after = funcgrad.rand(1).item()
    funcgrad.manual_seed(3)
    assert after == funcgrad.rand(1).item()
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    results = [(_np(lib.func.vmap(lambda t: t.sin() * t.sum(), chunk_size=3)(lib.tensor(x))),
                _np(lib.func.jacrev(lambda t: t.sin() * t.sum(), chunk_size=2)(lib.tensor(x[0]))))
               for lib in (funcgrad, torch)]
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_nested_vmaps_draw_per_pair_of_elements_with_different():
    funcgrad.manual_seed(0)
    inner = funcgrad.func.vmap(lambda t: t + funcgrad.rand(()), randomness="different")
    out = funcgrad.func.vmap(inner, randomness="different")(funcgrad.zeros(3, 4))
    assert out.shape == (3, 4) and len(set(out.flatten().tolist())) == 12
    per_row = funcgrad.func.vmap(inner, randomness="same")(funcgrad.zeros(3, 4))
    assert (per_row == per_row[0]).all() and len(set(per_row[0].tolist())) == 4


def _jacobians(lib) -> list[np.ndarray]:
    net = _Net.build(lib)
    params = {k: v.detach() for k, v in net.named_parameters()}
    x = lib.tensor(_data()[0][:2])

    def out(p):
        return lib.func.functional_call(net, p, (x,))

    jac = lib.func.jacrev(out)(params)
    hess = lib.func.hessian(lambda p: (out(p) ** 2).sum())(params)
    return [_np(jac[k]) for k in sorted(jac)] + [_np(hess["out.bias"][k])
                                                  for k in sorted(hess["out.bias"])]


# torch.func.hessian goes through torch.jit.script, which warns that it is deprecated.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_jacobians_of_a_module_output_are_torch_funcs(torch):
    for a, b in zip(_jacobians(funcgrad), _jacobians(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_an_ensemble_by_stack_module_state_matches_torch(torch):
    def run(lib):
        base = _Net.build(lib)
        models = [copy.deepcopy(base) for _ in range(3)]  # (one class, as stacking asks)
        with lib.no_grad():
            for i, m in enumerate(models):
                for p in m.parameters():
                    p.mul_(i + 1)
        params, buffers = lib.func.stack_module_state(models)
        x = lib.tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))

        def one(p, b):
            return lib.func.functional_call(models[0], (p, b), (x,))

        out = lib.func.vmap(one)(params, buffers)
        return (out, {k: (tuple(v.shape), v.requires_grad, v.is_leaf)
                      for k, v in {**params, **buffers}.items()})

    (ours, our_meta), (theirs, their_meta) = run(funcgrad), run(torch)
    assert our_meta == their_meta
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["none", "modes", "classes", "requires_grad"])
def test_stack_module_state_errors_match_torch(torch, case):
    def raised(lib):
        models = {"none": [], "modes": [lib.nn.Linear(1, 1), lib.nn.Linear(1, 1).eval()],
                  "classes": [lib.nn.Linear(1, 1), lib.nn.Identity()],
                  "requires_grad": [lib.nn.Linear(1, 1),
                                    lib.nn.Linear(1, 1).requires_grad_(False)]}[case]
        with pytest.raises(RuntimeError) as info:
            lib.func.stack_module_state(models)
        return str(info.value)

    assert raised(funcgrad) == raised(torch)


def test_linearize_matches_torch(torch):
    x0 = np.array([0.3, -1.2, 2.0], np.float32)

    def run(lib):
        with warnings.catch_warnings():
            if lib is not funcgrad:  # torch's traces with torch.jit and fx, which warn
                warnings.simplefilter("ignore")
            out, jvp_fn = lib.func.linearize(lambda x: (x.sin() * x).cumsum(0), lib.tensor(x0))
            return out, [jvp_fn(lib.tensor(t)) for t in np.eye(3, dtype=np.float32)]

    (out, jvps), (t_out, t_jvps) = run(funcgrad), run(torch)
    np.testing.assert_allclose(_np(out), _np(t_out), rtol=1e-6)
    for ours, theirs in zip(jvps, t_jvps):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-6)


def test_functionalize_keeps_results_and_input_mutations_as_torch(torch):
    def run(lib):
        def f(x, y):
            h = x * 2
            h.add_(y)
            y.mul_(3)
            return (h.sin() * y).sum()

        x = lib.tensor([0.5, -1.0, 2.0])
        y = lib.tensor([1.0, 0.25, -0.5])
        out = lib.func.functionalize(f)(x, y)
        g = lib.func.grad(lib.func.functionalize(f, remove="mutations_and_views"))(
            x, lib.tensor([1.0, 0.25, -0.5]))
        return out, y, g

    for ours, theirs in zip(run(funcgrad), run(torch)):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)


def test_functionalize_refuses_an_unknown_remove(torch):
    from test_errors import assert_raises_as_torch

    assert_raises_as_torch(torch, lambda lib: lib.func.functionalize(lambda x: x, remove="all"))


def test_replace_all_batch_norm_modules_drops_running_statistics(torch):
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),
                                lib.nn.BatchNorm1d(4, track_running_stats=False))
        root = lib.nn.ModuleDict({"net": net, "norm": lib.nn.InstanceNorm1d(
            4, track_running_stats=True)})
        with lib.no_grad():
            net[0].weight.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
        assert lib.func.replace_all_batch_norm_modules_(root) is root
        x = lib.tensor(np.linspace(-2, 2, 18).reshape(6, 3).astype(np.float32))
        flags = [getattr(m, "track_running_stats", None) for m in root.modules()]
        return list(root.state_dict()), flags, root.eval()["net"](x)

    (keys, flags, out), (t_keys, t_flags, t_out) = run(funcgrad), run(torch)
    assert keys == t_keys and flags == t_flags
    np.testing.assert_allclose(_np(out), _np(t_out), rtol=1e-5, atol=1e-6)


def test_debug_unwrap_gives_a_plain_tensor_back(torch):
    x = funcgrad.tensor([1.0, 2.0])
    t_x = torch.tensor([1.0, 2.0])
    assert funcgrad.func.debug_unwrap(x) is x
    assert torch.func.debug_unwrap(t_x) is t_x


# ----- vmap inside the stateful graph: gradients through its results, as torch.func.vmap's ---
def _grads(tensors) -> list:
    return [None if t.grad is None else _np(t.grad) for t in tensors]


def _assert_all_close(ours, theirs, rtol=1e-5, atol=1e-6) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_gradients_flow_through_vmap_to_inputs_and_closure_as_torch_funcs(torch):
    x_data, _ = _data()
    results = []
    for lib in (funcgrad, torch):
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        x = lib.tensor(x_data, requires_grad=True)
        shift = lib.tensor(0.3, requires_grad=True)
        per_row = lib.func.vmap(lambda r, s, w=w, shift=shift: (r * w).sum().sin() * s + shift,
                                in_dims=(0, None))
        scale = lib.tensor(2.0, requires_grad=True)
        for _ in range(3):  # the same layout again: accumulates, as any op's gradients
            out = per_row(x, scale)
            (out * lib.arange(6.0)).sum().backward()
        results.append((_np(out), *_grads([w, x, shift, scale])))
        assert out.requires_grad and out.grad_fn is not None
    _assert_all_close(*results)


def test_a_module_mapped_by_vmap_trains_as_torch_funcs(torch):
    x_data, y_data = _data()
    results = []
    for lib in (funcgrad, torch):
        net = _Net.build(lib)
        optimizer = lib.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            out = lib.func.vmap(net)(lib.tensor(x_data))
            loss = ((out - lib.tensor(y_data)) ** 2).mean()
            loss.backward()
            optimizer.step()
        results.append([_np(p) for p in net.parameters()] + [_np(loss)])
    _assert_all_close(*results)


def test_nested_vmaps_and_a_second_order_gradient_as_torch_funcs(torch):
    results = []
    for lib in (funcgrad, torch):
        w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        a = lib.tensor([1.0, -0.5, 2.0], requires_grad=True)
        b = lib.tensor([0.3, 0.7], requires_grad=True)
        pairs = lib.func.vmap(lib.func.vmap(lambda s, t, w=w: (w * s * t).tanh().sum(),
                                            in_dims=(None, 0)), in_dims=(0, None))
        out = pairs(a, b)
        (g,) = lib.autograd.grad(out.square().sum(), a, create_graph=True)
        (g * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((_np(out), _np(g), *_grads([w, a, b])))
    _assert_all_close(*results, rtol=1e-5, atol=1e-5)


def test_a_recorded_vmap_redraws_nothing(torch):
    # Dropout inside: the backward's pass through the op must use the forward's draw. Each
    # output element is kept (times 2) or dropped, so w's gradient is sum(out / w).
    w = funcgrad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    for randomness in ("different", "same"):
        w.grad = None
        funcgrad.manual_seed(1)
        mapped = funcgrad.func.vmap(lambda r: funcgrad.nn.functional.dropout(r * w, 0.5),
                                    randomness=randomness)
        out = mapped(funcgrad.ones(6, 4))
        out.sum().backward()
        np.testing.assert_allclose(_np(w.grad), _np(out / w).sum(0))
        assert 0 < int((out == 0).sum()) < 24
        funcgrad.manual_seed(1)
        with funcgrad.no_grad():  # the same draw as where nothing is recorded
            np.testing.assert_array_equal(_np(mapped(funcgrad.ones(6, 4))), _np(out))


def test_a_compiled_step_trains_through_vmap_as_eager():
    def make():
        w = funcgrad.nn.Parameter(funcgrad.tensor([0.5, -1.0, 2.0]))
        optimizer = funcgrad.optim.SGD([w], lr=0.1)
        x = funcgrad.tensor(_data()[0])

        def step():
            optimizer.zero_grad()
            loss = funcgrad.func.vmap(lambda r: (r * w).sum().tanh())(x).square().mean()
            loss.backward()
            optimizer.step()
            return loss

        return step, w

    (eager, w_eager), (compiled, w_compiled) = make(), make()
    compiled = funcgrad.compile(compiled)
    for _ in range(3):
        np.testing.assert_allclose(compiled().item(), eager().item(), rtol=1e-6)
    np.testing.assert_allclose(_np(w_compiled), _np(w_eager), rtol=1e-6)
    assert not np.allclose(_np(w_eager), [0.5, -1.0, 2.0])


def test_vmap_of_a_function_changing_its_closure_in_place_is_refused():
    w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    counts = funcgrad.zeros(2)

    def counting(r):
        counts.add_(1)
        return r * w

    with pytest.raises(RuntimeError, match="vmap changed a tensor from outside it in place"):
        funcgrad.func.vmap(counting)(funcgrad.ones(3, 2))
    np.testing.assert_array_equal(_np(counts), [0.0, 0.0])  # and is left as it was


def test_vmap_results_need_no_graph_when_nothing_requires_grad():
    w = funcgrad.tensor([1.0, 2.0])
    out = funcgrad.func.vmap(lambda r: r * w)(funcgrad.ones(3, 2))
    assert out.grad_fn is None and not out.requires_grad
    with funcgrad.no_grad():
        assert funcgrad.func.vmap(lambda r: r * w.requires_grad_())(
            funcgrad.ones(3, 2)).grad_fn is None


def _sines(w, vector: bool):
    def f(v):
        out = (v * w).sin()
        return out if vector else out.sum()

    return f


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("transform", ["grad", "grad_and_value", "jacrev", "jacfwd", "hessian"])
def test_torch_func_results_can_be_differentiated_by_backward_as_torchs(torch, transform):
    results = []
    for lib in (funcgrad, torch):
        w = lib.tensor([1.0, 2.0, -0.5], requires_grad=True)
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)

        out = getattr(lib.func, transform)(_sines(w, vector=transform in ("jacrev", "jacfwd")))(x)
        out = out[0] if transform == "grad_and_value" else out
        assert out.requires_grad
        (out * lib.linspace(0.5, 2.0, out.numel()).reshape(out.shape)).sum().backward()
        results.append((_np(out), _np(w.grad), _np(x.grad)))
    _assert_all_close(*results)
