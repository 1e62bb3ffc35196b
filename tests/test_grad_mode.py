"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode`` as context
managers and decorators, nesting, and per-thread state. Each sequence of observations is
compared with torch doing the same (when installed) and with the expected closed form."""

from __future__ import annotations

import threading

import pytest

import funcgrad


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def observe(lib) -> tuple:
    return lib.is_grad_enabled(), lib.is_inference_mode_enabled()


def records(lib) -> bool:
    """Whether an op on a tensor that requires grad records a graph right now."""
    y = lib.tensor([1.0, 2.0], requires_grad=True) * 2
    return y.grad_fn is not None


def both(torch, scenario):
    """Runs scenario on funcgrad and on torch; they must agree. Returns funcgrad's result."""
    ours = scenario(funcgrad)
    assert ours == scenario(torch)
    assert funcgrad.is_grad_enabled() and torch.is_grad_enabled()
    return ours


def test_default():
    assert funcgrad.is_grad_enabled()
    assert not funcgrad.is_inference_mode_enabled()
    assert records(funcgrad)


def test_context_managers(torch):
    def scenario(lib):
        out = []
        with lib.no_grad():
            out += [observe(lib), records(lib)]
        with lib.enable_grad():
            out += [observe(lib), records(lib)]
        with lib.set_grad_enabled(False):
            out += [observe(lib), records(lib)]
        with lib.inference_mode():
            out += [observe(lib), records(lib)]
        with lib.inference_mode(False):
            out += [observe(lib), records(lib)]
        return out + [observe(lib)]

    assert both(torch, scenario) == [
        (False, False), False, (True, False), True, (False, False), False,
        (False, True), False, (True, False), True, (True, False),
    ]


