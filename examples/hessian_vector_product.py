"""Hessian-vector products of the Rosenbrock function without forming the Hessian, three ways:

- stateful: autograd.grad(f(x), x, create_graph=True), then .backward() of <grad, v>;
- funcgrad.autograd.functional.hvp(f, x, v), as torch.autograd.functional.hvp;
- functional: funcgrad.jvp(funcgrad.grad(f), (x,), (v,)), forward over reverse, as in JAX.

Each costs about two gradient evaluations, whatever the dimension. Prints each product; they
agree with each other and with the closed-form Hessian times v.
"""

from _common import setup

import funcgrad

X = [-1.2, 1.0, 0.5, 2.0, -0.3]
V = [1.0, -2.0, 0.5, 0.0, 3.0]


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def by_double_backward(x, v):
    x = x.detach().requires_grad_()
    (g,) = funcgrad.autograd.grad(rosenbrock(x), x, create_graph=True)
    (g * v).sum().backward()
    return x.grad


def main() -> None:
    setup(__doc__)
    x, v = funcgrad.tensor(X), funcgrad.tensor(V)
    print(f"f(x): {rosenbrock(x).item()}")
    print(f"double backward: {by_double_backward(x, v).tolist()}")
    _, hv = funcgrad.autograd.functional.hvp(rosenbrock, x, v)
    print(f"autograd.functional.hvp: {hv.tolist()}")
    _, hv = funcgrad.jvp(funcgrad.grad(rosenbrock), (x,), (v,))
    print(f"jvp of grad: {hv.tolist()}")


if __name__ == "__main__":
    main()
