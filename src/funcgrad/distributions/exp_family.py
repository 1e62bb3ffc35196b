"""``ExponentialFamily``: the base of distributions of density ``h(x) exp(<t(x), theta> -
F(theta))``, whose entropy and KL divergences follow from the log normalizer ``F``."""

from __future__ import annotations

from .. import autograd
from .._tensor import Tensor
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """A distribution of the exponential family: subclasses give ``_natural_params`` (the
    tuple ``theta``), ``_log_normalizer(*theta)`` (``F``) and ``_mean_carrier_measure``
    (``E[log h(x)]``); ``entropy`` is then the Bregman divergence of ``F``, as in torch
    (computed on detached natural parameters, so it has no gradient to the parameters)."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for param, grad in zip(nparams, gradients):
            result = result - (param * grad).reshape(*self._batch_shape, -1).sum(-1)
        return result