def test_no_grad_results(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            y = x * 2
        with lib.inference_mode():
            z = x * 2
        return y.requires_grad, y.grad_fn, y.is_leaf, z.requires_grad, y.tolist()

    assert both(torch, scenario) == (False, None, True, False, [2.0, 4.0])


def test_nesting(torch):
    def scenario(lib):
        out = []
        with lib.no_grad():
            out.append(lib.is_grad_enabled())
            with lib.enable_grad():
                out.append(lib.is_grad_enabled())
                with lib.no_grad():
                    out.append(lib.is_grad_enabled())
                out.append(lib.is_grad_enabled())
                with lib.set_grad_enabled(False):
                    out.append(lib.is_grad_enabled())
                    with lib.set_grad_enabled(True):
                        out.append(lib.is_grad_enabled())
                    out.append(lib.is_grad_enabled())
            out.append(lib.is_grad_enabled())
            with lib.inference_mode():
                with lib.enable_grad():
                    out.append(observe(lib))
                out.append(observe(lib))
        return out + [lib.is_grad_enabled()]

    assert both(torch, scenario) == [False, True, False, True, False, True, False, False,
                                     (True, True), (False, True), True]


def test_set_grad_enabled_as_function(torch):
    def scenario(lib):
        lib.set_grad_enabled(False)
        off = observe(lib), records(lib)
        lib.set_grad_enabled(True)
        return off, observe(lib), records(lib)

    assert both(torch, scenario) == (((False, False), False), (True, False), True)


def test_exception_restores_mode(torch):
    def scenario(lib):
        for manager in (lib.no_grad(), lib.set_grad_enabled(False), lib.inference_mode()):
            with pytest.raises(KeyError), manager:
                raise KeyError
        return observe(lib)

    assert both(torch, scenario) == (True, False)


def test_decorators(torch):
    def scenario(lib):
        @lib.no_grad
        def bare(x):
            """doc"""
            return observe(lib), (x * 2).requires_grad

        @lib.no_grad()
        def called():
            return observe(lib)

        @lib.enable_grad
        def bare_enable():
            return observe(lib)

        @lib.enable_grad()
        def called_enable():
            return observe(lib)

        @lib.set_grad_enabled(False)
        def disabled():
            return observe(lib)

        @lib.inference_mode
        def bare_inference():
            return observe(lib)

        @lib.inference_mode()
        def inference():
            return observe(lib)

        @lib.inference_mode(False)
        def not_inference():
            return observe(lib)

        out = [bare(lib.tensor(1.0, requires_grad=True)), bare.__name__, bare.__doc__,
               called(), called(), disabled(), disabled(), observe(lib),
               bare_inference(), inference(), not_inference(), observe(lib)]
        with lib.no_grad():
            out += [bare_enable(), called_enable(), observe(lib)]
        return out

    nf, ni = (False, False), (False, True)
    assert both(torch, scenario) == [
        (nf, False), "bare", "doc", nf, nf, nf, nf, (True, False),
        ni, ni, (True, False), (True, False), (True, False), (True, False), nf,
    ]


def test_decorated_method_and_exception(torch):
    def scenario(lib):
        class Model:
            @lib.no_grad()
            def predict(self, x):
                return (x * 2).requires_grad

            @lib.no_grad()
            def fail(self):
                raise ValueError(lib.is_grad_enabled())

        model = Model()
        with pytest.raises(ValueError) as info:
            model.fail()
        return model.predict(lib.tensor(1.0, requires_grad=True)), info.value.args

    assert both(torch, scenario) == (False, (False,))


def test_reentering_one_object():
    """One no_grad object entered inside its own block restores each level on exit."""
    manager = funcgrad.no_grad()
    with manager:
        with manager:
            assert not funcgrad.is_grad_enabled()
        assert not funcgrad.is_grad_enabled()
    assert funcgrad.is_grad_enabled()
    with manager:
        assert not funcgrad.is_grad_enabled()
    assert funcgrad.is_grad_enabled()


# ----- threads ---------------------------------------------------------------------------------
def run_threads(*targets) -> None:
    errors = []

    def guard(target):
        try:
            target()
        except BaseException as e:  # reported in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("shared", [False, True], ids=["own-objects", "one-shared-object"])
def test_threads_are_independent(shared):
    """Thread A sits inside no_grad while thread B records a graph, then the roles swap; the
    barriers order the steps, so no timing is involved."""
    barrier = threading.Barrier(2)
    manager = funcgrad.no_grad()
    seen = {}

    def a():
        with manager if shared else funcgrad.no_grad():
            barrier.wait()  # 1: A is inside no_grad
            seen["a inside"] = observe(funcgrad), records(funcgrad)
            barrier.wait()  # 2: B has looked while A is inside
            barrier.wait()  # 3: B is inside its no_grad
        seen["a after"] = observe(funcgrad), records(funcgrad)
        barrier.wait()  # 4

    def b():
        barrier.wait()  # 1
        seen["b while a inside"] = observe(funcgrad), records(funcgrad)
        barrier.wait()  # 2
        with manager if shared else funcgrad.no_grad():
            barrier.wait()  # 3
            barrier.wait()  # 4: A has looked after leaving its block
            seen["b inside"] = observe(funcgrad)
        seen["b after"] = observe(funcgrad)

    run_threads(a, b)
    on, off = ((True, False), True), ((False, False), False)
    assert seen == {"a inside": off, "b while a inside": on, "a after": on,
                    "b inside": (False, False), "b after": (True, False)}
    assert funcgrad.is_grad_enabled()


def test_set_grad_enabled_in_a_thread_stays_there():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        funcgrad.set_grad_enabled(False)
        seen["worker"] = observe(funcgrad)
        entered.set()
        release.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait()
    seen["main"] = observe(funcgrad), records(funcgrad)
    release.set()
    thread.join()
    assert seen == {"worker": (False, False), "main": ((True, False), True)}


def test_new_thread_starts_with_grad_enabled(torch):
    """A thread started inside no_grad does not inherit it, as in torch."""

    def scenario(lib):
        seen = []
        with lib.no_grad():
            run_threads(lambda: seen.append(lib.is_grad_enabled()))
        return seen

    assert both(torch, scenario) == [True]


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "set_grad_enabled",
                                  "inference_mode"])
