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
