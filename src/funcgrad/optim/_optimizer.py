"""Optimizers with torch's interface, whose update rules are optax transformations.

Each ``step()`` runs one group's update as one cached ``jax.jit`` program over the arrays of its
parameters, gradients and optax states, then writes the new arrays back into the same
Parameter boxes. Hyperparameters (``lr``, ``momentum`` …) are operands of that program, read
from ``param_groups`` at every step, so a scheduler changing ``lr`` does not recompile; the
choices that change the state's shape (``nesterov``, ``amsgrad``, ``centered``, momentum on or
off) select the program.

Each parameter has its own optax state, as it has its own state in torch: a parameter whose
``.grad`` is None is skipped, and its step count does not advance. The state's arrays live in
Tensor boxes (rebound in place each step), so ``funcgrad.compile`` finds them as it finds
parameters.
"""

from __future__ import annotations

import collections
import copy
import functools
from collections.abc import Callable, Iterable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from .._grad_mode import enable_grad
from .._graph import RemovableHandle, add_hook
from .._tensor import Tensor, is_tensor
from .._tensor import arrays as _unbox
from ..nn._modules import _typename, _zero_grad, is_lazy


def _scalar(value) -> jax.Array:
    """A hyperparameter's array, weakly typed as a Python float is in a jnp expression."""
    return jnp.asarray(float(value))


class _ParamGroup(dict):
    """A param group (a dict, as in torch) that also keeps its operand hyperparameters in
    Tensor boxes. The update reads the boxes and ``group['lr'] = x`` rewrites them in place,
    so a new value reaches a program compiled by ``funcgrad.compile`` as well: that sees
    boxes, not dict entries."""

    def __init__(self, group: dict) -> None:
        super().__init__(group)
        self._boxes: dict = {}
        self.made_for = None  # the structure (see Optimizer._structure) its states were made for

    def track(self, key: str) -> None:
        """Keeps ``self[key]`` (a number or a tuple of numbers) in boxes from now on."""
        value = self[key]
        self._boxes[key] = (tuple(Tensor._wrap(_scalar(v)) for v in value)
                            if isinstance(value, tuple) else Tensor._wrap(_scalar(value)))

    def operand(self, key: str):
        """The value of ``self[key]`` as the update program takes it: arrays."""
        box = self._boxes[key]
        return tuple(b._read() for b in box) if isinstance(box, tuple) else box._read()

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        box = self._boxes.get(key)
        if box is not None:
            for b, v in zip(box, value) if isinstance(box, tuple) else [(box, value)]:
                b._write(_scalar(v))

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def _box(state):
    """An optax state with each array in a Tensor box of its own."""
    return jax.tree.map(Tensor._wrap, state)


def _real_view(a):
    """torch's ``view_as_real`` of a complex array (trailing real and imaginary parts); a real
    array as it is."""
    return jnp.stack([a.real, a.imag], -1) if jnp.iscomplexobj(a) else a


