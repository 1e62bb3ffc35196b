"""``funcgrad.utils._pytree``: torch.utils._pytree's utilities, which libraries import to walk
nested containers of tensors: ``tree_flatten`` and ``tree_unflatten``, ``tree_map``,
``tree_map_only``, ``tree_leaves``, ``tree_structure``, ``tree_all``, ``tree_any``, ``TreeSpec``
and ``register_pytree_node``.

The trees are torch's, not ``jax.tree_util``'s, for three differences code relies on: ``None``
is a leaf (JAX: a node with no children), a dict's leaves come in insertion order (JAX sorts
the keys) and a Tensor is a leaf (JAX flattens funcgrad's Tensor into its array). The nodes are
tuples, lists, dicts, named tuples (``funcgrad.return_types`` too), ``OrderedDict``,
``defaultdict``, ``deque`` and ``funcgrad.Size``, and the types registered here; anything else
is a leaf.

>>> import funcgrad
>>> from funcgrad.utils._pytree import tree_flatten, tree_map
>>> tree_flatten({"b": 1, "a": (2, None)})[0]
[1, 2, None]
>>> tree_map(lambda t: t * 2, {"w": funcgrad.ones(2), "n": 3})
{'w': tensor([2., 2.]), 'n': 6}
"""

from __future__ import annotations

import functools
import types
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from .._tensor import Size

__all__ = ["LeafSpec", "TreeSpec", "map_only", "register_pytree_node", "tree_all", "tree_any",
           "tree_flatten", "tree_is_leaf", "tree_iter", "tree_leaves", "tree_map",
           "tree_map_only", "tree_structure", "tree_unflatten"]


class NodeDef(NamedTuple):
    type: Any
    flatten_fn: Callable[[Any], tuple[list, Any]]
    unflatten_fn: Callable[[Iterable, Any], Any]


def _dict_flatten(d):
    return list(d.values()), list(d)


SUPPORTED_NODES: dict[Any, NodeDef] = {node.type: node for node in [
    NodeDef(tuple, lambda t: (list(t), None), lambda values, _: tuple(values)),
    NodeDef(list, lambda t: (list(t), None), lambda values, _: list(values)),
    NodeDef(dict, _dict_flatten, lambda values, keys: dict(zip(keys, values, strict=True))),
    NodeDef(namedtuple, lambda t: (list(t), type(t)), lambda values, cls: cls(*values)),
    NodeDef(OrderedDict, _dict_flatten,
            lambda values, keys: OrderedDict(zip(keys, values, strict=True))),
    NodeDef(defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d)]),
            lambda values, context: defaultdict(context[0], zip(context[1], values,
                                                                strict=True))),
    NodeDef(deque, lambda d: (list(d), d.maxlen), lambda values, n: deque(values, maxlen=n)),
    # as torch's Size, built again as a plain tuple (mapped sizes need not be ints)
    NodeDef(Size, lambda s: (list(s), None), lambda values, _: tuple(values)),
]}
_BUILTIN = frozenset([tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque])
_DICTS = frozenset([dict, OrderedDict, defaultdict])


def _node_type(tree) -> Any:
    """The registry's key for ``tree``: every named tuple is the one node ``namedtuple``."""
    cls = type(tree)
    return namedtuple if issubclass(cls, tuple) and hasattr(cls, "_fields") else cls


