"""funcgrad.amp.GradScaler against torch.amp.GradScaler: the same scaled training loop, with the
same data, gives the same scale, growth tracker, gradients and parameters after every step
(skipped steps, backoff and growth included); errors and warnings are torch's."""

import pickle

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, assert_warns_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t) -> np.ndarray:
    return np.asarray(t.detach()).copy()  # torch steps in place, into the memory shown


RNG = np.random.default_rng(0)
WEIGHT = RNG.standard_normal((3, 4)).astype(np.float32)
BIAS = RNG.standard_normal(3).astype(np.float32)
BIG = np.full((8, 4), 1e18, np.float32)  # its scaled gradients overflow float32 to inf


def _batch() -> tuple[np.ndarray, np.ndarray]:
    return (RNG.standard_normal((8, 4)).astype(np.float32),
            RNG.standard_normal((8, 3)).astype(np.float32))


# With growth_interval=2: step 2 grows the scale, step 3 overflows (skipped: the scale backs off
# and the tracker restarts), step 5 grows it again.
BATCHES = [_batch(), _batch(), (BIG, _batch()[1]), _batch(), _batch(), _batch()]


def _linear(lib):
    model = lib.nn.Linear(4, 3)
    model.load_state_dict({"weight": lib.tensor(WEIGHT), "bias": lib.tensor(BIAS)})
    return model


def _snapshot(scaler, model, returned=None) -> dict:
    return dict(scale=scaler.get_scale(), state=scaler.state_dict(), returned=returned,
                params=[_np(p) for p in model.parameters()],
                grads=[_np(p.grad) for p in model.parameters()])


def _train(lib, optimizer: str, opt_kwargs: dict, clip: float | None = None,
           **scaler_kwargs) -> list[dict]:
    """Scaled steps over BATCHES; a snapshot after each step's update()."""
    model = _linear(lib)
    opt = getattr(lib.optim, optimizer)(model.parameters(), **opt_kwargs)
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    snapshots = []
    for x, y in BATCHES:
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        returned = scaler.step(opt)
        scaler.update()
        snapshots.append(_snapshot(scaler, model, returned))
    return snapshots


