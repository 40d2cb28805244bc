"""The models, each readable in one sitting: forward, and how the gradient gets to the parameters.

Linear regression writes its gradient by hand. On a 1,000-row problem autograd's backward pass costs
~120 µs per step on a CPU while the maths itself is ~5 µs, so the seed's model would be mostly overhead.
tests/unit/test_models.py checks the hand-written gradient against autograd.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class Linear(nn.Module):
    """ŷ = X·w + b, the seed's nn.Linear(d, 1) with a hand-written backward."""

    uses_autograd = False  # the trainer runs it under no_grad: building an unused graph costs more than the maths

    def __init__(self, n_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_features))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.mv(X, self.weight) + self.bias

    def backward(self, X: torch.Tensor, pred: torch.Tensor, dpred: torch.Tensor) -> None:
        """∂L/∂w = Xᵀ·∂L/∂ŷ and ∂L/∂b = Σ ∂L/∂ŷ. Assigned, not accumulated, so no zero_grad is needed."""
        self.weight.grad = torch.mv(X.T, dpred)  # fast when X is stored column-major (Xᵀ contiguous)
        self.bias.grad = dpred.sum()

    def grad_norm(self) -> torch.Tensor:
        g, gb = self.weight.grad, self.bias.grad
        return torch.sqrt(g.dot(g) + gb * gb)

    def init_(self, how: str, generator: torch.Generator, params: tuple[float, ...] | None = None) -> None:
        with torch.no_grad():
            if how == "zeros":
                self.weight.zero_()
                self.bias.zero_()
            elif how == "random":  # nn.Linear's default: U(−1/√d, 1/√d)
                bound = self.weight.numel() ** -0.5
                self.weight.copy_(_uniform(self.weight.shape, bound, generator, self.weight.device))
                self.bias.copy_(_uniform((), bound, generator, self.bias.device))
            else:  # "given": (w₁, …, w_d, b), in the units the optimizer sees
                values = torch.as_tensor(params, dtype=self.weight.dtype, device=self.weight.device)
                self.weight.copy_(values[:-1])
                self.bias.copy_(values[-1])


class Moments:
    """Full-batch MSE of a linear model from sufficient statistics: L(θ) = θᵀGθ − 2θᵀc + s with θ = (w, b),
    G = AᵀA/n, c = Aᵀy/n, s = yᵀy/n and A = [X, 1].

    The same loss and gradient as the row-by-row formulas, but each epoch costs O(d²) instead of O(n·d): the
    data is read once, here. Kept in float64, since θᵀGθ − 2θᵀc + s subtracts numbers larger than the loss.

    Stored as one augmented matrix M = [[G, −c], [−cᵀ, s]]: with u = (θ, 1), one matvec v = Mu = (Gθ − c, s − cᵀθ)
    gives both L = uᵀv and ∇L = 2(Gθ − c). An epoch of the seed's problem is then a handful of ops on a few
    numbers, where the count of ops, not the arithmetic, sets the speed (~1 µs each on a CPU).
    """

    def __init__(self, second_moments: torch.Tensor):
        """second_moments: BᵀB/n = [[G, c], [cᵀ, s]] for B = [X, 1, y], float64 (core.data.moments computes it in
        one pass over the rows, without copying them)."""
        self.M = second_moments.clone()
        self.M[-1, :-1] *= -1
        self.M[:-1, -1] *= -1
        self.u = torch.ones(len(self.M), dtype=torch.float64, device=self.M.device)  # (θ, 1)
        self.v = torch.empty_like(self.u)
        self.u_theta, self.v_grad = self.u[:-1], self.v[:-1]  # views made once: making one costs as much as the maths

    @classmethod
    def of_rows(cls, X: torch.Tensor, y: torch.Tensor) -> Moments:
        """From the rows themselves: the definition, for tests."""
        B = torch.cat((X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device), y[:, None].to(X.dtype)), 1).double()
        return cls(B.T @ B / len(y))

    def all_reduce(self, weight: float) -> Moments:
        """Under torchrun each rank holds a shard: the weighted sum over ranks is the whole data's statistics."""
        self.M.mul_(weight)
        torch.distributed.all_reduce(self.M)
        return self

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """L(θ) as a float64 scalar on θ's device; leaves Mu in self.v."""
        self.u_theta.copy_(theta)
        torch.mv(self.M, self.u, out=self.v)
        return self.u.dot(self.v)

    def loss_and_grad(self, theta: torch.Tensor) -> torch.Tensor:
        """Write ∂L/∂θ = 2(Gθ − c) into theta.grad (float32, like θ) and return L(θ)."""
        loss = self.loss(theta)
        torch.add(self.v_grad, self.v_grad, out=theta.grad)
        return loss


class MLP(nn.Module):
    """A small multilayer perceptron; autograd computes its gradient."""

    uses_autograd = True

    def __init__(self, n_features: int, hidden: tuple[int, ...], activation: str):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X).squeeze(-1)

    def backward(self, X: torch.Tensor, pred: torch.Tensor, dpred: torch.Tensor) -> None:
        for p in self.parameters():
            p.grad = None  # autograd accumulates; start each step afresh
        pred.backward(dpred)

    def grad_norm(self) -> torch.Tensor:
        return torch.nn.utils.get_total_norm([p.grad for p in self.parameters()], foreach=True)

    def init_(self, how: str, generator: torch.Generator, params: tuple[float, ...] | None = None) -> None:
        with torch.no_grad():
            for layer in self.net:
                if isinstance(layer, nn.Linear):  # nn.Linear's default, but from our seeded generator
                    for p in (layer.weight, layer.bias):
                        p.copy_(_uniform(p.shape, layer.in_features**-0.5, generator, p.device))
            if how == "zeros":  # all-zero hidden layers would never break symmetry; only the output starts at 0
                self.net[-1].weight.zero_()
                self.net[-1].bias.zero_()


def _uniform(shape: torch.Size, bound: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=device) * 2 * bound - bound


def build(kind: str, n_features: int, hidden: tuple[int, ...] = (16, 16), activation: str = "tanh") -> Linear | MLP:
    return Linear(n_features) if kind == "linear" else MLP(n_features, hidden, activation)


# -- losses: value and ∂L/∂ŷ, by hand, so every model shares one backward path -------------------------
def loss_and_grad(kind: str, pred: torch.Tensor, y: torch.Tensor, delta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss over the batch and its gradient with respect to each prediction."""
    r = pred.detach() - y
    n = r.numel()
    if kind == "mse":  # L = (1/n) Σ r², ∂L/∂ŷ = 2r/n  (r = ŷ − y; the seed's formula drops this sign)
        return r.dot(r) / n, r * (2.0 / n)
    if kind == "mae":  # L = (1/n) Σ |r|, ∂L/∂ŷ = sign(r)/n
        return r.abs().mean(), r.sign() / n
    # huber, as nn.HuberLoss: ½r² where |r| < δ, else δ(|r| − ½δ); ∂L/∂ŷ = clamp(r, −δ, δ)/n
    a = r.abs()
    loss = torch.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta)).mean()
    return loss, r.clamp(-delta, delta) / n


def loss_value(kind: str, pred: torch.Tensor, y: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    return loss_and_grad(kind, pred, y, delta)[0]
