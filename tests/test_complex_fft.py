"""Complex tensors and ``funcgrad.fft`` against torch: printing, the complex ops, gradients in
torch's convention (for a complex leaf and a real loss, the conjugate Wirtinger form: 2z for
``|z|^2``), and every transform's values, dtype, ``grad_fn`` name, gradient and errors; then
float64 finite differences of real-input, real-output compositions (spectral losses).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from funcgrad.autograd import gradcheck
from test_errors import assert_raises_as_torch

RNG = np.random.default_rng(0)
REAL = RNG.standard_normal((4, 6)).astype(np.float32)
CPLX = (RNG.standard_normal((4, 6)) + 1j * RNG.standard_normal((4, 6))).astype(np.complex64)
WEIGHTS = RNG.standard_normal((8, 12)).astype(np.float32)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def values(t) -> np.ndarray:
    """A tensor of either library as a NumPy array (torch's conjugate bit resolved)."""
    t = t.detach()
    return np.asarray(t.resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy())


# ----- printing --------------------------------------------------------------------------------
PRINTED = ["[1+2j, 3-1j]", "[[1.5+2j, -3.25-1e-5j], [0j, 1j]]", "2-0j", "[1e10+1j, 2j]",
           "[-0.0-0.0j, 1.123456+7j]", "[float('nan')+1j, float('inf')-2j]", "[]"]


@pytest.mark.parametrize("data", PRINTED)
def test_complex_prints_as_torch(torch, data) -> None:
    assert repr(funcgrad.tensor(eval(data))) == repr(torch.tensor(eval(data)))


def test_long_and_grad_tracking_complex_print_as_torch(torch) -> None:
    def make(lib):
        re = lib.arange(1500.0, requires_grad=True)
        return lib.complex(re, lib.ones(1500)) * 2

    assert repr(make(funcgrad)) == repr(make(torch))


def _complex_reprs(lib) -> list[str]:
    """Complex reprs under each default float dtype: the default complex dtype follows it."""
    reprs = []
    for default in (lib.float32, lib.float64):
        lib.set_default_dtype(default)
        try:
            reprs += [repr(lib.tensor([1j])), repr(lib.tensor([1j], dtype=lib.complex64)),
                      repr(lib.tensor([1j], dtype=lib.complex128)),
                      repr(lib.fft.rfft(lib.tensor([1.0, 2.0])))]
        finally:
            lib.set_default_dtype(lib.float32)
    return [r.replace("torch", "funcgrad") for r in reprs]


def test_default_complex_dtype_follows_the_default_float_as_torch(torch) -> None:
    with jax.enable_x64(True):
        ours = _complex_reprs(funcgrad)
    assert ours == _complex_reprs(torch)


# ----- the complex ops -------------------------------------------------------------------------
OPS = {
    "conj": lambda T, z, x: z.conj(),
    "conj_physical": lambda T, z, x: T.conj_physical(z),
    "real": lambda T, z, x: z.real,
    "imag": lambda T, z, x: T.imag(z),
    "abs": lambda T, z, x: z.abs(),
    "angle": lambda T, z, x: z.angle(),
    "angle_of_real": lambda T, z, x: T.angle(x),
    "complex": lambda T, z, x: T.complex(x, x * 2),
    "polar": lambda T, z, x: T.polar(x.abs(), x),
    "view_as_real": lambda T, z, x: T.view_as_real(z),
    "view_as_complex": lambda T, z, x: T.view_as_complex(T.stack([x, x * 3], -1)),
    "sgn": lambda T, z, x: z.sgn(),
    "mul": lambda T, z, x: z * z.conj(),
    "div": lambda T, z, x: z / (x + 3),
    "exp": lambda T, z, x: z.exp(),
    "sqrt": lambda T, z, x: z.sqrt(),
    "sigmoid": lambda T, z, x: T.sigmoid(z),
    "sum": lambda T, z, x: z.sum(),
    "matmul": lambda T, z, x: z[None] @ z[:, None],
    "real_times_j": lambda T, z, x: x * (1 + 2j),
}


@pytest.mark.parametrize("name", OPS)
def test_complex_op_matches_torch(torch, name) -> None:
    """Value, dtype and grad_fn name, then the gradients of a real loss of the result, for the
    complex leaf z and the real leaf x."""
    results = []
    for lib in (funcgrad, torch):
        z = lib.tensor([1 + 2j, 3 - 1j, -0.5 + 0.25j], requires_grad=True)
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = OPS[name](lib, z, x)
        loss = (y.abs() ** 2).sum() + (y.real.sum() if y.is_complex() else y.sum())
        loss.backward()
        results.append((y, z.grad, x.grad))
    (ours, oz, ox), (theirs, tz, tx) = results
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-5, atol=1e-6)
    assert values(ours).dtype == values(theirs).dtype
    for g, h in ((oz, tz), (ox, tx)):
        assert (g is None) == (h is None)
        if g is not None:
            np.testing.assert_allclose(values(g), values(h), rtol=1e-4, atol=1e-5)


