"""funcgrad.save and funcgrad.load against torch.save and torch.load: what comes back (values,
classes, requires_grad, leaves), weights-only loading and what it refuses, map_location, and a
checkpoint that resumes training exactly where it stopped."""

import io
import pickle

import numpy as np
import pytest

import funcgrad
from funcgrad import _tensor, nn


class _Record:
    """A class of the tests' own: weights-only loading refuses it unless allowed."""

    def __init__(self, value=0):
        self.value = value


class _SavedOn:
    """Pickles as a tensor saved on ``device`` would, whatever devices this machine has."""

    def __init__(self, device: str):
        self.device = device

    def __reduce__(self):
        return _tensor._unpickle, (funcgrad.Tensor, np.arange(3, dtype=np.float32), self.device,
                                   True)


def _saved(obj, save=funcgrad.save) -> io.BytesIO:
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return buffer


def _describe(obj) -> list:
    """Per tensor of a flat list: class name, requires_grad, is_leaf, values."""
    return [(type(t).__name__, t.requires_grad, t.is_leaf, np.asarray(t.detach()).tolist())
            for t in obj]


def _objects(lib) -> list:
    torch_nn = lib.nn
    layer = torch_nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)))
        layer.bias.fill_(0.5)
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    return [*layer.state_dict().values(), layer.weight, x, x * 2, lib.tensor([1, 2, 3])]


def test_what_comes_back_is_what_torch_gives_back(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "objects.pt"
    funcgrad.save(_objects(funcgrad), path)
    ours = funcgrad.load(path)
    theirs = torch.load(_saved(_objects(torch), torch.save))
    assert _describe(ours) == _describe(theirs)
    assert [t.dtype for t in ours] == [funcgrad.float32] * 5 + [funcgrad.tensor([1]).dtype]


def test_a_state_dict_round_trips_through_a_file_object():
    module = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    state = funcgrad.load(_saved(module.state_dict()))
    assert list(state) == list(module.state_dict())
    fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    fresh.load_state_dict(state)
    x = funcgrad.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), module(x).detach().numpy())


def _train(model, optimizer, steps: int, x, y) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def test_a_checkpoint_resumes_training_exactly(tmp_path):
    funcgrad.manual_seed(0)
    x, y = funcgrad.randn(16, 3), funcgrad.randn(16, 1)
    model = nn.Linear(3, 1)
    optimizer = funcgrad.optim.Adam(model.parameters(), lr=0.05)
    _train(model, optimizer, 3, x, y)
    funcgrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
                  tmp_path / "checkpoint.pt")
    _train(model, optimizer, 4, x, y)

    checkpoint = funcgrad.load(tmp_path / "checkpoint.pt")  # weights only: optax state loads
    resumed = nn.Linear(3, 1)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = funcgrad.optim.Adam(resumed.parameters(), lr=0.05)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    _train(resumed, resumed_optimizer, 4, x, y)
    for a, b in zip(resumed.parameters(), model.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


def test_weights_only_refuses_other_globals_as_torch_does_and_says_how():
    torch = pytest.importorskip("torch")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(_saved({"r": _Record(3)}, torch.save))
    with pytest.raises(type(theirs.value),
                       match=r"names test_serialization\._Record.*add_safe_globals"):
        funcgrad.load(_saved({"r": _Record(3)}))
    assert funcgrad.load(_saved({"r": _Record(3)}), weights_only=False)["r"].value == 3
    with funcgrad.serialization.safe_globals([_Record]):
        assert funcgrad.serialization.get_safe_globals() == [_Record]
        assert funcgrad.load(_saved({"r": _Record(4)}))["r"].value == 4
    assert funcgrad.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        funcgrad.load(_saved([_Record()]))
    with pytest.raises(RuntimeError, match="cannot use pickle_module='pickle'"):
        funcgrad.load(_saved([1]), pickle_module=pickle)


def test_weights_only_refuses_a_call_before_making_it(tmp_path):
    marker = tmp_path / "ran"
    # A pickle that calls os.system: refused by name, so the command never runs.
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    with pytest.raises(pickle.UnpicklingError, match="names os.system"):
        funcgrad.load(io.BytesIO(payload))
    assert not marker.exists()


def test_map_location_places_tensors_and_a_missing_device_says_to_use_it():
    data = [funcgrad.tensor([1.0, 2.0], device="cpu"),
            funcgrad.tensor(3.0, requires_grad=True, device="cpu")]
    for where in ("cpu", funcgrad.device("cpu"), {"cpu": "cpu"}):
        back = funcgrad.load(_saved(data), map_location=where)
        assert [str(t.device) for t in back] == ["cpu", "cpu"]
        assert _describe(back) == _describe(data)
    seen = []
    back = funcgrad.load(_saved(data), map_location=lambda t, loc: seen.append((t, loc)))
    assert [loc for _, loc in seen] == ["cpu", "cpu"] and _describe(back) == _describe(data)
    doubled = funcgrad.load(_saved(data), map_location=lambda t, loc: t * 2)
    assert [t.tolist() for t in doubled] == [[2.0, 4.0], 6.0]

    gone = _saved([_SavedOn("cuda:7")])  # a device no machine of ours has
    with pytest.raises(RuntimeError, match=r"saved on 'cuda:7'.*map_location='cpu'"):
        funcgrad.load(gone)
    for where in ("cpu", {"cuda:7": "cpu"}):
        gone.seek(0)
        (t,) = funcgrad.load(gone, map_location=where)
        assert (str(t.device), t.tolist(), t.requires_grad) == ("cpu", [0.0, 1.0, 2.0], True)


def test_a_bad_map_location_fails_before_reading():
    buffer = _saved([funcgrad.ones(2)])
    with pytest.raises(TypeError, match="map_location is a device.*got a float"):
        funcgrad.load(buffer, map_location=3.5)
    with pytest.raises(RuntimeError, match="device 'cuda:7' is not available"):
        funcgrad.load(buffer, map_location="cuda:7")
    assert buffer.tell() == 0
    with pytest.raises(TypeError, match="returns the tensor to use or None"):
        funcgrad.load(buffer, map_location=lambda t, loc: "cpu")


def test_a_file_torch_saved_gets_a_clear_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="zip archive, as torch.save writes them"):
        funcgrad.load(_saved(torch.ones(2), torch.save))