def test_grad_modes_are_in_autograd_as_in_torch(torch, name):
    assert getattr(funcgrad.autograd, name) is getattr(funcgrad, name)
    assert getattr(torch.autograd, name) is getattr(torch, name)
    x = funcgrad.ones(2, requires_grad=True)
    with getattr(funcgrad.autograd, name)(*([False] if name == "set_grad_enabled" else [])):
        y = x * 2
    assert y.requires_grad == (name == "enable_grad")


# ----- inference tensors -------------------------------------------------------------------------
def inference_flags(lib) -> list[bool]:
    """Which tensors are inference tensors, made inside inference mode and out of it."""
    normal = lib.ones(2)
    with lib.inference_mode():
        x = lib.ones(2)
        made = [x, normal + 1, lib.randn(2), lib.tensor([1.0]), lib.ones(2, requires_grad=True),
                lib.zeros(1).add_(1)]
        with lib.no_grad():
            made.append(lib.ones(1))
        with lib.enable_grad():
            made.append(lib.ones(1) * 2)
        with lib.inference_mode(False):
            made.append(lib.ones(1))
    made += [x * 2, x.sum(), x.clone(), x.detach(), x.data, lib.ones(2), normal.detach()]
    return [t.is_inference() for t in made] + [lib.is_inference(x), lib.is_inference(normal)]


def test_inference_tensors_are_the_ones_torch_marks(torch):
    assert both(torch, inference_flags) == [True] * 8 + [False] + [False] * 3 + [True] * 2 + [
        False, False, True, False]


def test_inference_mode_decorator_makes_inference_tensors(torch):
    def scenario(lib):
        made = lib.inference_mode()(lambda: lib.ones(1))
        return made().is_inference(), lib.ones(1).is_inference()

    assert both(torch, scenario) == (True, False)


def inference_x(lib):
    with lib.inference_mode():
        return lib.tensor([1.0, 2.0, 3.0])


_SAVING = {
    "mul": lambda lib, x, w: w * x,
    "div-denominator": lambda lib, x, w: w / x,
    "div-numerator": lambda lib, x, w: x / w,
    "matmul": lambda lib, x, w: w @ x,
    "pow-exponent": lambda lib, x, w: w ** x,
    "linear": lambda lib, x, w: lib.nn.functional.linear(x, w.reshape(1, 3)),
    "mul-of-detach": lambda lib, x, w: x.detach() * w,
}


@pytest.mark.parametrize("case", _SAVING)
def test_an_inference_tensor_cannot_be_saved_for_backward(torch, case):
    from test_errors import assert_raises_as_torch

    def scenario(lib):
        _SAVING[case](lib, inference_x(lib), lib.ones(3, requires_grad=True))

    assert "Inference tensors cannot be saved for backward" in assert_raises_as_torch(
        torch, scenario)


_NOT_SAVING = {
    "add": lambda lib, x, w: w + x,
    "cat": lambda lib, x, w: lib.cat([w, x]),
    "op-result": lambda lib, x, w: lib.sin(x) * w,
    "clone": lambda lib, x, w: x.clone() * w,
    "no-grad-needed": lambda lib, x, w: x * w.detach(),
}


@pytest.mark.parametrize("case", _NOT_SAVING)
def test_an_inference_tensor_that_is_not_saved_takes_part_as_in_torch(torch, case):
    def scenario(lib):
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        out = _NOT_SAVING[case](lib, inference_x(lib), w)
        if out.requires_grad:
            out.sum().backward()
        return out.tolist(), out.requires_grad, None if w.grad is None else w.grad.tolist()

    both(torch, scenario)