def test_isreal_is_complex_and_real_passthrough(torch) -> None:
    for lib in (funcgrad, torch):
        z, x = lib.tensor([1 + 0j, 2j]), lib.tensor([1.0, 2.0])
        assert lib.isreal(z).tolist() == [True, False] and lib.isreal(x).tolist() == [True, True]
        assert lib.is_complex(z) and not x.is_complex()
        assert x.conj() is x and x.real is x and z.resolve_conj() is z


def test_grad_of_abs_squared_is_two_z(torch) -> None:
    """The closed form of torch's convention: d(sum |z|^2) gives 2z."""
    z = funcgrad.tensor([1 + 2j, -3 + 0.5j], requires_grad=True)
    (z.abs() ** 2).sum().backward()
    np.testing.assert_allclose(values(z.grad), 2 * np.array([1 + 2j, -3 + 0.5j]), rtol=1e-6)


def _gradient_paths(lib):
    """A holomorphic and a non-holomorphic step, a hook, a retained complex intermediate, an
    explicit complex gradient, and autograd.grad."""
    z = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    x = lib.tensor([0.5, -1.5], requires_grad=True)
    w = (z * z + lib.complex(x, x.exp())).exp() * 0.1
    w.retain_grad()
    seen = []
    w.register_hook(lambda g: seen.append(values(g)))
    u = w.conj() * w + w.sin()
    u.backward(lib.tensor([1 - 1j, 0.5 + 2j]), retain_graph=True)
    grads = [values(z.grad), values(x.grad), values(w.grad), seen[0]]
    (gz,) = lib.autograd.grad(u.abs().sum(), z)
    return [*grads, values(gz)]