class TreeSpec:
    """The structure of a pytree: its node ``type`` (None for a leaf), the node's ``context``
    (a dict's keys, a named tuple's class …) and the specs of its children.

    >>> from funcgrad.utils._pytree import tree_structure
    >>> spec = tree_structure([1, (2, 3)])
    >>> spec.num_leaves, spec.unflatten("abc")
    (3, ['a', ('b', 'c')])
    """

    def __init__(self, type: Any, context: Any, children_specs: list[TreeSpec]) -> None:
        self.type, self.context, self._children = type, context, list(children_specs)
        self.num_children = len(self._children)
        self.num_nodes = 1 + sum(child.num_nodes for child in self._children)
        self.num_leaves = 1 if type is None else sum(c.num_leaves for c in self._children)

    def is_leaf(self) -> bool:
        """Whether this spec stands for a leaf."""
        return self.type is None

    def children(self) -> list[TreeSpec]:
        """The specs of the node's children."""
        return list(self._children)

    def child(self, index: int) -> TreeSpec:
        """The spec of the node's child ``index``."""
        return self._children[index]

    def __eq__(self, other) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (self.type, self.context, self._children) == (other.type, other.context,
                                                             other._children)

    def __hash__(self) -> int:
        return hash((self.type, tuple(self._children)))

    def __repr__(self, indent: int = 0) -> str:
        if self.is_leaf():
            return "*"
        indent += 2
        children = ",".join(("\n" + " " * indent if k else "") + child.__repr__(indent)
                            for k, child in enumerate(self._children))
        return f"TreeSpec({self.type.__name__}, {self.context}, [{children}])"

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` where this spec has its leaves (``tree`` has this spec's
        structure down to them; a dict may stand for another dict type, its keys in any order).

        Raises:
            ValueError: ``tree`` does not have this structure.
        """
        if self.is_leaf():
            return [tree]
        kind = _node_type(tree)
        if self.type in _DICTS and kind in _DICTS:
            keys = self.context[1] if self.type is defaultdict else self.context
            self._check_arity(len(tree))
            missing, extra = set(keys) - set(tree), set(tree) - set(keys)
            if missing or extra:
                raise ValueError("Node keys mismatch" + (
                    f"; missing key(s): {missing}" if missing else "") + (
                    f"; extra key(s): {extra}" if extra else "") + ".")
            children = [tree[key] for key in keys]
        else:
            builtin = self.type in _BUILTIN
            if kind != self.type:
                raise ValueError(f"{'Node type' if builtin else 'Type'} mismatch; expected "
                                 f"{self.type!r}, but got {kind!r}.")
            children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
            self._check_arity(len(children))
            if kind is not deque and context != self.context:  # a deque's maxlen may differ
                raise ValueError(
                    f"Node context mismatch for node type {self.type!r}; expected "
                    f"{self.context!r}, but got {context!r}." if builtin else
                    f"Node context mismatch for custom node type {self.type!r}.")
        return [leaf for child, spec in zip(children, self._children)
                for leaf in spec.flatten_up_to(child)]

    def _check_arity(self, count: int) -> None:
        if count != self.num_children:
            raise ValueError(
                f"Node arity mismatch; expected {self.num_children}, but got {count}.")

    def unflatten(self, leaves: Iterable) -> Any:
        """The pytree of this structure with ``leaves`` as its leaves, in order.

        Raises:
            ValueError: there are not ``num_leaves`` leaves.
        """
        leaves = leaves if isinstance(leaves, (list, tuple)) else list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec "
                f"refers to a pytree that holds {self.num_leaves} items ({self}).")
        if self.is_leaf():
            return leaves[0]
        children, start = [], 0
        for spec in self._children:
            children.append(spec.unflatten(leaves[start:start + spec.num_leaves]))
            start += spec.num_leaves
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self.context)


class LeafSpec(TreeSpec):
    """The spec of a leaf. Making one gives torch's FutureWarning: ask
    ``spec.is_leaf()`` instead of ``isinstance(spec, LeafSpec)``."""

    def __init__(self) -> None:
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, "
                      "TreeSpec) and treespec.is_leaf()` instead.", FutureWarning, stacklevel=2)
        super().__init__(None, None, [])


# Every leaf shares one spec, made without the warning of a LeafSpec made by hand.
_LEAF = object.__new__(LeafSpec)
TreeSpec.__init__(_LEAF, None, None, [])