_WRITES = {
    "add_": lambda lib, x: x.add_(1),
    "add_-under-no_grad": lambda lib, x: lib.no_grad()(x.mul_)(2),
    "zero_": lambda lib, x: x.zero_(),
    "fill_": lambda lib, x: x.fill_(2.0),
    "copy_": lambda lib, x: x.copy_(lib.zeros(3)),
    "setitem": lambda lib, x: x.__setitem__(0, 5.0),
    "clamp_": lambda lib, x: x.clamp_(0, 1),
    "index_add_": lambda lib, x: x.index_add_(0, lib.tensor([0]), lib.ones(1)),
    "set_": lambda lib, x: x.set_(lib.zeros(3)),
    "resize_": lambda lib, x: x.resize_(4),
    "masked_fill_": lambda lib, x: x.masked_fill_(x > 1, 0.0),
}


@pytest.mark.parametrize("case", _WRITES)
def test_an_inference_tensor_cannot_change_in_place_outside_inference_mode(torch, case):
    """torch's error; here the tensor is also left as it was (torch's masked_fill_ writes
    first and raises after)."""
    from test_errors import assert_raises_as_torch

    assert "Inplace update to inference tensor outside InferenceMode" in assert_raises_as_torch(
        torch, lambda lib: _WRITES[case](lib, inference_x(lib)))
    x = inference_x(funcgrad)
    with pytest.raises(RuntimeError):
        _WRITES[case](funcgrad, x)
    assert x.tolist() == [1.0, 2.0, 3.0] and x.is_inference()


def test_an_inference_tensor_changes_in_place_inside_inference_mode(torch):
    def scenario(lib):
        x = inference_x(lib)
        with lib.inference_mode():
            x.add_(1)[0] = 0.0
        return x.tolist(), x.is_inference()

    assert both(torch, scenario) == ([0.0, 3.0, 4.0], True)


_REQUIRES_GRAD = {
    "requires_grad_": lambda lib, x: x.requires_grad_(),
    "setter": lambda lib, x: setattr(x, "requires_grad", True),
    "Parameter": lambda lib, x: lib.nn.Parameter(x),
}


@pytest.mark.parametrize("case", _REQUIRES_GRAD)
def test_an_inference_tensor_cannot_require_grad_outside_inference_mode(torch, case):
    from test_errors import assert_raises_as_torch

    assert "Setting requires_grad=True on inference tensor" in assert_raises_as_torch(
        torch, lambda lib: _REQUIRES_GRAD[case](lib, inference_x(lib)))
    x = inference_x(funcgrad)
    with pytest.raises(RuntimeError):
        _REQUIRES_GRAD[case](funcgrad, x)
    assert not x.requires_grad


def test_what_an_inference_tensor_may_do_outside_inference_mode(torch):
    def scenario(lib):
        x = inference_x(lib)
        with lib.inference_mode():
            p = lib.nn.Parameter(lib.ones(3))
        return (x.requires_grad_(False).requires_grad, p.requires_grad, p.is_inference(),
                (x * 2).is_inference(), x.clone().add_(1).tolist())

    assert both(torch, scenario) == (False, True, True, False, [2.0, 3.0, 4.0])


def test_inference_mode_records_nothing_even_under_enable_grad(torch):
    def scenario(lib):
        w = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            x = lib.ones(2)
            with lib.enable_grad():
                y = w * x
                return y.requires_grad, y.grad_fn is None, lib.is_grad_enabled()

    assert both(torch, scenario) == (False, True, True)


def test_an_inference_tensor_has_no_version_counter(torch):
    from test_errors import assert_raises_as_torch

    assert assert_raises_as_torch(torch, lambda lib: inference_x(lib)._version) == (
        "Inference tensors do not track version counter.")


def test_inference_mode_in_one_thread_makes_no_inference_tensors_in_another():
    made, entered, leave = [], threading.Event(), threading.Event()

    def inside():
        with funcgrad.inference_mode():
            entered.set()
            leave.wait(60)
            made.append(funcgrad.ones(1))

    def outside():
        entered.wait(60)
        made.append(funcgrad.ones(1) * 2)
        leave.set()

    run_threads(inside, outside)
    assert [t.is_inference() for t in made] == [False, True]
    assert not funcgrad.ones(1).is_inference()
