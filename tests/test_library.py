"""``funcgrad.library.custom_op`` against torch.library's: the same op defined in both
libraries (under a name of its own per test, as both register ops for the whole process),
its values, gradients, ``funcgrad.ops`` path, versions and errors."""

import itertools

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message, raised


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


_count = itertools.count()


def _name(tag: str) -> str:
    return f"fgtest::{tag}_{next(_count)}"


def numpy_sin(lib, name: str, *, autograd: bool = True):
    """``k * sin(x)`` computed by numpy, with its gradient registered when ``autograd``."""

    def body(x: lib.Tensor, k: float) -> lib.Tensor:
        return lib.from_numpy(np.sin(x.numpy()) * k)

    op = lib.library.custom_op(name, body, mutates_args=())
    if autograd:
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.k = inputs[1]

        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos() * ctx.k, None

        op.register_autograd(backward, setup_context=setup_context)
    return op


def test_value_gradient_and_grad_fn_match_torch(torch):
    name = _name("sin")
    results = {}
    for lib in (funcgrad, torch):
        op = numpy_sin(lib, name)
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = op(x, 3.0)
        y.sum().backward()
        results[lib] = (y.detach().numpy(), x.grad.numpy(), y.grad_fn.name())
    np.testing.assert_allclose(results[funcgrad][0], results[torch][0], rtol=1e-6)
    np.testing.assert_allclose(results[funcgrad][1], results[torch][1], rtol=1e-6)
    assert results[funcgrad][2] == results[torch][2]


def test_reachable_as_ops_namespace_name_and_default(torch):
    name = _name("path")
    namespace, opname = name.split("::")
    for lib in (funcgrad, torch):
        numpy_sin(lib, name)
        packet = getattr(getattr(lib.ops, namespace), opname)
        x = lib.tensor([1.0, 2.0])
        np.testing.assert_allclose(packet(x, 2.0).numpy(), 2 * np.sin([1.0, 2.0]), rtol=1e-6)
        np.testing.assert_allclose(packet.default(x, 2.0).numpy(), 2 * np.sin([1.0, 2.0]),
                                   rtol=1e-6)
    ours = getattr(funcgrad.ops.fgtest, opname)
    theirs = getattr(torch.ops.fgtest, opname)
    assert (str(ours), str(ours.default), repr(ours.default)) == (
        str(theirs), str(theirs.default), repr(theirs.default))
    assert_raises_as_torch(torch, lambda lib: lib.ops.fgtest.no_such_op)
    assert_raises_as_torch(torch, lambda lib: getattr(lib.ops.fgtest, opname).nope)


def test_body_runs_without_grad_and_output_requires_grad_as_torch(torch):
    name = _name("mode")

    def check(lib):
        seen = []

        def body(x: lib.Tensor) -> lib.Tensor:
            seen.append(lib.is_grad_enabled())
            return x * 2

        op = lib.library.custom_op(name, body, mutates_args=())
        x = lib.tensor([1.0], requires_grad=True)
        y = op(x)
        with lib.no_grad():
            z = op(x)
        assert seen == [False, False]
        assert (y.requires_grad, z.requires_grad, op(lib.tensor([1.0])).requires_grad) == (
            True, False, False)

    check(funcgrad)
    check(torch)


def test_backward_without_register_autograd_raises_as_torch(torch):
    name = _name("nograd")

    def scenario(lib):
        op = numpy_sin(lib, name, autograd=False)
        op(lib.tensor([1.0], requires_grad=True), 1.0).sum().backward()

    assert_raises_as_torch(torch, scenario)


def test_keyword_only_inputs_reach_setup_context(torch):
    name = _name("kw")

    def run(lib):
        seen = []

        def body(x: lib.Tensor, n: int = 2, *, k: float = 2.0) -> lib.Tensor:
            return x * k * n

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            seen.append((len(inputs), inputs[1], keyword_only_inputs))
            ctx.scale = keyword_only_inputs["k"] * inputs[1]

        def backward(ctx, grad):
            assert ctx.needs_input_grad == (True, False)
            return grad * ctx.scale, None

        op = lib.library.custom_op(name, body, mutates_args=())
        lib.library.register_autograd(name, backward, setup_context=setup_context)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(op(x=x, n=4, k=3.0).sum(), x)
        return seen[0], g.tolist()

    # (funcgrad's backward runs the body and setup_context again, JAX's recomputation)
    assert run(funcgrad) == run(torch)