def test_gradient_conventions_match_torch_everywhere_the_user_sees_them(torch) -> None:
    for ours, theirs in zip(_gradient_paths(funcgrad), _gradient_paths(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_complex_second_derivative_matches_torch(torch) -> None:
    results = []
    for lib in (funcgrad, torch):
        z = lib.tensor([1 + 2j, 0.5 - 1j], requires_grad=True)
        (g,) = lib.autograd.grad((z * z * z).abs().sum(), z, create_graph=True)
        (h,) = lib.autograd.grad((g.abs() ** 2).sum(), z)
        results.append((values(g), values(h)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def _of_complex(name: str, operands: int):
    """A scenario calling ``name`` on complex tensors, which torch refuses."""
    return lambda T: getattr(T, name)(*[T.tensor([1j, 2.0])] * operands)


COMPLEX_ERRORS = {
    "imag_of_real": lambda T: T.tensor([1.0]).imag,
    "view_as_real_of_real": lambda T: T.view_as_real(T.tensor([1.0])),
    "view_as_complex_last_dim": lambda T: T.view_as_complex(T.ones(2, 3)),
    "view_as_complex_int": lambda T: T.view_as_complex(T.ones(2, 2, dtype=T.int32)),
    "complex_of_ints": lambda T: T.complex(T.ones(2, dtype=T.int32), T.ones(2, dtype=T.int32)),
    "complex_mixed": lambda T: T.complex(T.ones(2), T.ones(2, dtype=T.float16)),
    "polar_of_complex": lambda T: T.polar(T.tensor([1j]), T.tensor([1j])),
    "implicit_complex_backward": lambda T: (T.tensor(1j, requires_grad=True) * 2).backward(),
    **{f"{name}_of_complex": _of_complex(name, 1)
       for name in ("floor", "ceil", "round", "trunc", "sign", "relu")},
    **{f"{name}_of_complex": _of_complex(name, 2)
       for name in ("lt", "le", "gt", "ge", "maximum", "minimum")},
    **{f"{name}_of_complex": _of_complex(name, 1)
       for name in ("max", "min", "amax", "amin", "argmax", "argmin", "sort", "argsort")},
    "max_dim_of_complex": lambda T: T.tensor([1j, 2.0]).max(0),
    "clamp_of_complex": lambda T: T.tensor([1j]).clamp(0, 1),
    "lt_operator_of_complex": lambda T: T.tensor([1j], dtype=T.complex64) < 0,
}


@pytest.mark.parametrize("name", COMPLEX_ERRORS)
def test_complex_errors_match_torch(torch, name) -> None:
    assert_raises_as_torch(torch, COMPLEX_ERRORS[name])


# ----- funcgrad.fft ----------------------------------------------------------------------------
FFT_CASES = [(name, kw) for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
             for kw in ({}, dict(n=5), dict(n=8, dim=0, norm="ortho"), dict(norm="forward"))]
FFT_CASES += [(name, kw) for name in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
                                      "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn")
              for kw in ({}, dict(s=(3, 5)), dict(s=(5, 4), dim=(1, 0), norm="ortho"),
                         dict(dim=(0,), norm="forward"))]
FFT_CASES += [(name, kw) for name in ("fftshift", "ifftshift")
              for kw in ({}, dict(dim=1), dict(dim=(0, 1)))]


def _transform(lib, name, kw, data):
    """The transform's result and the input's gradient of a weighted real sum of it (complex
    results through their real view), or the exception raised."""
    a = lib.tensor(data, requires_grad=True)
    try:
        y = getattr(lib.fft, name)(a, **kw)
    except Exception as e:  # noqa: BLE001 - compared with torch's below
        return e
    w = lib.tensor(WEIGHTS[tuple(slice(0, n) for n in y.shape)])
    if y.is_complex():
        loss = (lib.view_as_real(y.resolve_conj()) * lib.stack([w, w * 0.5], -1)).sum()
    else:
        loss = (y * w).sum()
    loss.backward()
    return y, a.grad


@pytest.mark.parametrize("data", [REAL, CPLX], ids=["real", "complex"])
@pytest.mark.parametrize(("name", "kw"), FFT_CASES, ids=[f"{n}-{kw}" for n, kw in FFT_CASES])
def test_fft_matches_torch(torch, name, kw, data) -> None:
    ours, theirs = _transform(funcgrad, name, kw, data), _transform(torch, name, kw, data)
    if isinstance(theirs, Exception):  # a real-only transform of a complex input
        assert type(ours) is type(theirs) and str(ours) == str(theirs)
        return
    (y, g), (ty, tg) = ours, theirs
    assert y.grad_fn.name() == ty.grad_fn.name()
    assert values(y).dtype == values(ty).dtype and tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(values(y), values(ty), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(values(g), values(tg), rtol=1e-3, atol=1e-3)


def test_fft_of_integers_is_in_the_default_float(torch) -> None:
    assert (repr(funcgrad.fft.fft(funcgrad.tensor([1, 2, 3])))
            == repr(torch.fft.fft(torch.tensor([1, 2, 3]))))


@pytest.mark.parametrize(("fn", "args"), [("fftfreq", (5,)), ("fftfreq", (4, 0.25)),
                                          ("rfftfreq", (6, 0.5)), ("rfftfreq", (7,))])
def test_frequencies_match_torch(torch, fn, args) -> None:
    assert repr(getattr(funcgrad.fft, fn)(*args)) == repr(getattr(torch.fft, fn)(*args))
    assert (repr(getattr(funcgrad.fft, fn)(*args, requires_grad=True))
            == repr(getattr(torch.fft, fn)(*args, requires_grad=True)))


FFT_ERRORS = {
    "norm": lambda T: T.fft.fft(T.ones(4), norm="bad"),
    "dim": lambda T: T.fft.fft(T.ones(2, 3), dim=5),
    "n_zero": lambda T: T.fft.rfft(T.ones(4), n=0),
    "rfft_complex": lambda T: T.fft.rfft(T.ones(4, dtype=T.complex64)),
    "rfft2_complex": lambda T: T.fft.rfft2(T.ones(2, 4, dtype=T.complex64)),
    "ihfft_complex": lambda T: T.fft.ihfft(T.ones(4, dtype=T.complex64)),
    "s_and_dim": lambda T: T.fft.fftn(T.ones(2, 3), s=(3,), dim=(0, 1)),
    "fft2_of_vector": lambda T: T.fft.fft2(T.ones(3)),
    "ihfftn_complex": lambda T: T.fft.ihfftn(T.ones(2, 4, dtype=T.complex64)),
}


@pytest.mark.parametrize("name", FFT_ERRORS)
def test_fft_errors_match_torch(torch, name) -> None:
    assert_raises_as_torch(torch, FFT_ERRORS[name])


# ----- float64 finite differences of spectral losses -------------------------------------------
SPECTRAL = {
    "power_spectrum": lambda x: funcgrad.fft.rfft(x).abs() ** 2,
    "ortho_roundtrip": lambda x: funcgrad.fft.irfft(funcgrad.fft.rfft(x, norm="ortho") * 1j
                                                    + x[..., :4], n=6, norm="ortho"),
    "fft2_phase": lambda x: funcgrad.fft.fft2(x, s=(5, 7)).angle(),
    "ifftn_real_imag": lambda x: funcgrad.fft.ifftn(x).real * funcgrad.fft.ifftn(x).imag,
    "hfft_ihfft": lambda x: funcgrad.fft.hfft(funcgrad.fft.ihfft(x.exp()), n=7),
    "shifted": lambda x: funcgrad.fft.fftshift(funcgrad.view_as_real(funcgrad.fft.fft(x)), 0),
    "polar_complex": lambda x: funcgrad.view_as_real(
        funcgrad.polar(x.exp(), x) * funcgrad.complex(x, -x).conj()),
}


@pytest.mark.parametrize("name", SPECTRAL)
def test_spectral_gradients_match_finite_differences(name) -> None:
    with jax.enable_x64(True):
        x = funcgrad.tensor(RNG.standard_normal((3, 6)), dtype=funcgrad.float64,
                            requires_grad=True)
        assert gradcheck(SPECTRAL[name], (x,))


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager"])
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])
def test_complex_grads_are_the_same_in_every_tier(monkeypatch, lazy, compiled) -> None:
    """Repeated steps reach the whole-graph tier; ``inputs=`` takes the captured path. The
    closed form: d(sum |z|^2 + |x|^2) is 2z for the complex leaf and 2x for the real one."""
    monkeypatch.setattr(funcgrad.config, "lazy", lazy)
    monkeypatch.setattr(funcgrad.config, "compiled_backward", compiled)
    z0, x0 = np.array([1 + 2j, -3 + 0.5j], np.complex64), np.array([0.5, -2.0], np.float32)
    for _ in range(4):
        z = funcgrad.tensor(z0, requires_grad=True)
        x = funcgrad.tensor(x0, requires_grad=True)
        loss = (funcgrad.complex(x, x * 0).abs() ** 2).sum() + (z.abs() ** 2).sum()
        loss.backward(retain_graph=True)
        np.testing.assert_allclose(values(z.grad), 2 * z0, rtol=1e-6)
        np.testing.assert_allclose(values(x.grad), 2 * x0, rtol=1e-6)
        z.grad = None
        loss.backward(inputs=[z])
        np.testing.assert_allclose(values(z.grad), 2 * z0, rtol=1e-6)


def _custom_square(lib):
    """A Function whose backward is written in torch's convention: the incoming gradient
    times the conjugate derivative."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved_tensors
            return grad * 2 * z.conj()

    z = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (Square.apply(z).exp().abs() ** 2).sum().backward()
    return values(z.grad)


def test_function_backward_takes_and_gives_torch_convention(torch) -> None:
    np.testing.assert_allclose(_custom_square(funcgrad), _custom_square(torch), rtol=1e-4)


def _func_gradients(lib):
    """torch.func's grad, grad_and_value and vjp of complex functions, under vmap too."""
    z = lib.tensor([[1 + 2j, 3 - 1j], [0.5j, -2.0 + 0j]])
    loss = lambda z: (z.abs() ** 2 + z.imag * z.real).sum()  # noqa: E731
    _, pullback = lib.func.vjp(lambda z: z * z.exp(), z)
    return [values(lib.func.grad(loss)(z)), values(lib.func.grad_and_value(loss)(z)[0]),
            values(pullback(lib.ones_like(z) * (1 - 2j))[0]),
            values(lib.func.vmap(lib.func.grad(loss))(z))]


def test_func_transforms_give_torch_convention(torch) -> None:
    for ours, theirs in zip(_func_gradients(funcgrad), _func_gradients(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)
