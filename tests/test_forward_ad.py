"""Forward-mode AD on stateful tensors (``autograd.forward_ad``) against torch's: tangents of
ops, in-place writes, grad mode, reverse-over-forward, printing and errors."""

import numpy as np
import pytest
from tests._compare import same_as_torch

import funcgrad
import funcgrad.autograd.forward_ad as fwAD

torch = pytest.importorskip("torch")
# torch's make_dual loads its JVP decompositions on first use, which script them with
# torch.jit, which warns that it is deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

X = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]]
V = [[1.0, 0.5, -2.0], [0.25, -1.0, 3.0]]
Y = [[2.0, 0.4, -1.0], [0.6, 1.1, 0.9]]
W = [[0.3, -0.2], [0.1, 0.5], [-0.4, 0.6]]

# (id, function of (T, x, y)): x is always dual, y dual where the case says so.
CASES = [
    ("sin", lambda T, x, y: T.sin(x)),
    ("exp", lambda T, x, y: x.exp()),
    ("tanh", lambda T, x, y: T.tanh(x)),
    ("sigmoid", lambda T, x, y: T.sigmoid(x)),
    ("abs", lambda T, x, y: x.abs()),
    ("pow", lambda T, x, y: x ** 3),
    ("rpow", lambda T, x, y: 2.0 ** x),
    ("clamp", lambda T, x, y: T.clamp(x, -1.0, 1.0)),
    ("floor", lambda T, x, y: T.floor(x)),
    ("add", lambda T, x, y: x + y),
    ("mul", lambda T, x, y: x * y),
    ("div", lambda T, x, y: x / y),
    ("scalar", lambda T, x, y: 3 * x - 1.5),
    ("maximum", lambda T, x, y: T.maximum(x, y)),
    ("where", lambda T, x, y: T.where(x > 0, x, y)),
    ("atan2", lambda T, x, y: T.atan2(x, y)),
    ("sum", lambda T, x, y: x.sum()),
    ("mean_dim", lambda T, x, y: x.mean(1)),
    ("norm", lambda T, x, y: T.linalg.norm(x)),
    ("logsumexp", lambda T, x, y: T.logsumexp(x, 1)),
    ("max_dim", lambda T, x, y: T.max(x, 1).values),
    ("cumsum", lambda T, x, y: T.cumsum(x, 1)),
    ("matmul", lambda T, x, y: x @ T.tensor(W)),
    ("outer", lambda T, x, y: x.t() @ y),
    ("index", lambda T, x, y: x[1, ::2]),
    ("reshape", lambda T, x, y: x.reshape(3, 2).t()),
    ("cat", lambda T, x, y: T.cat([x, y], 0)),
    ("stack", lambda T, x, y: T.stack([x, 2 * y])),
    ("softmax", lambda T, x, y: T.softmax(x, 1)),
    ("log_softmax", lambda T, x, y: T.nn.functional.log_softmax(x, 1)),
    ("layer_norm", lambda T, x, y: T.nn.functional.layer_norm(x, (3,))),
    ("gelu", lambda T, x, y: T.nn.functional.gelu(x)),
    ("mse", lambda T, x, y: T.nn.functional.mse_loss(x, y)),
    ("cross_entropy", lambda T, x, y: T.nn.functional.cross_entropy(x, T.tensor([2, 0]))),
    ("linear", lambda T, x, y: T.nn.functional.linear(x, y, T.tensor([0.1, -0.2]))),
    ("det", lambda T, x, y: T.linalg.det(x @ y.t())),
]


def _tangent(fn, dual_y: bool):
    def scenario(T):
        ad = T.autograd.forward_ad
        with ad.dual_level():
            x = ad.make_dual(T.tensor(X), T.tensor(V))
            y = ad.make_dual(T.tensor(Y), T.tensor(X)) if dual_y else T.tensor(Y)
            primal, tangent = ad.unpack_dual(fn(T, x, y))
            return primal, tangent
    return scenario


@pytest.mark.parametrize("dual_y", [False, True], ids=["y_plain", "y_dual"])
@pytest.mark.parametrize("fn", [fn for _, fn in CASES], ids=[name for name, _ in CASES])
def test_tangents_match_torch(fn, dual_y):
    same_as_torch(_tangent(fn, dual_y), rtol=1e-5, atol=1e-5)


def test_tangent_is_the_jvp_funcgrad_func_computes():
    """A closed reference of its own: the same Jacobian-vector product by ``func.jvp``."""
    def f(x):
        return funcgrad.tanh(x @ funcgrad.tensor(W)).sum(0)

    x, v = funcgrad.tensor(X), funcgrad.tensor(V)
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
    _, expected = funcgrad.func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(tangent.numpy(), expected.numpy(), rtol=1e-6)