def test_tuple_output_and_tensor_list_input(torch):
    name, lname = _name("tup"), _name("list")
    results = {}
    for lib in (funcgrad, torch):
        def sincos(x: lib.Tensor) -> tuple[lib.Tensor, lib.Tensor]:
            return x.sin(), x.cos()

        def weighted(xs: list[lib.Tensor], w: list[float]) -> lib.Tensor:
            return sum(a * b for a, b in zip(xs, w))

        op = lib.library.custom_op(name, sincos, mutates_args=())
        op.register_autograd(
            lambda ctx, gs, gc: gs * ctx.x.cos() - gc * ctx.x.sin(),
            setup_context=lambda ctx, inputs, output: setattr(ctx, "x", inputs[0]))
        wop = lib.library.custom_op(lname, weighted, mutates_args=())
        wop.register_autograd(
            lambda ctx, g: ([g * w for w in ctx.w], None),
            setup_context=lambda ctx, inputs, output: setattr(ctx, "w", inputs[1]))
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        s, c = op(x)
        total = (s * c).sum() + wop([x, x * x], [2.0, 3.0]).sum()
        total.backward()
        results[lib] = (s.tolist(), c.tolist(), x.grad.tolist())
    np.testing.assert_allclose(np.array(results[funcgrad], dtype=object).astype(float),
                               np.array(results[torch], dtype=object).astype(float), rtol=1e-6)


def test_wrong_number_of_gradients_raises_as_torch(torch):
    name = _name("count")

    def scenario(lib):
        def body(x: lib.Tensor, k: float) -> lib.Tensor:
            return x * k

        op = lib.library.custom_op(name, body, mutates_args=())
        op.register_autograd(lambda ctx, g: g)
        op(lib.tensor([1.0], requires_grad=True), 2.0).sum().backward()

    assert_raises_as_torch(torch, scenario)


def test_mutated_argument_changes_and_its_version_advances_as_torch(torch):
    name = _name("mut")
    results = {}
    for lib in (funcgrad, torch):
        def body(x: lib.Tensor, y: lib.Tensor) -> None:
            x.add_(y)

        op = lib.library.custom_op(name, body, mutates_args={"x"})
        x, y = lib.zeros(2, requires_grad=True), lib.ones(2)
        out = op(x, y)
        results[lib] = (out, x.tolist(), x._version, y._version, x.requires_grad)
    assert results[funcgrad] == results[torch]


def test_register_autograd_on_a_mutating_op_raises_as_torch(torch):
    name = _name("mutgrad")

    def scenario(lib):
        def body(x: lib.Tensor, y: lib.Tensor) -> None:
            x.add_(y)

        lib.library.custom_op(name, body, mutates_args=["x"]).register_autograd(
            lambda ctx, g: g)

    assert_raises_as_torch(torch, scenario)


def test_returning_an_input_raises_as_torch(torch):
    name = _name("alias")
    errors = {}
    for lib in (funcgrad, torch):
        def body(x: lib.Tensor) -> lib.Tensor:
            return x

        op = lib.library.custom_op(name, body, mutates_args=())
        with pytest.raises(RuntimeError) as info:
            op(lib.ones(2))
        errors[lib] = str(info.value).split("): ", 1)[1]  # after the kernel's module
    assert errors[funcgrad] == errors[torch]


def test_device_kernel_replaces_the_default_on_its_device(torch):
    name, only = _name("kernel"), _name("cuda_only")
    for lib in (funcgrad, torch):
        def body(x: lib.Tensor) -> lib.Tensor:
            return x + 1

        op = lib.library.custom_op(name, body, mutates_args=())
        assert op(lib.zeros(1)).tolist() == [1.0]

        @op.register_kernel("cpu")
        def _(x):
            return x + 2

        assert op(lib.zeros(1)).tolist() == [2.0]
        lib.library.register_kernel(name, ("cpu",), lambda x: x + 3)
        assert op(lib.zeros(1)).tolist() == [3.0]
        cuda_op = lib.library.custom_op(only, body, mutates_args=(), device_types="cuda")
        with pytest.raises(NotImplementedError) as info:
            cuda_op(lib.zeros(1))
        assert message(info.value).startswith(
            f"Could not run '{only}' with arguments from the 'CPU' backend.")


