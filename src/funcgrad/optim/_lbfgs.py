"""``LBFGS``: torch's L-BFGS, iterations, tolerances and strong-Wolfe line search as torch
runs them, so a closure-driven fit takes torch's steps.

Unlike the other optimizers this is not an optax transformation: a step calls the closure as
many times as its tests decide (optax's ``lbfgs`` takes a pure function and stops by other
rules), so the loop runs in Python over the flat vector of all parameters, with JAX doing
each vector operation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax.numpy as jnp

from .._grad_mode import enable_grad
from .._tensor import Tensor
from ._optimizer import Optimizer, _complex_view, _real_view


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimizer of the cubic through two points with their values and slopes, kept in
    ``bounds`` (by default, between the points); the middle when the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (xmin_bound + xmax_bound) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, xmin_bound), xmax_bound)


def _strong_wolfe(obj_func: Callable, t: float, d, f: float, g, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """torch's line search along ``d`` from step ``t``: a step meeting the strong Wolfe
    conditions, bracketed then zoomed by cubic interpolation. Returns the loss and gradient
    there, the step, and how many evaluations it took."""
    d_norm = float(jnp.max(jnp.abs(d)))
    f_new, g_new = obj_func(t, d)
    ls_func_evals = 1
    gtd_new = float(jnp.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracketing
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = float(jnp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                               bracket_f[1], bracket_gtd[1])
        # A point too near an end of the bracket makes little progress: then, or when it
        # lies outside, take one a tenth of the bracket inside.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = float(jnp.dot(g_new, d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """torch's L-BFGS: each ``step(closure)`` runs up to ``max_iter`` iterations (and
    ``max_eval`` closure calls) of quasi-Newton steps from the last ``history_size`` updates,
    with a fixed step ``lr`` or a strong-Wolfe line search (``line_search_fn='strong_wolfe'``).
    One parameter group; complex parameters step as their real views.

    >>> import funcgrad
    >>> x = funcgrad.tensor([1.5, -0.5], requires_grad=True)
    >>> opt = funcgrad.optim.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((x - 2) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure); x
    tensor([2., 2.], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval,
            "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
            "history_size": history_size, "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _init_states(self, group: dict, states: dict | None = None) -> None:
        # As torch, state is made at the first step (a dict of the search's history).
        self.state.update(states or {})

    def _flat_grad(self):
        return jnp.concatenate([
            jnp.ravel(_real_view(jnp.zeros_like(p._read()) if p.grad is None
                                 else p.grad._read())) for p in self._params])

    def _add_grad(self, step: float, update) -> None:
        offset = 0
        for p in self._params:
            array = p._read()
            view = _real_view(array)
            moved = view + step * update[offset:offset + view.size].reshape(view.shape)
            p._write(_complex_view(moved.astype(view.dtype), array))
            offset += view.size

    def _directional_evaluate(self, closure: Callable, t: float, d) -> tuple:
        """The loss and flat gradient at the parameters moved by ``t * d``, which then
        return to where they were."""
        start = [p._read() for p in self._params]
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        for p, array in zip(self._params, start):
            p._write(array)
        return loss, flat_grad

    def step(self, closure: Callable):
        """Runs the iterations of one optimization step.

        Args:
            closure: clears the gradients, recomputes the loss, calls ``backward`` and returns
                the loss (called with grad mode on).

        Returns:
            The loss the first call of the closure gave.

        Raises:
            RuntimeError: torch's, for a line search other than 'strong_wolfe'.
        """
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad:  # optimal already
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = -flat_grad, [], [], [], 1
            else:  # the direction from the history, by the two-loop recursion
                y, s = flat_grad - prev_flat_grad, d * t
                ys = float(jnp.dot(y, s))
                if ys > 1e-10:  # (a step that keeps the Hessian estimate positive)
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(jnp.dot(y, y))
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in reversed(range(len(old_dirs))):
                    al[i] = float(jnp.dot(old_stps[i], q)) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(jnp.dot(old_dirs[i], d)) * ro[i]
                    d = d + (al[i] - be_i) * old_stps[i]
            prev_flat_grad, prev_loss = flat_grad, loss
            t = min(1.0, 1.0 / float(jnp.sum(jnp.abs(flat_grad)))) * lr \
                if state["n_iter"] == 1 else lr
            gtd = float(jnp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction
                break
            ls_func_evals = 0
            if line_search_fn is not None:
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    functools.partial(self._directional_evaluate, closure), t, d, loss,
                    flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    opt_cond = float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if (n_iter == max_iter or current_evals >= max_eval or opt_cond
                    or float(jnp.max(jnp.abs(d * t))) <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