def _complex_view(a, like):
    """The inverse of ``_real_view``, for an array that was ``like`` before."""
    return jax.lax.complex(a[..., 0], a[..., 1]) if jnp.iscomplexobj(like) else a


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _update(build: Callable, structure, maximize: bool, real_views: bool, hyper: dict,
            params: list, grads: list, states: list):
    """One step for a group: each unit's new parameter arrays and optax state (``maximize``:
    for the negated gradients, as torch negates them before anything else; ``real_views``:
    complex parameters and gradients as their real views, on which the states were made)."""
    transform = build(structure, **hyper)
    new_params, new_states = [], []
    for p, g, s in zip(params, grads, states):
        if maximize:
            g = jax.tree.map(jnp.negative, g)
        viewed, g = (tuple(map(_real_view, p)), tuple(map(_real_view, g))) if real_views else (
            p, g)
        updates, s = transform.update(g, s, viewed)
        new = optax.apply_updates(viewed, updates)
        new_params.append(tuple(map(_complex_view, new, p)) if real_views else new)
        new_states.append(s)
    return new_params, new_states


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _switches(**switches) -> dict:
    """torch's switches of how a step runs, those an optimizer takes, as group entries (so they
    print and save as torch's): ``maximize`` ascends the objective; ``foreach``, ``fused`` and
    ``capturable`` choose among torch's kernels, while funcgrad's step is one XLA program
    either way.

    Raises:
        RuntimeError: torch's, for ``foreach`` and ``fused`` both True.
        NotImplementedError: for ``differentiable=True``: the step writes the parameters outside
            the graph, so no gradient could flow through it.
    """
    if switches.get("foreach") and switches.get("fused"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if switches.get("differentiable"):
        raise NotImplementedError(
            "differentiable=True is not supported: funcgrad's optimizers update the parameters "
            "outside the graph, so no gradient flows through step(). To differentiate through "
            "an update, write it as a function of the parameters (funcgrad.func.functional_call "
            "under funcgrad.grad).")
    return switches


class _RequiredParameter:
    """The default of a hyperparameter that every parameter group must give: a custom
    optimizer's ``lr=required``, as torch's ``optim.optimizer.required``."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# Hooks on every optimizer's step (torch.optim.optimizer.register_optimizer_step_*_hook).
_global_step_pre_hooks: collections.OrderedDict = collections.OrderedDict()
_global_step_post_hooks: collections.OrderedDict = collections.OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``
    (before the optimizer's own pre-hooks); it may return new ``(args, kwargs)``."""
    return add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``
    (after the optimizer's own post-hooks)."""
    return add_hook(_global_step_post_hooks, hook)


def _traced_step_by_hand(self: Optimizer, step: Callable, args: tuple, kwargs: dict):
    """``step`` of an optimizer stepping by hand while ``funcgrad.compile`` traces it, which
    runs its Python once: refused, its state left as it was, where the step makes state (torch's
    optimizers make theirs at the first step) or changes a Python number in it (a step count),
    which the program would not make or change again."""
    before = {p: {k: v for k, v in self.state[p].items() if not is_tensor(v)}
              for group in self.param_groups for p in group["params"] if self.state.get(p)}
    out = step(*args, **kwargs)
    made = [p for p, state in self.state.items() if state and p not in before]
    changed = [(p, k) for p, numbers in before.items() for k, v in numbers.items()
               if self.state[p].get(k) is not v]
    if not (made or changed):
        return out
    for p in made:
        del self.state[p]
    for p, numbers in before.items():
        self.state[p].update(numbers)
    name = type(self).__name__
    if made:
        raise RuntimeError(
            f"{name}.step made its state (self.state[p]) while funcgrad.compile traced it: an "
            "optimizer written as torch's makes its state at its first step, and a compiled "
            "program cannot keep state it made. Take one step uncompiled first (or make the "
            "state in __init__), then compile.")
    raise RuntimeError(
        f"{name}.step changed self.state[p][{changed[0][1]!r}], a Python "
        f"{type(before[changed[0][0]][changed[0][1]]).__name__}, while funcgrad.compile traced "
        "it: the compiled program runs the step's Python once, so it would never change again. "
        "Keep it in a tensor (funcgrad.tensor(0.0), updated in place), as torch's optimizers "
        "keep their step counts.")


def _hooked(step: Callable) -> Callable:
    """``step`` with the step hooks around it, as torch wraps an optimizer class's ``step``:
    ``args`` start with the optimizer itself; a pre-hook may replace ``(args, kwargs)``."""

    @functools.wraps(step)
    def hooked(*args, **kwargs):
        self = args[0]
        for hook in (*_global_step_pre_hooks.values(), *self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        if self._by_hand and Tensor._observer is not None:
            out = _traced_step_by_hand(self, step, args, kwargs)
        else:
            out = step(*args, **kwargs)
        for hook in (*self._step_post_hooks.values(), *_global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    hooked.hooked = True
    return hooked


class Optimizer:
    """Base class: torch's ``param_groups``, ``state``, ``step``, ``zero_grad``,
    ``state_dict`` and ``add_param_group`` over an optax transformation, and torch's hooks on
    ``step``, ``state_dict`` and ``load_state_dict``.

    A subclass names the group keys that are operands (``_hyper``), says which of a group's
    settings select the program (``_structure``) and builds the optax transformation from both
    (``_build``, called while tracing). Or, as torch's optimizers are written, it defines a
    ``step()`` of its own that changes the parameters in place (under ``no_grad``) and keeps
    what it needs in ``self.state[p]``, a dict per parameter made on first use.

    Args:
        params: an iterable of Tensors, or of dicts with a ``'params'`` entry and per-group
            hyperparameters.
        defaults: the hyperparameters of groups that do not set their own.
    """

    _hyper: tuple[str, ...] = ()
    # How a complex parameter steps: as torch's do, as the pair of its real and imaginary
    # parts (its ``view_as_real``: Adam's second moment is then per part, not |g|^2), where
    # True; as the optax transformation takes it, where False; not at all, where None.
    _complex_as_real: bool | None = True

    def __init__(self, params, defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.defaults = dict(defaults)
        # A subclass without an optax transformation steps by hand and keeps its own state.
        cls = type(self)
        self._by_hand = cls._build is Optimizer._build and cls._program is Optimizer._program
        self.state: dict = collections.defaultdict(dict) if self._by_hand else {}
        self.param_groups: list[dict] = []
        for hooks in self._HOOKS:
            setattr(self, hooks, collections.OrderedDict())
        if not getattr(cls.step, "hooked", False):  # as torch, once per class, at first use
            cls.step = _hooked(cls.step)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    # ----- what a subclass defines ------------------------------------------------------------
    @staticmethod
    def _structure(group: dict):
        """The hashable settings that select the program (the rest are operands)."""
        return ()

    @staticmethod
    def _build(structure, **hyper) -> optax.GradientTransformation:
        raise NotImplementedError

    def _program(self, group: dict) -> tuple[Callable, object, dict]:
        return type(self)._build, self._structure(group), {
            k: group.operand(k) for k in self._hyper}

    def _units(self, group: dict) -> list[tuple[Tensor, ...]]:
        """The parameters that share one optax state: each alone, as torch keeps state."""
        return [(p,) for p in group["params"]]

    # ----- torch's interface ------------------------------------------------------------------
    _HOOKS = ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
              "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
              "_load_state_dict_post_hooks")

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs)`` to run before each ``step``; it may
        return new ``(args, kwargs)`` (``args`` start with the optimizer)."""
        return add_hook(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs)`` to run after each ``step``."""
        return add_hook(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False
                                     ) -> RemovableHandle:
        """Registers ``hook(optimizer)`` to run before ``state_dict``."""
        return add_hook(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False
                                      ) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict)``, run on what ``state_dict`` made; what it
        returns, if not None, replaces it."""
        return add_hook(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict)``, run on (a shallow copy of) what
        ``load_state_dict`` is given, before it loads; what it returns, if not None, is loaded
        instead."""
        return add_hook(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer)`` to run after ``load_state_dict``."""
        return add_hook(self._load_state_dict_post_hooks, hook, prepend)

    def add_param_group(self, param_group: dict) -> None:
        """Adds a group of parameters, with its own hyperparameters (defaults fill the rest).

        Raises:
            TypeError: for a set of parameters or a non-Tensor.
            ValueError: for a non-leaf tensor, a parameter already in another group, or no
                value for a hyperparameter whose default is ``required``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = _ParamGroup({**param_group, "params": params})
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        for name in self._hyper:
            group.track(name)
        self.param_groups.append(group)
        self._init_states(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drops every parameter's ``.grad`` (or, with ``set_to_none=False``, zeroes it in
        place)."""
        _zero_grad((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable | None = None):
        """Updates every parameter that has a ``.grad``, in place.

        Args:
            closure: recomputes and returns the loss (called with grad mode on).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _init_states(self, group: dict, states: dict | None = None) -> None:
        """Sets each unit's state: from ``states`` (keyed by the unit's first parameter) where
        there, else made afresh. Unlike torch, which makes state at the first step, this runs
        outside any trace, so ``funcgrad.compile`` meets the state as state from outside.
        An optimizer stepping by hand (see the class) keeps its state itself: it gets the
        loaded one, the floating tensors in it as copies of the parameter's dtype (torch's)."""
        if self._by_hand:
            for p in group["params"]:
                if states is not None and p in states:
                    self.state[p] = {k: v.detach().clone().to(p.dtype)
                                     if is_tensor(v) and v.is_floating_point() and k != "step"
                                     else copy.deepcopy(v) for k, v in states[p].items()}
            return
        group.made_for = self._structure(group)
        for unit in self._units(group):
            state = (states or {}).get(unit[0])
            if state is not None:
                self._set_state(unit[0], state)
            elif not any(map(is_lazy, unit)):  # (a lazy module's waits for its shape)
                self._set_state(unit[0], self._fresh_state(group, unit))

    def _fresh_state(self, group: dict, unit: tuple[Tensor, ...]):
        """A new optax state for the parameters ``unit``."""
        build, structure, hyper = self._program(group)
        arrays = tuple(p._read() for p in unit)
        return build(structure, **hyper).init(
            tuple(map(_real_view, arrays)) if self._complex_as_real else arrays)

    def _set_state(self, key: Tensor, state) -> None:
        """Writes ``state``'s arrays into ``key``'s boxes in place (a compiled program holding
        the boxes sees them), or boxes it anew when its structure is new."""
        boxes = self.state.get(key)
        if boxes is None or jax.tree.structure(boxes, is_leaf=is_tensor) != jax.tree.structure(
                state):
            self.state[key] = _box(state)
            return
        for box, array in zip(jax.tree.leaves(boxes, is_leaf=is_tensor), jax.tree.leaves(state)):
            box._write(array)

    def _step_group(self, group: dict) -> None:
        units = [u for u in self._units(group) if any(p.grad is not None for p in u)]
        if not units:
            return
        if self._structure(group) != group.made_for:
            # A setting that shapes the state changed (a scheduler cycling SGD's momentum on,
            # say): the states start afresh, as torch makes a missing buffer at first use.
            self._init_states(group)
        if self._complex_as_real is None and any(p.is_complex() for u in units for p in u):
            raise RuntimeError(f"{type(self).__name__} does not support complex parameters; "
                               "step their real views instead (funcgrad.view_as_real).")
        for unit in units:
            if unit[0] not in self.state:  # a lazy module's parameter, shaped since
                self._set_state(unit[0], self._fresh_state(group, unit))
        params = [tuple(p._read() for p in u) for u in units]
        grads = [tuple(jnp.zeros_like(a) if p.grad is None else p.grad._read()
                       for p, a in zip(u, arrays)) for u, arrays in zip(units, params)]
        states = [self._state_for_step(group, _unbox(self.state[u[0]])) for u in units]
        build, structure, hyper = self._program(group)
        new_params, new_states = _update(build, structure, bool(group.get("maximize")),
                                         bool(self._complex_as_real), hyper, params, grads,
                                         states)
        for unit, arrays, state in zip(units, new_params, new_states):
            self._set_state(unit[0], state)
            for p, array in zip(unit, arrays):
                if p.grad is not None:
                    p._write(array)

    def _state_for_step(self, group: dict, state):
        return state

    def state_dict(self) -> dict:
        """``{'state': {index: optax state}, 'param_groups': [group with 'params' as
        indices]}``, parameters numbered in group order as torch numbers them. The state is a
        snapshot of arrays (later steps do not change it); an optimizer stepping by hand gives
        its state dicts as they are, as torch's does."""
        for hook in self._state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state_dict = {"state": {index[id(p)]: s if self._by_hand else _unbox(s)
                                for p, s in self.state.items()},
                      "param_groups": groups}
        for hook in self._state_dict_post_hooks.values():
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores hyperparameters and state saved by ``state_dict`` (from an optimizer
        over parameters of the same shapes, in the same groups).

        Raises:
            ValueError: if the group count or a group's size differs.
        """
        state_dict = state_dict.copy()
        for hook in self._load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        params = {i: p for s, g in zip(saved, self.param_groups)
                  for i, p in zip(s["params"], g["params"])}
        states = {params[i]: s for i, s in state_dict["state"].items()}
        for s, group in zip(saved, self.param_groups):
            group.update({k: v for k, v in s.items() if k != "params"})
            self._init_states(group, states)
        for hook in self._load_state_dict_post_hooks.values():
            hook(self)

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return text + ")"


class SGD(Optimizer):
    """Stochastic gradient descent with torch's momentum, dampening, Nesterov and (L2) weight
    decay: ``g += wd * p; buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` at the
    first step); ``p -= lr * (g + momentum * buf if nesterov else buf)``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = funcgrad.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    _hyper = ("lr", "momentum", "dampening", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _require(not nesterov or (momentum > 0 and dampening == 0),
                 "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, **_switches(maximize=maximize, foreach=foreach,
                                           differentiable=differentiable, fused=fused)))

    @staticmethod
    def _structure(group: dict):
        return group["momentum"] != 0, bool(group["nesterov"])

    @staticmethod
    def _build(structure, lr, momentum, dampening, weight_decay):
        use_momentum, nesterov = structure
        steps = [optax.add_decayed_weights(weight_decay)]
        if use_momentum:
            # torch's buffer starts as the first gradient, undamped; optax.trace starts at zero.
            steps.append(optax.scale_by_schedule(
                lambda count: jnp.where(count == 0, 1.0, 1.0 - dampening)))
            steps.append(optax.trace(decay=momentum, nesterov=nesterov))
        steps.append(optax.scale_by_learning_rate(lr))
        return optax.chain(*steps)


class _ASGDState(NamedTuple):
    count: jax.Array
    eta: jax.Array
    mu: jax.Array
    ax: optax.Updates


def _torch_asgd(lr, lambd, alpha, t0) -> optax.GradientTransformation:
    """torch's ASGD, which optax lacks: ``p = p * (1 - lambd * eta) - eta * g`` with ``eta``
    from the previous step (``lr`` at the first), and ``ax`` the running average of the
    parameters from step ``t0`` on (before it, their latest value)."""

    def init(params):
        return _ASGDState(count=jnp.zeros([], jnp.int32), eta=jnp.asarray(lr, jnp.float32),
                          mu=jnp.ones([]), ax=optax.tree.zeros_like(params))

    def update(updates, state, params):
        count = optax.safe_increment(state.count)
        new = jax.tree.map(lambda p, g: p * (1 - lambd * state.eta) - state.eta * g, params,
                           updates)
        ax = jax.tree.map(lambda a, p: jnp.where(state.mu != 1, a + (p - a) * state.mu, p),
                          state.ax, new)
        eta = lr / (1 + lambd * lr * count) ** alpha
        mu = 1 / jnp.maximum(1, count - t0)
        return (jax.tree.map(jnp.subtract, new, params),
                _ASGDState(count=count, eta=eta, mu=mu, ax=ax))

    return optax.GradientTransformation(init, update)


class ASGD(Optimizer):
    """Averaged SGD as torch computes it: a step size decaying as
    ``lr / (1 + lambd * lr * step) ** alpha``, the parameters shrunk by ``lambd`` times it,
    L2 ``weight_decay``, and their average from step ``t0`` on kept in the state (``ax``).

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    _hyper = ("lr", "lambd", "alpha", "t0", "weight_decay")

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
            **_switches(foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)))

    @staticmethod
    def _build(structure, lr, lambd, alpha, t0, weight_decay):
        return optax.chain(optax.add_decayed_weights(weight_decay),
                           _torch_asgd(lr, lambd, alpha, t0))


def _scale_by_torch_amsgrad(b1, b2, eps) -> optax.GradientTransformation:
    """torch's AMSGrad: the running maximum is of the raw second moment, bias-corrected after;
    optax's scale_by_amsgrad takes the maximum of corrected moments (or never corrects)."""

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return optax.ScaleByAmsgradState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=zeros,
                                         nu_max=zeros)

    def update(updates, state, params=None):
        mu = optax.tree.update_moment(updates, state.mu, b1, 1)
        nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = optax.safe_increment(state.count)
        nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu)
        mu_hat = optax.tree.bias_correction(mu, b1, count)
        nu_hat = optax.tree.bias_correction(nu_max, b2, count)
        updates = jax.tree.map(lambda m, v: m / (jnp.sqrt(v) + eps), mu_hat, nu_hat)
        return updates, optax.ScaleByAmsgradState(count=count, mu=mu, nu=nu, nu_max=nu_max)

    return optax.GradientTransformation(init, update)


def _check_adam_like(lr, betas, eps, weight_decay) -> None:
    """torch's checks, in torch's order, for the optimizers that take Adam's arguments."""
    _require(lr >= 0.0, f"Invalid learning rate: {lr}")
    _require(eps >= 0.0, f"Invalid epsilon value: {eps}")
    _require(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _require(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")


def _with_weight_decay(decoupled: bool, direction: optax.GradientTransformation, weight_decay,
                       lr) -> optax.GradientTransformation:
    """``direction`` then ``-lr`` (a value, or an optax schedule of the step count), with
    weight decay added to the gradient (L2, before) or to the update (decoupled, after:
    ``p *= 1 - lr * weight_decay`` as torch's AdamW)."""
    decay = optax.add_decayed_weights(weight_decay)
    steps = (direction, decay) if decoupled else (decay, direction)
    return optax.chain(*steps, optax.scale_by_learning_rate(lr))


def _scale_by_adam(amsgrad: bool, betas, eps) -> optax.GradientTransformation:
    b1, b2 = betas
    return _scale_by_torch_amsgrad(b1, b2, eps) if amsgrad else optax.scale_by_adam(b1, b2, eps)


class Adam(Optimizer):
    """Adam as torch computes it: L2 ``weight_decay`` added to the gradient (decoupled, as
    AdamW, with ``decoupled_weight_decay=True``), ``eps`` outside the square root of the
    bias-corrected second moment, and torch's AMSGrad variant.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.Adam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            **_switches(foreach=foreach, maximize=maximize, capturable=capturable,
                        differentiable=differentiable, fused=fused),
            decoupled_weight_decay=decoupled_weight_decay))

    @staticmethod
    def _structure(group: dict):
        return bool(group["amsgrad"]), bool(group["decoupled_weight_decay"])

    @staticmethod
    def _build(structure, lr, betas, eps, weight_decay):
        amsgrad, decoupled = structure
        return _with_weight_decay(decoupled, _scale_by_adam(amsgrad, betas, eps), weight_decay,
                                  lr)


class AdamW(Adam):
    """Adam with decoupled weight decay, ``p -= lr * weight_decay * p``, as torch's AdamW.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0], requires_grad=True)
    >>> opt = funcgrad.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0.8500], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop as torch computes it: ``eps`` outside the square root, no bias correction,
    ``centered`` subtracting the squared mean gradient, and momentum applied before ``lr``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0], requires_grad=True)
    >>> opt = funcgrad.optim.RMSprop([w], lr=0.01)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0.9000], requires_grad=True)
    """

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _require(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _require(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered, **_switches(capturable=capturable, foreach=foreach,
                                           maximize=maximize, differentiable=differentiable)))

    @staticmethod
    def _structure(group: dict):
        return bool(group["centered"]), group["momentum"] != 0

    @staticmethod
    def _build(structure, lr, alpha, eps, weight_decay, momentum):
        centered, use_momentum = structure
        scale = optax.scale_by_stddev if centered else optax.scale_by_rms
        steps = [optax.add_decayed_weights(weight_decay),
                 scale(decay=alpha, eps=eps, eps_in_sqrt=False)]
        if use_momentum:
            steps.append(optax.trace(decay=momentum))
        steps.append(optax.scale_by_learning_rate(lr))
        return optax.chain(*steps)


def _given(transform, **_) -> optax.GradientTransformation:
    return transform


class _FromOptax(Optimizer):
    """A whole optax transformation over each group's parameters as one pytree."""

    _complex_as_real = False

    def __init__(self, transform: optax.GradientTransformation, params) -> None:
        self._transform = transform
        super().__init__(params, {})

    def _program(self, group: dict):
        return _given, self._transform, {}

    def _units(self, group: dict):
        return [tuple(group["params"])] if group["params"] else []

    def add_param_group(self, param_group: dict) -> None:
        # An inject_hyperparams transformation's values become group entries (its
        # learning_rate as 'lr'), for schedulers and users to change.
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for unit in self._units(group):
            state = _unbox(self.state[unit[0]])
            for name, value in getattr(state, "hyperparams", {}).items():
                group.setdefault(_group_key(name), float(value))
                group.track(_group_key(name))

    def _state_for_step(self, group: dict, state):
        if not hasattr(state, "hyperparams"):
            return state
        return state._replace(hyperparams={
            name: group.operand(_group_key(name)).astype(jnp.result_type(value))
            for name, value in state.hyperparams.items()})


def _group_key(hyperparameter: str) -> str:
    return "lr" if hyperparameter == "learning_rate" else hyperparameter


def from_optax(transform: optax.GradientTransformation, params: Iterable) -> Optimizer:
    """An Optimizer that applies any optax transformation to each group's parameters, taken
    together as one pytree (so e.g. ``optax.clip_by_global_norm`` sees them all).

    A parameter whose ``.grad`` is None is left unchanged (the transformation sees a zero
    gradient for it). For a transformation made with ``optax.inject_hyperparams``, its
    hyperparameters are group entries (``learning_rate`` as ``'lr'``), so schedulers and
    ``param_group['lr'] = ...`` change them without recompiling.

    >>> import funcgrad, optax
    >>> w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = funcgrad.optim.from_optax(optax.sgd(0.5), [w])
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0., 0.], requires_grad=True)
    """
    return _FromOptax(transform, params)