def test_register_fake_is_kept_and_returned(torch):
    name = _name("fake")
    for lib in (funcgrad, torch):
        op = numpy_sin(lib, name)

        def fake(x, k):
            return x.clone()

        assert op.register_fake(fake) is fake
        assert lib.library.register_fake(name, fake) is fake


def test_infer_schema_matches_torch(torch):
    def signatures(lib):
        def full(x: lib.Tensor, k: float, n: int, flag: bool, s: str, o: lib.Tensor | None,
                 xs: list[lib.Tensor], ns: list[int], fs: list[float], d: lib.dtype,
                 dev: lib.device, on: int | None = None, *, kk: float = 2.0, st: str = "a",
                 bb: bool = True) -> tuple[lib.Tensor, lib.Tensor]: ...

        def mutating(x: lib.Tensor, y: lib.Tensor) -> None: ...

        def listing(x: lib.Tensor) -> list[lib.Tensor]: ...

        infer = lib.library.infer_schema
        return (infer(full, mutates_args=()), infer(mutating, mutates_args={"x"}),
                infer(mutating, mutates_args="unknown"), infer(listing, mutates_args=()))

    assert signatures(funcgrad) == signatures(torch)


@pytest.mark.parametrize("case", ["unannotated", "no_return", "unknown_mutated",
                                  "mutates_string", "no_namespace", "varargs",
                                  "kwonly_tensor"])
def test_definition_errors_match_torch(torch, case):
    name = _name(case)

    def scenario(lib):
        def unannotated(x):
            return x

        def no_return(x: lib.Tensor):
            return x

        def plain(x: lib.Tensor) -> lib.Tensor:
            return x.clone()

        def varargs(x: lib.Tensor, *rest: lib.Tensor) -> lib.Tensor:
            return x.clone()

        def kwonly_tensor(x: lib.Tensor, *, y: lib.Tensor) -> lib.Tensor:
            return x * y

        custom_op = lib.library.custom_op
        if case == "unannotated":
            custom_op(name, unannotated, mutates_args=())
        elif case == "no_return":
            custom_op(name, no_return, mutates_args=())
        elif case == "unknown_mutated":
            custom_op(name, plain, mutates_args=["z"])
        elif case == "mutates_string":
            custom_op(name, plain, mutates_args="x")
        elif case == "no_namespace":
            custom_op(name.split("::")[1], plain, mutates_args=())
        elif case == "varargs":
            custom_op(name, varargs, mutates_args=())
        else:
            custom_op(name, kwonly_tensor, mutates_args=())

    if case in ("unannotated", "no_return", "unknown_mutated", "varargs"):
        ours, theirs = raised(funcgrad, scenario), raised(torch, scenario)
        # the messages end with the signature, whose annotations name each library's Tensor
        assert type(ours) is type(theirs) is ValueError
        assert message(ours).split(" Got func")[0] == message(theirs).split(" Got func")[0]
    else:
        assert_raises_as_torch(torch, scenario)


def test_defining_a_name_again_replaces_the_op(torch):
    name = _name("again")
    namespace, opname = name.split("::")
    for lib in (funcgrad, torch):
        def first(x: lib.Tensor) -> lib.Tensor:
            return x + 1

        def second(x: lib.Tensor) -> lib.Tensor:
            return x + 2

        lib.library.custom_op(name, first, mutates_args=())
        lib.library.custom_op(name, second, mutates_args=())
        assert getattr(getattr(lib.ops, namespace), opname)(lib.zeros(1)).tolist() == [2.0]


def test_unknown_op_names_raise_as_torch(torch):
    assert_raises_as_torch(
        torch, lambda lib: lib.library.register_autograd("fgtest::missing", lambda: 0))
    assert_raises_as_torch(
        torch, lambda lib: lib.library.register_fake("fgtest::missing", lambda: 0))
