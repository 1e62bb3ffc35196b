"""A gradient penalty, as WGAN-GP trains its critic with: the critic's gradient with respect to
its input, taken with create_graph=True, is itself differentiated with respect to the critic's
weights.

Prints the penalty and its gradient with respect to each weight matrix, once by the stateful
API (autograd.grad with create_graph=True, then .backward()) and once by the functional one
(funcgrad.grad of a function that calls funcgrad.grad); the two agree.
"""

from _common import setup

import funcgrad

# Fixed data and weights (no random draws), so a test can recompute every printed number.
REAL = [[1.0, 2.0, -0.5], [0.3, -1.0, 0.8], [0.2, 0.1, -1.2]]
FAKE = [[-0.4, 0.9, 1.1], [1.3, 0.2, -0.7], [0.0, -0.6, 0.5]]
MIX = [0.25, 0.5, 0.75]  # where each penalty point lies between its real and fake sample
W1 = [[0.3, -0.2, 0.5, 0.1], [0.1, 0.4, -0.3, 0.2], [-0.5, 0.2, 0.1, -0.4]]
W2 = [[0.7], [-1.1], [0.4], [0.9]]


def critic(x, w1, w2):
    return (x @ w1).tanh() @ w2


def penalty_of_gradient(g):
    """How far each sample's input-gradient norm is from 1, squared, averaged."""
    return ((g.norm(dim=1) - 1) ** 2).mean()


def interpolated():
    mix = funcgrad.tensor(MIX).unsqueeze(1)
    return mix * funcgrad.tensor(REAL) + (1 - mix) * funcgrad.tensor(FAKE)


def stateful(x):
    w1 = funcgrad.tensor(W1, requires_grad=True)
    w2 = funcgrad.tensor(W2, requires_grad=True)
    x = x.requires_grad_()
    (g,) = funcgrad.autograd.grad(critic(x, w1, w2).sum(), x, create_graph=True)
    penalty = penalty_of_gradient(g)
    penalty.backward()
    return penalty, w1.grad, w2.grad


def functional(x):
    def penalty(w1, w2):
        g = funcgrad.grad(lambda x: critic(x, w1, w2).sum())(x)
        return penalty_of_gradient(g)

    return funcgrad.value_and_grad(penalty, argnums=(0, 1))(funcgrad.tensor(W1),
                                                            funcgrad.tensor(W2))


def main() -> None:
    setup(__doc__)
    x = interpolated()
    penalty, dw1, dw2 = stateful(x)
    print(f"penalty: {penalty.item()}")
    print(f"dpenalty/dw1: {dw1.tolist()}")
    print(f"dpenalty/dw2: {dw2.tolist()}")
    value, (dw1, dw2) = functional(x.detach())
    print(f"functional penalty: {value.item()}")
    print(f"functional dpenalty/dw1: {dw1.tolist()}")
    print(f"functional dpenalty/dw2: {dw2.tolist()}")


if __name__ == "__main__":
    main()