def test_printing_matches_torch():
    def scenario(T):
        ad = T.autograd.forward_ad
        with ad.dual_level():
            leaf = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
            d = ad.make_dual(leaf, T.tensor([1.0, 0.0, 0.5]))
            plain = ad.make_dual(T.tensor(2.0), T.tensor(1.0))
            shown = [repr(d), repr((d ** 2).sum()), repr(plain * 3), repr(plain > 1),
                     str(ad.unpack_dual(d)), repr(ad.unpack_dual(d).primal)]
        return shown + [repr(ad.unpack_dual(plain))]

    expected = scenario(torch)
    assert scenario(funcgrad) == [s.replace("torch", "funcgrad") for s in expected]


def test_in_place_writes_carry_tangents_as_torch():
    def scenario(T):
        ad = T.autograd.forward_ad
        results = []
        with ad.dual_level():
            x = T.tensor([1.0, -2.0, 3.0])
            d = ad.make_dual(x, T.tensor([1.0, 0.5, 0.25]))
            writes = [
                lambda e: e.mul_(2), lambda e: e.add_(1), lambda e: e.zero_(),
                lambda e: e.fill_(2.0), lambda e: e.sign_(), lambda e: e.copy_(x),
                lambda e: e.__setitem__(1, d[0] * 5), lambda e: e.clamp_(max=2.0),
            ]
            for write in writes:
                e = d.clone()
                write(e)
                results.append(tuple(ad.unpack_dual(e)))
            for write in (lambda e: e.copy_(d), lambda e: e.add_(d),
                          lambda e: e.__setitem__(1, d[0] * 5)):
                e = x.clone()  # no tangent until the write brings one
                write(e)
                results.append(tuple(ad.unpack_dual(e)))
            d.mul_(2)  # the dual itself, and x with it: it shares x's storage
            results += [tuple(ad.unpack_dual(d)), x]
        return results

    same_as_torch(scenario)


def test_tangents_flow_under_no_grad_and_detach_drops_them():
    def scenario(T):
        ad = T.autograd.forward_ad
        with ad.dual_level():
            d = ad.make_dual(T.tensor([1.0, 2.0]), T.tensor([3.0, -1.0]))
            with T.no_grad():
                z = d * d
            return tuple(ad.unpack_dual(z)), ad.unpack_dual(d.detach()).tangent

    same_as_torch(scenario)


def test_reverse_over_forward():
    """A tangent computed with grad mode on is recorded: its gradient with respect to the
    primal (a Hessian-vector product) and to the tangent (a gradient)."""
    def scenario(T):
        ad = T.autograd.forward_ad
        x = T.tensor([0.5, 1.0, -1.5], requires_grad=True)
        v = T.tensor([1.0, -2.0, 0.5], requires_grad=True)
        with ad.dual_level():
            y = (T.sin(ad.make_dual(x, v)) * ad.make_dual(T.tensor([2.0, 1.0, 3.0]),
                                                           T.tensor([0.0, 1.0, 1.0]))).sum()
            tangent = ad.unpack_dual(y).tangent
            tangent.backward()
        return tangent, x.grad, v.grad

    same_as_torch(scenario)


def test_leaving_the_level_forgets_every_tangent():
    def scenario(T):
        ad = T.autograd.forward_ad
        with ad.dual_level() as level:
            y = ad.make_dual(T.tensor([1.0]), T.tensor([2.0])) * 3
        after = ad.unpack_dual(y)
        return level, after.tangent, repr(y), ad.enter_dual_level(), ad.exit_dual_level()

    expected = scenario(torch)
    assert scenario(funcgrad) == expected


def test_dual_level_decorates():
    def scenario(T):
        ad = T.autograd.forward_ad

        @ad.dual_level()
        def jvp(x, v):
            return ad.unpack_dual(T.exp(ad.make_dual(x, v))).tangent

        return jvp(T.tensor([0.0, 1.0]), T.tensor([1.0, 1.0])), tuple(ad.unpack_dual(T.ones(1)))

    same_as_torch(scenario)


def test_results_do_not_depend_on_the_lazy_tier():
    def run():
        with fwAD.dual_level():
            d = fwAD.make_dual(funcgrad.tensor(X), funcgrad.tensor(V))
            return [t.numpy() for t in fwAD.unpack_dual(funcgrad.tanh(d @ funcgrad.tensor(W)))]

    lazy = run()
    funcgrad.config.lazy = False
    try:
        eager = run()
    finally:
        funcgrad.config.lazy = True
    np.testing.assert_array_equal(lazy, eager)


