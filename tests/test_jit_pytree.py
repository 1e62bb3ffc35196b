"""``funcgrad.jit``'s torch.jit names, which run TorchScript-decorated code as Python, and
``funcgrad.utils._pytree``, torch's tree utilities: the same values, warnings and errors as
torch's. torch's ``jit.script`` reads a function's source, so those functions are defined at
module level and use only Tensor methods, which both libraries have."""

import collections
import typing
import warnings

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message
from test_legacy_names import _warned


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ----- jit ---------------------------------------------------------------------------------------
def _branchy(x, scale: float):
    if x.sum() > 0:
        return x.clamp(min=0.0) * scale
    return -x


def _plain(x, y):
    return 2 * x + y


def _same_warning(ours, theirs, category):
    """torch's warning, but that a deprecated jit name points to funcgrad.compile alone:
    funcgrad has no torch.export."""
    assert ours.category is theirs.category is category
    theirs = message(theirs.message).replace(" or `funcgrad.export`.", ".")
    assert message(ours.message) == theirs


@pytest.mark.parametrize("values", [[1.0, -2.0, 3.0], [-1.0, -2.0, 0.5]])
def test_script_runs_the_function_as_torchs_scripted_one(torch, values):
    ours, our_warning = _warned(funcgrad, lambda T: T.jit.script(_branchy))
    theirs, their_warning = _warned(torch, lambda T: T.jit.script(_branchy))
    _same_warning(our_warning, their_warning, DeprecationWarning)
    assert ours is _branchy
    np.testing.assert_allclose(ours(funcgrad.tensor(values), 1.5).numpy(),
                               theirs(torch.tensor(values), 1.5).numpy(), rtol=1e-6)


def test_script_and_trace_of_a_module_give_torchs_outputs(torch):
    weight = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    x = np.array([[0.5, -1.0]], dtype=np.float32)

    def outputs(lib):
        layer = lib.nn.Linear(2, 3, bias=False)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weight))
        with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
            scripted = lib.jit.script(layer)
            traced = lib.jit.trace(layer, (lib.tensor(x),))
        return layer, scripted, traced, [m(lib.tensor(x)).detach().numpy()
                                         for m in (scripted, traced)]

    layer, scripted, traced, ours = outputs(funcgrad)
    theirs = outputs(torch)[3]
    assert scripted is layer and traced is layer
    for mine, want in zip(ours, theirs):
        np.testing.assert_allclose(mine, want, rtol=1e-6)


def test_trace_of_a_function_warns_as_torch_and_gives_its_values(torch):
    x, y = [1.0, 2.0], [0.5, -3.0]
    ours, our_warning = _warned(funcgrad, lambda T: T.jit.trace(
        _plain, (T.tensor(x), T.tensor(y)), check_trace=False))
    theirs, their_warning = _warned(torch, lambda T: T.jit.trace(
        _plain, (T.tensor(x), T.tensor(y)), check_trace=False))
    _same_warning(our_warning, their_warning, DeprecationWarning)
    assert ours is _plain
    assert ours(funcgrad.tensor(x), funcgrad.tensor(y)).tolist() == theirs(
        torch.tensor(x), torch.tensor(y)).tolist() == [2.5, 1.0]


def test_the_questions_decorators_and_annotations_are_torchs_outside_a_script(torch):
    for lib in (funcgrad, torch):
        assert lib.jit.is_scripting() is False and lib.jit.is_tracing() is False
        assert lib.jit.Final is typing.Final
        assert lib.jit.ignore(_plain) is _plain and lib.jit.ignore(drop=False)(_plain) is _plain
        assert lib.jit.unused(_plain) is _plain
        prop = property(lambda self: 1)
        assert lib.jit.unused(prop) is prop
        assert lib.jit.annotate(dict[str, int], {"a": 1}) == {"a": 1}
        assert lib.jit.script_if_tracing(_plain)(3, 4) == 10


@pytest.mark.parametrize("kwargs", [{"drop": True}, {"drop_on_export": True}])
def test_ignore_with_drop_warns_as_torch(torch, kwargs):
    ours, our_warning = _warned(funcgrad, lambda T: T.jit.ignore(**kwargs))
    theirs, their_warning = _warned(torch, lambda T: T.jit.ignore(**kwargs))
    _same_warning(our_warning, their_warning, FutureWarning)
    assert ours(_plain) is _plain and theirs(_plain) is _plain


def test_ignore_refuses_what_is_neither_a_bool_nor_a_function_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.jit.ignore(3))


