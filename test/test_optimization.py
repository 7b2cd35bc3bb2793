"""CG and Gauss-Newton-CG (siam_tracker_ros.libs.optimization) on problems with known answers."""

import torch

from siam_tracker_ros.libs.optimization import conjugate_gradient, gauss_newton_cg


def test_cg_solves_spd_system():
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(20, 20, generator=gen, dtype=torch.float64)
    a = m @ m.T + 0.5 * torch.eye(20, dtype=torch.float64)
    x_true = torch.randn(20, generator=gen, dtype=torch.float64)
    b = a @ x_true
    x = conjugate_gradient(lambda p: [a @ p[0]], [b], num_iter=60)[0]
    assert torch.allclose(x, x_true, atol=1e-6)
    # few iterations reduce the residual but do not solve it: the iteration count matters
    x3 = conjugate_gradient(lambda p: [a @ p[0]], [b], num_iter=3)[0]
    r3 = torch.linalg.norm(a @ x3 - b) / torch.linalg.norm(b)
    assert 1e-6 < r3 < 1.0


def test_cg_warm_start_and_tensor_lists():
    gen = torch.Generator().manual_seed(1)
    d1 = torch.rand(5, generator=gen, dtype=torch.float64) + 1.0
    d2 = torch.rand(3, 2, generator=gen, dtype=torch.float64) + 1.0
    b = [torch.ones(5, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64)]
    x = conjugate_gradient(lambda p: [d1 * p[0], d2 * p[1]], b, x0=[torch.ones(5, dtype=torch.float64),
                                                                   torch.zeros(3, 2, dtype=torch.float64)],
                           num_iter=20)
    assert torch.allclose(x[0], 1.0 / d1) and torch.allclose(x[1], 1.0 / d2)


def test_gauss_newton_fits_exponential_model():
    # y = a * exp(b * t): nonlinear in b; GN-CG must recover (a, b) from noise-free data
    t = torch.linspace(0, 1, 30, dtype=torch.float64)
    y = 2.0 * torch.exp(-1.5 * t)

    def residuals(params):
        a, b = params
        return [a * torch.exp(b * t) - y]

    start = [torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)]
    (a, b), losses = gauss_newton_cg(residuals, start, num_gn=10, num_cg=5)
    assert abs(float(a) - 2.0) < 1e-4 and abs(float(b) + 1.5) < 1e-4
    assert losses[-1] < 1e-8 < losses[0]
    assert all(later <= earlier + 1e-12 for earlier, later in zip(losses, losses[1:]))