ERRORS = [
    ("no level", lambda T, ad: ad.make_dual(T.ones(2), T.ones(2)), False),
    ("integer primal", lambda T, ad: ad.make_dual(T.tensor([1, 2]), T.ones(2)), True),
    ("integer tangent", lambda T, ad: ad.make_dual(T.ones(2), T.tensor([1, 2])), True),
    ("size", lambda T, ad: ad.make_dual(T.ones(3), T.ones(2)), True),
    ("nested", lambda T, ad: ad.enter_dual_level(), True),
    ("wrong level", lambda T, ad: ad.make_dual(T.ones(2), T.ones(2), level=3), True),
    ("dual of a dual",
     lambda T, ad: ad.make_dual(ad.make_dual(T.ones(2), T.ones(2)), T.ones(2)), True),
    ("exit another level", lambda T, ad: ad.exit_dual_level(level=5), True),
    ("exit without a level", lambda T, ad: ad.exit_dual_level(), False),
]


@pytest.mark.parametrize("make, inside", [(make, inside) for _, make, inside in ERRORS],
                         ids=[name for name, _, _ in ERRORS])
def test_errors_match_torch(make, inside):
    def scenario(T):
        ad = T.autograd.forward_ad
        level = ad.enter_dual_level() if inside else None
        try:
            make(T, ad)
        except (RuntimeError, ValueError) as e:
            return type(e).__name__, str(e).replace("torch.int64", "int")
        finally:
            if level is not None:
                ad.exit_dual_level()
        return None

    expected = scenario(torch)
    assert expected is not None
    got = scenario(funcgrad)
    assert got == (expected[0], expected[1].replace("torch.", "funcgrad.")) or (
        got[1].replace("funcgrad.int32", "int") == expected[1])
    assert funcgrad.autograd.forward_ad.unpack_dual(funcgrad.ones(1)).tangent is None


def test_a_tangent_of_another_dtype_is_refused_and_changes_nothing():
    """torch keeps such a tangent as given; JAX's JVP needs the primal's dtype, so funcgrad
    asks for the conversion."""
    x = funcgrad.tensor([1.0, 2.0])
    with fwAD.dual_level():
        with pytest.raises(ValueError, match=r"the primal is funcgrad.float32 and the tangent "
                           r"funcgrad.float16. Convert the tangent first: "
                           r"tangent.to\(funcgrad.float32\)"):
            fwAD.make_dual(x, funcgrad.ones(2, dtype=funcgrad.float16))
        assert fwAD.unpack_dual(x).tangent is None


def test_max_unpool_tangent_matches_torch():
    """max_unpool's values are put, not added, but its derivatives are those of adding them
    (see nn.functional._put_last): without repeated indices the two agree."""
    def scenario(T):
        ad, F = T.autograd.forward_ad, T.nn.functional
        out, indices = F.max_pool1d(T.tensor([[[1.0, 5.0, 3.0, 2.0, 0.5, 7.0]]]), 2,
                                    return_indices=True)
        with ad.dual_level():
            dual = ad.make_dual(out, T.tensor([[[1.0, 2.0, 3.0]]]))
            return tuple(ad.unpack_dual(F.max_unpool1d(dual, indices, 2)))

    same_as_torch(scenario)


def _scaled_product(T):
    """A Function with a ``jvp``: (x * y * k, x + y)."""
    class ScaledProduct(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_forward(x, y)
            ctx.k = k
            return x * y * k, x + y

        @staticmethod
        def backward(ctx, g, h):
            return None, None, None

        @staticmethod
        def jvp(ctx, tx, ty, tk):
            x, y = ctx.saved_tensors
            return (tx * y + x * ty) * ctx.k, tx + ty

    return ScaledProduct


def test_function_jvp_gives_tangents_as_torch():
    def scenario(T):
        ad = T.autograd.forward_ad
        y = T.tensor([3.0, 4.0], requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(T.ones(2), T.tensor([1.0, 2.0]))
            first, second = _scaled_product(T).apply(d, y, 2.0)
            shown = [repr(first), repr(second)]
            tangent = ad.unpack_dual(first).tangent
        tangent.sum().backward()  # the tangent's graph runs through the saved y
        return shown, y.grad

    expected = scenario(torch)
    got = scenario(funcgrad)
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1].numpy(), expected[1].numpy())


def test_function_without_jvp_refuses_dual_inputs_as_torch():
    def scenario(T):
        class Double(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        ad = T.autograd.forward_ad
        with ad.dual_level():
            with pytest.raises(NotImplementedError) as caught:
                Double.apply(ad.make_dual(T.ones(2), T.ones(2)))
            return str(caught.value), repr(Double.apply(T.ones(2)))

    assert scenario(funcgrad) == scenario(torch)