def _timm_style_block(lib):
    class Block(lib.nn.Module):
        fused: lib.jit.Final[bool]

        def __init__(self):
            super().__init__()
            self.fused = True
            self.proj = lib.nn.Linear(2, 2)

        @lib.jit.ignore
        def no_weight_decay(self):
            return {"proj.bias"}

        def forward(self, x):
            if lib.jit.is_scripting() or lib.jit.is_tracing():
                return x
            out = lib.jit.annotate(list[lib.Tensor], [])
            out.append(self.proj(x).relu())
            return out[0]

    lib.manual_seed(0)
    return Block()


def test_timm_style_model_code_runs_eagerly_and_through_script(torch):
    rng = np.random.default_rng(1)
    w, b, x = (rng.standard_normal(s).astype(np.float32) for s in [(2, 2), (2,), (4, 2)])

    def run(lib, script):
        block = _timm_style_block(lib)
        with lib.no_grad():
            block.proj.weight.copy_(lib.tensor(w))
            block.proj.bias.copy_(lib.tensor(b))
        if script:
            with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
                block = lib.jit.script(block)
        return block.no_weight_decay(), block(lib.tensor(x)).detach().numpy()

    theirs = run(torch, script=False)
    for script in (False, True):
        ours = run(funcgrad, script)
        assert ours[0] == theirs[0]
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_funcgrad_jit_is_still_jaxs_jit_and_imports_as_torch_jit():
    from funcgrad.jit import Final, is_scripting

    doubled = funcgrad.jit(lambda x: x * 2)(funcgrad.tensor([1.0, 2.0]))
    assert doubled.tolist() == [2.0, 4.0] and Final is typing.Final and not is_scripting()


# ----- pytree ------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")


def _tree(lib):
    """A nested tree of every builtin node kind, with tensors, numbers and None at the leaves;
    its dicts' keys are not in sorted order."""
    ordered = collections.OrderedDict([("z", 1), ("a", lib.tensor([2.0, 3.0]))])
    default = collections.defaultdict(list, {"q": None, "b": (4,)})
    return {"w": lib.ones(2), "b": [None, Point(5, ordered)], "a": (default,),
            "d": collections.deque([6, 7], maxlen=3)}


def _plain_leaves(lib, leaves):
    return [x.tolist() if isinstance(x, lib.Tensor) else x for x in leaves]


def test_flatten_gives_torchs_leaves_in_order_and_its_spec(torch):
    (ours, our_spec), (theirs, their_spec) = (
        lib.utils._pytree.tree_flatten(_tree(lib)) for lib in (funcgrad, torch))
    assert _plain_leaves(funcgrad, ours) == _plain_leaves(torch, theirs) == [
        [1.0, 1.0], None, 5, 1, [2.0, 3.0], None, 4, 6, 7]
    assert repr(our_spec) == repr(their_spec)
    for name in ("num_leaves", "num_nodes", "num_children"):
        assert getattr(our_spec, name) == getattr(their_spec, name)
    assert our_spec.context == their_spec.context == ["w", "b", "a", "d"]


def test_unflatten_rebuilds_every_node_kind_as_torch(torch):
    def rebuilt(lib):
        pytree = lib.utils._pytree
        leaves, spec = pytree.tree_flatten(_tree(lib))
        tree = pytree.tree_unflatten(list(range(len(leaves))), spec)
        ordered = tree["b"][1].y
        return (tree, type(ordered).__name__, type(tree["a"][0]).__name__,
                tree["a"][0].default_factory, tree["d"].maxlen)

    ours, theirs = rebuilt(funcgrad), rebuilt(torch)
    assert ours == theirs
    assert type(ours[0]["b"][1]) is Point


def test_tree_map_and_map_only_over_tensors_as_torch(torch):
    def mapped(lib):
        pytree = lib.utils._pytree
        doubled = pytree.tree_map(lambda x: x * 2 if x is not None else "none", _tree(lib))
        summed = pytree.tree_map_only(lib.Tensor, lambda t: t.sum().item(), _tree(lib))
        negated = pytree.tree_map_only((int, float), lambda v: -v, _tree(lib))
        odd = pytree.tree_map_only(lambda v: isinstance(v, int) and v % 2, str, _tree(lib))
        return [_plain_leaves(lib, pytree.tree_leaves(t))
                for t in (doubled, summed, negated, odd)]

    assert mapped(funcgrad) == mapped(torch)
    assert_raises_as_torch(torch, lambda T: T.utils._pytree.tree_map_only(3, abs, [1]))


def test_tree_map_over_several_trees_takes_the_first_as_prefix_as_torch(torch):
    for lib in (funcgrad, torch):
        pytree = lib.utils._pytree
        assert pytree.tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]]) == [
            [5, 7, 9], [6, 1, 2]]
        # a dict may stand for another dict type, its keys in another order
        assert pytree.tree_map(lambda x, y: x + y, {"b": 1, "a": 2},
                               collections.OrderedDict(a=10, b=20)) == {"b": 21, "a": 12}


