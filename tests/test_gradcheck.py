"""``autograd.gradcheck`` and ``gradgradcheck``: they pass on correct gradients, catch wrong
ones (first and second order) with torch's report, and refuse inputs they cannot check."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from funcgrad.autograd import GradcheckError, gradcheck, gradgradcheck


def _wrong_sin(lib):
    """sin whose backward forgets the cos(x) factor."""

    class WrongSin(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sin()

        @staticmethod
        def backward(ctx, grad):
            return grad

    return WrongSin


class FlatCube(funcgrad.autograd.Function):
    """x ** 3 with the right first derivative, computed so that it has no derivative itself."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * funcgrad.stop_gradient(x) ** 2


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _double(values, requires_grad=True):
    return funcgrad.tensor(values, dtype=funcgrad.float64, requires_grad=requires_grad)


def test_passes_with_several_inputs_and_outputs() -> None:
    x, w = _double([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]), _double([0.2, -0.4, 0.9])
    scale = _double(3.0, requires_grad=False)

    def f(x, w, scale, power):
        return (x * w).sum(1) ** power * scale, x.argmax(1), (x @ w).exp()

    assert gradcheck(f, (x, w, scale, 2))


def test_reports_the_two_jacobians() -> None:
    values = np.array([0.5, 1.5])
    with pytest.raises(GradcheckError) as info:
        gradcheck(_wrong_sin(funcgrad).apply, _double(values))
    numerical = funcgrad.tensor(np.diag(np.cos(values)))
    analytical = funcgrad.tensor(np.eye(2))
    assert str(info.value) == (
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        f"numerical:{numerical}\nanalytical:{analytical}\n"
    )
    assert gradcheck(_wrong_sin(funcgrad).apply, _double(values), raise_exception=False) is False


def test_names_the_output_and_input_that_mismatch() -> None:
    def f(x, y):
        return x * y, x + _wrong_sin(funcgrad).apply(y)

    with pytest.raises(GradcheckError, match="for output 1 with respect to input 1,"):
        gradcheck(f, (_double([0.5, 1.0]), _double([1.5, 2.0])))


def test_same_report_as_torch() -> None:
    torch = pytest.importorskip("torch")
    values = [0.5, 1.5, -0.3]
    with pytest.raises(GradcheckError) as ours:
        gradcheck(_wrong_sin(funcgrad).apply, _double(values))
    with pytest.raises(RuntimeError) as theirs:
        torch.autograd.gradcheck(_wrong_sin(torch).apply,
                                 torch.tensor(values, dtype=torch.float64, requires_grad=True))
    assert str(ours.value) == str(theirs.value).replace("torch.", "funcgrad.")


def test_without_differentiable_outputs_the_numerical_jacobian_must_be_zero() -> None:
    x = _double([0.5, 1.5])
    assert gradcheck(lambda t: t.argmax(), x)
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda t: t.detach() * 2, x)


def test_refuses_float32_inputs_and_says_how_to_get_float64() -> None:
    x = funcgrad.tensor([0.5, 1.5], requires_grad=True)
    with pytest.raises(ValueError, match=r"Input #0 requires gradient and is funcgrad\.float32.*"
                                         r"jax\.enable_x64\(True\)"):
        gradcheck(funcgrad.sin, x)


def test_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(funcgrad.sin, _double([0.5], requires_grad=False))


def test_gradgradcheck_passes_on_true_second_derivatives() -> None:
    x, y = _double([0.5, -1.5]), _double([2.0, 0.3])
    assert gradgradcheck(lambda a, b: (a ** 3 * b.sin(), (a * b).sum()), (x, y))
    assert gradgradcheck(lambda a: a.exp() * a, x, _double([1.0, -2.0]))
    assert gradgradcheck(lambda a: a.tanh(), x, _double([1.0, -2.0], requires_grad=False))


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    x = _double([0.5, 1.5])
    assert gradcheck(FlatCube.apply, x)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0,\nnumerical:"):
        gradgradcheck(FlatCube.apply, x)
    assert gradgradcheck(FlatCube.apply, x, raise_exception=False) is False
