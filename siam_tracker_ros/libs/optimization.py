"""Conjugate gradient and Gauss-Newton-CG on lists of tensors (the optimisers of ATOM / DROL).

Generic on purpose: a problem is either a linear operator `apply_a(x) -> A x` (CG on an SPD system) or
a residual function `residuals(params) -> list of tensors` (Gauss-Newton, each step's normal equations
J^T J dx = -J^T r solved by a few CG iterations, J products taken with autograd). Online classifiers of
any later tracker can reuse both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

TensorList = list[Tensor]


def _dot(a: Sequence[Tensor], b: Sequence[Tensor]) -> Tensor:
    return sum((x * y).sum() for x, y in zip(a, b))


def _axpy(alpha, x: Sequence[Tensor], y: Sequence[Tensor]) -> TensorList:
    return [yi + alpha * xi for xi, yi in zip(x, y)]


def conjugate_gradient_steps(apply_a: Callable[[TensorList], TensorList], b: Sequence[Tensor],
                             x0: Sequence[Tensor] | None = None, num_iter: int = 10, tol: float = 0.0,
                             polak_ribiere: bool = True) -> Iterator[TensorList]:
    """CG as a generator: yields the iterate after each iteration, so a tracker can spread one solve
    over several frames (the operator must not change in between)."""
    x = [t.clone() for t in x0] if x0 is not None else [torch.zeros_like(t) for t in b]
    r = [bi - ai for bi, ai in zip(b, apply_a(x))] if x0 is not None else [t.clone() for t in b]
    b_norm = float(_dot(b, b).sqrt())
    p: TensorList | None = None
    rho_prev = None
    r_prev = None
    for _ in range(num_iter):
        rho = _dot(r, r)
        if float(rho.sqrt()) <= tol * b_norm or float(rho) == 0.0:
            return
        if p is None:
            p = [t.clone() for t in r]
        else:
            if polak_ribiere:
                beta = torch.clamp((rho - _dot(r, r_prev)) / rho_prev, min=0.0)
            else:
                beta = rho / rho_prev
            p = [ri + beta * pi for ri, pi in zip(r, p)]
        q = apply_a(p)
        denom = _dot(p, q)
        if float(denom) <= 0.0:
            return
        alpha = rho / denom
        x = _axpy(alpha, p, x)
        r_prev = r
        r = _axpy(-alpha, q, r)
        rho_prev = rho
        yield x


def conjugate_gradient(apply_a: Callable[[TensorList], TensorList], b: Sequence[Tensor],
                       x0: Sequence[Tensor] | None = None, num_iter: int = 10, tol: float = 0.0,
                       polak_ribiere: bool = True) -> TensorList:
    """Solve A x = b for symmetric positive (semi-)definite A, warm-started at x0.

    Polak-Ribiere beta by default (as the released DROL/pytracking code); Fletcher-Reeves otherwise.
    Stops early when the residual norm falls below `tol` times that of b.
    """
    x = [t.clone() for t in x0] if x0 is not None else [torch.zeros_like(t) for t in b]
    for step in conjugate_gradient_steps(apply_a, b, x0, num_iter, tol, polak_ribiere):
        x = step
    return x


def _jtj_operator(r, x, u, jt_u) -> Callable[[TensorList], TensorList]:
    """p -> J^T J p at the linearisation point of the graph r(x)."""

    def apply(p: TensorList) -> TensorList:
        jp = torch.autograd.grad(jt_u, u, p, retain_graph=True)
        return [t.detach() for t in torch.autograd.grad(r, x, jp, retain_graph=True)]

    return apply


def gauss_newton_cg(residuals: Callable[[TensorList], TensorList], params: Sequence[Tensor],
                    num_gn: int = 6, num_cg: int = 10) -> tuple[TensorList, list[float]]:
    """Minimise ||r(params)||^2 by Gauss-Newton; each step solves J^T J dx = -J^T r with `num_cg` CG.

    J^T u comes from one backward pass; J p from the double-backward trick (differentiate J^T u with
    respect to the dummy u), so no Jacobian is ever formed. Returns (params, loss before each step and
    after the last).
    """
    params = [p.detach().clone() for p in params]
    losses = []
    for _ in range(num_gn):
        x = [p.requires_grad_(True) for p in params]
        with torch.enable_grad():
            r = residuals(x)
            losses.append(float(_dot(r, r).detach()))
            u = [torch.zeros_like(t, requires_grad=True) for t in r]
            jt_u = torch.autograd.grad(r, x, u, create_graph=True)  # linear in u
            g = [t.detach() for t in torch.autograd.grad(r, x, [t.detach() for t in r], retain_graph=True)]

            dx = conjugate_gradient(_jtj_operator(r, x, u, jt_u), [-t for t in g], num_iter=num_cg)
        params = [(p.detach() + d).detach() for p, d in zip(x, dx)]
    with torch.no_grad():
        r = residuals(params)
        losses.append(float(_dot(r, r)))
    return params, losses