def _assert_same(ours: list[dict], theirs: list[dict]) -> None:
    assert len(ours) == len(theirs)
    for step, (o, t) in enumerate(zip(ours, theirs)):
        assert (o["scale"], o["state"], o["returned"]) == (t["scale"], t["state"], t["returned"])
        for a, b in zip(o["params"] + o["grads"], t["params"] + t["grads"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


@pytest.mark.parametrize("optimizer, opt_kwargs", [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(lr=0.01)),
])
def test_training_matches_torch_step_for_step(torch, optimizer, opt_kwargs):
    kwargs = dict(init_scale=2.0**10, growth_interval=2)
    theirs = _train(torch, optimizer, opt_kwargs, **kwargs)
    assert [s["scale"] for s in theirs] == [1024, 2048, 1024, 1024, 2048, 2048]
    _assert_same(_train(funcgrad, optimizer, opt_kwargs, **kwargs), theirs)


def test_unscale_then_clip_then_step_matches_torch(torch):
    kwargs = dict(init_scale=2.0**12, growth_interval=3)
    _assert_same(_train(funcgrad, "Adam", dict(lr=0.01), clip=0.5, **kwargs),
                 _train(torch, "Adam", dict(lr=0.01), clip=0.5, **kwargs))


def test_factors_that_are_not_powers_of_two_round_as_torchs(torch):
    """torch grows and backs off in float64 and rounds to float32: the scales agree exactly."""
    def scales(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=1000.1, growth_factor=1.7,
                                    backoff_factor=0.3, growth_interval=3)
        seen = []
        for overflow in [0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0]:
            scaler.scale((w * (1e38 if overflow else 1.0)).sum()).backward()
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
            seen.append(scaler.state_dict())
        return seen

    assert scales(funcgrad) == scales(torch)


def test_a_scale_does_not_grow_past_float32(torch):
    def scale_after_growth(lib):
        w = lib.tensor([1.0], requires_grad=True)
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
        scaler.scale(w.sum()).backward()
        scaler.step(lib.optim.SGD([w], lr=0.1))
        scaler.update()
        return scaler.state_dict()

    assert scale_after_growth(funcgrad) == scale_after_growth(torch)


def test_a_nan_gradient_skips_the_step_and_a_skip_in_either_optimizer_backs_off(torch):
    def run(lib):
        a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        opt_a, opt_b = lib.optim.SGD([a], lr=0.1), lib.optim.SGD([b], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((a * a).sum() + (b * b).sum()).backward()
        b.grad.fill_(float("nan"))
        scaler.step(opt_a)
        scaler.step(opt_b)
        scaler.update()
        return [_np(a), _np(b), _np(a.grad), _np(b.grad), scaler.state_dict()]

    ours, theirs = run(funcgrad), run(torch)
    for o, t in zip(ours[:4], theirs[:4]):
        np.testing.assert_array_equal(o, t)
    assert ours[4] == theirs[4]


def test_scale_keeps_the_structure_of_its_outputs_and_backward_flows(torch):
    def run(lib):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        scaled = scaler.scale([w * 2, (w.sum(), [w * w])])
        lazy = scaler.scale(x for x in [w])
        lib.autograd.backward([scaled[0].sum(), scaled[1][0], scaled[1][1][0].sum()])
        structure = (type(scaled), type(scaled[1]), type(scaled[1][1]), type(lazy).__name__)
        values = [_np(scaled[0]), _np(scaled[1][0]), _np(scaled[1][1][0]), _np(next(lazy))]
        return structure, values, _np(w.grad)

    (ours, ours_values, ours_grad), (theirs, theirs_values, theirs_grad) = run(funcgrad), run(torch)
    assert ours == (list, tuple, list, "map") == theirs
    for o, t in zip(ours_values + [ours_grad], theirs_values + [theirs_grad]):
        np.testing.assert_array_equal(o, t)


def test_update_to_a_given_scale_as_torch(torch):
    def run(lib):
        # (on the CPU, whatever the default device: a tensor's device type must be the scaler's)
        w = lib.tensor([1.0], requires_grad=True, device="cpu")
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale(w.sum())
        scaler.update(1000.5)
        first = scaler.get_scale()
        scaler.update(lib.tensor(0.25, device="cpu"))
        return first, scaler.state_dict()

    assert run(funcgrad) == run(torch)


def test_state_dict_round_trips_between_libraries(torch):
    """A state saved by torch's scaler, loaded into funcgrad's before and after its first
    scale(), continues as torch's does; getters, setters and pickling agree too."""
    def run(lib, state):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        fresh, used = lib.amp.GradScaler("cpu"), lib.amp.GradScaler("cpu")
        used.scale(w.sum())
        seen = [fresh.get_scale(), fresh.state_dict()]
        for scaler in (fresh, used):
            scaler.load_state_dict(state)
            seen.append(scaler.state_dict())
            for _ in range(3):
                scaler.scale((w * w).sum()).backward()
                scaler.step(opt)
                scaler.update()
                opt.zero_grad()
            seen.append(scaler.state_dict())
        fresh.set_growth_factor(3.0)
        fresh.set_backoff_factor(0.25)
        fresh.set_growth_interval(7)
        back = pickle.loads(pickle.dumps(fresh))
        seen += [back.state_dict(), back.get_growth_factor(), back.get_backoff_factor(),
                 back.get_growth_interval(), back.is_enabled()]
        return seen

    state = {"scale": 96.0, "growth_factor": 1.5, "backoff_factor": 0.75, "growth_interval": 4,
             "_growth_tracker": 2}
    ours, theirs = run(funcgrad, state), run(torch, state)
    assert ours == theirs
    assert [type(v) for v in ours[1].values()] == [type(v) for v in theirs[1].values()]


def test_a_disabled_scaler_passes_through_as_torchs(torch):
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", enabled=False)
        loss = (w * w).sum()
        assert scaler.scale(loss) is loss
        loss.backward()
        scaler.unscale_(opt)
        returned = scaler.step(opt, lambda: 7.0)
        scaler.update()
        scaler.load_state_dict({})
        return [returned, _np(w), _np(w.grad), scaler.get_scale(), scaler.state_dict(),
                scaler.is_enabled()]

    ours, theirs = run(funcgrad), run(torch)
    np.testing.assert_allclose(ours[1], theirs[1])
    np.testing.assert_array_equal(ours[2], theirs[2])
    assert ours[:1] + ours[3:] == theirs[:1] + theirs[3:]


@pytest.mark.skipif(funcgrad.cuda.is_available(), reason="CUDA is there: nothing to warn about")
def test_cuda_scaler_without_cuda_warns_and_disables_as_torch(torch):
    if torch.cuda.is_available():
        pytest.skip("torch sees CUDA: it would not warn")

    def scenario(lib):
        assert not lib.amp.GradScaler().is_enabled()

    assert_warns_as_torch(torch, scenario)


def _scaled(lib, **kwargs):
    """A parameter with a scaled gradient, its SGD optimizer, and the scaler."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    scaler = lib.amp.GradScaler("cpu", **kwargs)
    scaler.scale((w * w).sum()).backward()
    return w, lib.optim.SGD([w], lr=0.1), scaler


def _unscale_twice(lib):
    _, opt, scaler = _scaled(lib)
    scaler.unscale_(opt)
    scaler.unscale_(opt)


def _unscale_after_step(lib):
    _, opt, scaler = _scaled(lib)
    scaler.step(opt)
    scaler.unscale_(opt)


def _step_twice(lib):
    _, opt, scaler = _scaled(lib)
    scaler.step(opt)
    scaler.step(opt)


def _step_with_closure(lib):
    w, opt, scaler = _scaled(lib)
    scaler.step(opt, closure=lambda: w.sum())


def _step_before_scale(lib):
    w = lib.tensor([1.0], requires_grad=True)
    lib.amp.GradScaler("cpu").step(lib.optim.SGD([w], lr=0.1))


def _update_before_scale(lib):
    lib.amp.GradScaler("cpu").update()


def _update_without_step(lib):
    _scaled(lib)[2].update()


def _step_without_grads(lib):
    w, opt, scaler = _scaled(lib)
    w.grad = None
    scaler.step(opt)


def _update_to_a_two_element_scale(lib):
    _scaled(lib)[2].update(lib.tensor([1.0, 2.0]))


def _update_to_a_scale_that_requires_grad(lib):
    _scaled(lib)[2].update(lib.tensor(1.0, requires_grad=True))


def _update_to_an_int(lib):
    _scaled(lib)[2].update(2)


def _unscale_float16(lib):
    w = lib.zeros(2, dtype=lib.float16, requires_grad=True)
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(w.float().sum()).backward()
    scaler.unscale_(lib.optim.SGD([w], lr=0.1))


def _scale_a_number(lib):
    lib.amp.GradScaler("cpu").scale([lib.ones(1), 3.0])


def _load_empty_state(lib):
    lib.amp.GradScaler("cpu").load_state_dict({})


def _pickle_mid_iteration(lib):
    _, opt, scaler = _scaled(lib)
    scaler.step(opt)
    pickle.dumps(scaler)


ERRORS = [
    lambda lib: lib.amp.GradScaler("cpu", growth_factor=1.0),
    lambda lib: lib.amp.GradScaler("cpu", backoff_factor=1.0),
    _unscale_twice, _unscale_after_step, _step_twice, _step_with_closure, _step_before_scale,
    _update_before_scale, _update_without_step, _step_without_grads,
    _update_to_a_two_element_scale, _update_to_a_scale_that_requires_grad, _update_to_an_int,
    _unscale_float16, _scale_a_number, _load_empty_state, _pickle_mid_iteration,
]


@pytest.mark.parametrize("scenario", ERRORS)
def test_errors_as_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_a_float16_gradient_is_refused_before_any_gradient_is_unscaled(torch):
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        h = lib.zeros(2, dtype=lib.float16, requires_grad=True)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((w * w).sum() + h.float().sum()).backward()
        with pytest.raises(ValueError):
            scaler.unscale_(lib.optim.SGD([w, h], lr=0.1))
        return _np(w.grad)

    np.testing.assert_array_equal(run(funcgrad), run(torch))
