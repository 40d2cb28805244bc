"""Hand-written maths next to its check: every loss and gradient the trainer uses, against autograd."""

import pytest
import torch
from torch import nn

from core.training.models import MLP, Linear, loss_and_grad

REFERENCE = {"mse": nn.MSELoss(), "mae": nn.L1Loss(), "huber": nn.HuberLoss(delta=0.7)}


@pytest.mark.parametrize("kind", ["mse", "mae", "huber"])
def test_loss_and_its_gradient_equal_torch_nn_and_autograd(kind):
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(257, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(257, generator=g, dtype=torch.float64)
    loss, dpred = loss_and_grad(kind, pred, y, delta=0.7)
    ref = REFERENCE[kind](pred, y)
    ref.backward()
    assert torch.allclose(loss, ref.detach(), atol=1e-12)
    assert torch.allclose(dpred, pred.grad, atol=1e-12)


def test_mse_gradient_has_the_minus_sign_the_seed_drops():
    """∂L/∂w₁ = −(2/n) Σ (yᵢ − ŷᵢ) xᵢ₁: with every prediction too low, the gradient must be negative."""
    X = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([2.0, 4.0, 6.0], dtype=torch.float64)
    model = Linear(1).double()
    pred = model(X)
    _, dpred = loss_and_grad("mse", pred, y)
    model.backward(X, pred, dpred)
    by_formula = -(2 / 3) * ((y - pred.detach()) * X[:, 0]).sum()
    assert model.weight.grad.item() == pytest.approx(by_formula.item()) and model.weight.grad.item() < 0


@pytest.mark.parametrize("kind", ["mse", "mae", "huber"])
def test_linear_hand_written_backward_equals_autograd(kind):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(100, 3, generator=g, dtype=torch.float64)
    y = torch.randn(100, generator=g, dtype=torch.float64)
    model = Linear(3).double()
    model.init_("random", g)
    pred = model(X)
    _, dpred = loss_and_grad(kind, pred, y, delta=0.5)
    model.backward(X, pred, dpred)
    ours = [model.weight.grad.clone(), model.bias.grad.clone()]
    model.zero_grad()
    REFERENCE[kind].__class__(**({"delta": 0.5} if kind == "huber" else {}))(model(X), y).backward()
    assert torch.allclose(ours[0], model.weight.grad, atol=1e-12)
    assert torch.allclose(ours[1], model.bias.grad, atol=1e-12)


def test_mlp_backward_equals_autograd_on_the_loss():
    g = torch.Generator().manual_seed(2)
    X, y = torch.randn(64, 2, generator=g), torch.randn(64, generator=g)
    model = MLP(2, (8, 4), "tanh")
    model.init_("random", g)
    pred = model(X)
    _, dpred = loss_and_grad("mse", pred, y)
    model.backward(X, pred, dpred)
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    nn.MSELoss()(model(X), y).backward()
    for a, p in zip(ours, model.parameters()):
        assert torch.allclose(a, p.grad, atol=1e-6)


def test_linear_starts_from_a_given_point():
    model = Linear(2)
    model.init_("given", torch.Generator(), (1.5, -2.0, 0.25))
    assert model.weight.tolist() == [1.5, -2.0] and model.bias.item() == 0.25


def test_sufficient_statistics_give_the_row_by_row_loss_and_gradient():
    from core.training.models import Moments

    g = torch.Generator().manual_seed(3)
    X = torch.randn(500, 2, generator=g) * torch.tensor([60.0, 1.6]) + torch.tensor([140.0, 3.5])  # raw units
    y = X @ torch.tensor([3000.0, 20000.0]) + 50000 + torch.randn(500, generator=g) * 20000
    theta = torch.tensor([2900.0, 21000.0, 40000.0])
    theta.grad = torch.zeros(3)
    moments = Moments.of_rows(X, y)
    loss = moments.loss_and_grad(theta)
    ours = [theta.grad[:-1].double(), theta.grad[-1].double()]
    Xd, yd = X.double(), y.double()
    w = torch.tensor([2900.0, 21000.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(40000.0, dtype=torch.float64, requires_grad=True)
    ref = nn.MSELoss()(Xd @ w + b, yd)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert torch.allclose(ours[0], w.grad, rtol=1e-5) and torch.allclose(ours[1], b.grad, rtol=1e-5)
    assert moments.loss(theta).item() == pytest.approx(ref.item(), rel=1e-6)  # the loss alone, as for the test set