def tree_is_leaf(tree, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``tree`` is a leaf: ``is_leaf(tree)`` says so, or its type is no node.

    >>> from funcgrad.utils._pytree import tree_is_leaf
    >>> tree_is_leaf(None), tree_is_leaf([None]), tree_is_leaf((1,), is_leaf=callable)
    (True, False, False)
    """
    return (is_leaf is not None and is_leaf(tree)) or _node_type(tree) not in SUPPORTED_NODES


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeSpec]:
    """The leaves of ``tree``, depth first (a dict's in insertion order), and its structure,
    from which ``tree_unflatten`` builds the tree again.

    Args:
        tree: a pytree.
        is_leaf: whether a subtree is to be a leaf, although its type is a node.

    >>> from funcgrad.utils._pytree import tree_flatten
    >>> tree_flatten([1, {"z": 2, "a": None}])
    ([1, 2, None], TreeSpec(list, None, [*,
      TreeSpec(dict, ['z', 'a'], [*,
        *])]))
    """
    leaves: list = []

    def flatten(node) -> TreeSpec:
        if tree_is_leaf(node, is_leaf):
            leaves.append(node)
            return _LEAF
        kind = _node_type(node)
        children, context = SUPPORTED_NODES[kind].flatten_fn(node)
        return TreeSpec(kind, context, [flatten(child) for child in children])

    return leaves, flatten(tree)


def tree_unflatten(leaves: Iterable, treespec: TreeSpec) -> Any:
    """The pytree of structure ``treespec`` with ``leaves``; the inverse of ``tree_flatten``.
    As torch's, the two arguments may come in either order.

    Raises:
        TypeError: neither argument is a ``TreeSpec``.

    >>> from funcgrad.utils._pytree import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten((1, [2]))
    >>> tree_unflatten([10, 20], spec)
    (10, [20])
    """
    if not isinstance(treespec, TreeSpec):
        if not isinstance(leaves, TreeSpec):
            raise TypeError("Expected `treespec` to be an instance of PyTreeSpec but got item "
                            f"of type {type(treespec)}.")
        leaves, treespec = treespec, leaves
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf: Callable[[Any], bool] | None = None) -> Iterator:
    """The leaves of ``tree``, one by one, in ``tree_flatten``'s order.

    >>> from funcgrad.utils._pytree import tree_iter
    >>> next(tree_iter(({"b": 1, "a": 2},)))
    1
    """
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    for child in SUPPORTED_NODES[_node_type(tree)].flatten_fn(tree)[0]:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of ``tree``, in ``tree_flatten``'s order.

    >>> from funcgrad.utils._pytree import tree_leaves
    >>> tree_leaves({"b": 1, "a": [2, None]})
    [1, 2, None]
    """
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    """The structure of ``tree``, as ``tree_flatten`` gives it.

    >>> from funcgrad.utils._pytree import tree_structure
    >>> tree_structure((1, 2)) == tree_structure(("a", None))
    True
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable, tree, *rests, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """The tree of ``func(x, *xs)`` at each leaf ``x`` of ``tree``, ``xs`` the subtrees at the
    same place in ``rests`` (each of which has ``tree``'s structure down to its leaves).

    Raises:
        ValueError: one of ``rests`` does not have ``tree``'s structure.

    >>> from funcgrad.utils._pytree import tree_map
    >>> tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]])
    [[5, 7, 9], [6, 1, 2]]
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    return spec.unflatten(map(func, leaves, *(spec.flatten_up_to(rest) for rest in rests)))


def map_only(type_or_types_or_pred, /) -> Callable[[Callable], Callable]:
    """A decorator: the function applies to values that are instances of the type(s), or for
    which the predicate holds, and returns the others as they are.

    Raises:
        TypeError: the argument is neither a type, a tuple of types nor a callable.

    >>> from funcgrad.utils._pytree import map_only
    >>> map_only(int)(lambda x: -x)("a"), map_only(int)(lambda x: -x)(3)
    ('a', -3)
    """
    if isinstance(type_or_types_or_pred, (type, tuple, types.UnionType)):
        def pred(x) -> bool:
            return isinstance(x, type_or_types_or_pred)
    elif callable(type_or_types_or_pred):
        pred = type_or_types_or_pred
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")

    def wrapper(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(x):
            return func(x) if pred(x) else x
        return wrapped

    return wrapper


def tree_map_only(type_or_types_or_pred, /, func: Callable, tree,
                  is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``tree_map`` of ``func`` over the leaves that are instances of the type(s), or for which
    the predicate holds; the other leaves stay as they are.

    >>> import funcgrad
    >>> from funcgrad.utils._pytree import tree_map_only
    >>> tree_map_only(funcgrad.Tensor, lambda t: t.sum(), [funcgrad.ones(3), "x"])
    [tensor(3.), 'x']
    """
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_all(pred: Callable[[Any], bool], tree,
             is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``pred`` holds for every leaf of ``tree``.

    >>> from funcgrad.utils._pytree import tree_all
    >>> tree_all(lambda x: x is None, [None, (None,)])
    True
    """
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree,
             is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether ``pred`` holds for a leaf of ``tree``.

    >>> from funcgrad.utils._pytree import tree_any
    >>> tree_any(lambda x: x > 2, {"a": 1, "b": [3]})
    True
    """
    return any(map(pred, tree_iter(tree, is_leaf)))


def register_pytree_node(cls: type, flatten_fn: Callable[[Any], tuple[list, Any]],
                         unflatten_fn: Callable[[Iterable, Any], Any], *,
                         serialized_type_name: str | None = None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None) -> None:
    """Makes ``cls`` a node: ``flatten_fn(x)`` gives its children and a context,
    ``unflatten_fn(children, context)`` builds one again. The keyword arguments are accepted
    for torch's signature: funcgrad neither serializes tree specs nor gives key paths.

    Raises:
        ValueError: ``cls`` is a node already.

    >>> from funcgrad.utils._pytree import register_pytree_node, tree_leaves
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda c, _: Pair(*c))
    >>> tree_leaves([Pair(1, 2), 3])
    [1, 2, 3]
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)