_MISMATCHES = {
    "type": lambda T: T.utils._pytree.tree_map(max, [1, 2], (1, 2)),
    "arity": lambda T: T.utils._pytree.tree_map(max, [1, 2], [1, 2, 3]),
    "keys": lambda T: T.utils._pytree.tree_map(max, {"a": 1, "b": 2}, {"a": 1, "c": 2}),
    "namedtuple": lambda T: T.utils._pytree.tree_map(
        max, Point(1, 2), collections.namedtuple("Other", "x y")(1, 2)),
    "unflatten count": lambda T: T.utils._pytree.tree_unflatten(
        [1, 2], T.utils._pytree.tree_structure([1, (2, 3)])),
    "unflatten spec": lambda T: T.utils._pytree.tree_unflatten([1], [2]),
}


@pytest.mark.parametrize("scenario", _MISMATCHES.values(), ids=_MISMATCHES)
def test_mismatched_structures_raise_as_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_none_is_a_leaf_and_the_predicates_are_torchs(torch):
    for lib in (funcgrad, torch):
        pytree = lib.utils._pytree
        assert pytree.tree_leaves(None) == [None] and pytree.tree_leaves([]) == []
        assert pytree.tree_all(lambda x: x is None, [None, (None,), {"a": None}])
        assert not pytree.tree_any(lambda x: x is None, [1, (2,), {"a": 3}])
        assert pytree.tree_any(lambda x: x == 3, [1, (2,), {"a": 3}])
        assert pytree.tree_leaves([[1, 2], (3,)], is_leaf=lambda x: isinstance(x, list)) == [
            [[1, 2], (3,)]]
        assert pytree.tree_leaves([[1, 2], (3,)], is_leaf=lambda x: x == [1, 2]) == [[1, 2], 3]
        spec = pytree.tree_structure(7)
        assert spec.is_leaf() and isinstance(spec, pytree.LeafSpec)
        assert pytree.tree_structure((1, 2)) == pytree.tree_structure((None, "a"))
        assert pytree.tree_structure((1, 2)) != pytree.tree_structure([1, 2])
        assert pytree.tree_unflatten(pytree.tree_structure((1, [2])), [3, 4]) == (3, [4])


def test_size_and_return_types_are_nodes_as_torch(torch):
    def mapped(lib):
        pytree = lib.utils._pytree
        size = pytree.tree_map(lambda n: n * 2, lib.Size([2, 3]))
        pair = lib.max(lib.tensor([[1.0, 4.0], [3.0, 2.0]]), 0)
        result = pytree.tree_map(lambda t: t + 1, pair)
        return (type(size).__name__, list(size), type(result).__name__,
                _plain_leaves(lib, pytree.tree_leaves(result)))

    assert mapped(funcgrad) == mapped(torch) == (
        "tuple", [4, 6], "max", [[4.0, 5.0], [2, 1]])


def test_a_leaf_spec_made_by_hand_warns_as_torch(torch):
    ours, our_warning = _warned(funcgrad, lambda T: T.utils._pytree.LeafSpec())
    theirs, their_warning = _warned(torch, lambda T: T.utils._pytree.LeafSpec())
    _same_warning(our_warning, their_warning, FutureWarning)
    assert repr(ours) == repr(theirs) == "*" and ours.is_leaf()


def test_a_registered_node_flattens_maps_and_refuses_a_second_registration_as_torch(torch):
    class Box:
        def __init__(self, items, label):
            self.items, self.label = items, label

    def flatten(box):
        return list(box.items), box.label

    def unflatten(children, label):
        return Box(children, label)

    def used(lib):
        pytree = lib.utils._pytree
        pytree.register_pytree_node(Box, flatten, unflatten,
                                    serialized_type_name="test_jit_pytree.Box")
        tree = {"k": Box([lib.tensor(1.0), None], "first")}
        leaves, spec = pytree.tree_flatten(tree)
        scaled = pytree.tree_map(lambda t, n: n if t is None else t * n, tree["k"],
                                 Box([3, 2], "first"))
        return (_plain_leaves(lib, leaves), spec.num_nodes, scaled.label,
                _plain_leaves(lib, scaled.items),
                pytree.tree_leaves(pytree.tree_map(lambda x: x, Box([3, 4], "x"))))

    assert used(funcgrad) == used(torch) == ([1.0, None], 4, "first", [3.0, 2], [3, 4])
    assert_raises_as_torch(torch, lambda T: T.utils._pytree.register_pytree_node(
        Box, flatten, unflatten))
    assert_raises_as_torch(torch, lambda T: T.utils._pytree.tree_map(
        max, Box([1], "a"), Box([1], "b")))
    assert_raises_as_torch(torch, lambda T: T.utils._pytree.tree_map(max, Box([1], "a"), [1]))
