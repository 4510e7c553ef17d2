"""A PyTorch GPT-2 in-context learner of the same shape as the project's (pre-layer-norm blocks,
causal self-attention, GELU MLP of width 4x, learned positions, linear read-in and read-out of
Garg et al.'s interleaved `(x, y)` tokens), with its training step (Adam, squared error on every
`y` position, fresh dense linear data each step), timed on any device, in float32 or with
bfloat16 autocast. Self-contained (torch only), so it runs where `transformers` is not installed:
the accelerator machine; its parameter count is the project's model's (26,369 for `tiny` at
d = 5, 11 points). `reference_garg_pytorch.py` is Garg et al.'s own model (HuggingFace)."""

import time

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width)
        )

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.ln1(h)
        h = h + self.attention(x, x, x, attn_mask=mask, need_weights=False)[0]
        return h + self.mlp(self.ln2(h))


class InContextGPT2(nn.Module):
    def __init__(self, dim: int, n_points: int, width: int, layers: int, heads: int):
        super().__init__()
        self.read_in = nn.Linear(dim, width)
        # 2n - 1 tokens: the last y is never an input.
        self.positions = nn.Parameter(torch.zeros(2 * n_points - 1, width))
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, 1)

    def forward(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        batch, n, dim = xs.shape
        y_tokens = torch.cat([ys[..., None], torch.zeros(batch, n, dim - 1, device=xs.device)], -1)
        tokens = torch.stack([xs, y_tokens], dim=2).reshape(batch, 2 * n, dim)[:, :-1]
        h = self.read_in(tokens) + self.positions[: 2 * n - 1]
        mask = torch.triu(torch.ones(2 * n - 1, 2 * n - 1, dtype=torch.bool, device=xs.device), 1)
        for block in self.blocks:
            h = block(h, mask)
        return self.read_out(self.ln_f(h))[:, ::2, 0]  # the prediction at each x token


def time_reference(
    dim: int,
    n_points: int,
    width: int,
    layers: int,
    heads: int,
    batch: int,
    precision: str,
    seconds: float,
) -> dict:
    """Training steps per second on CUDA if available (else the CPU)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = InContextGPT2(dim, n_points, width, layers, heads).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32

    def step() -> float:
        xs = torch.randn(batch, n_points, dim, device=device)
        w = torch.randn(batch, dim, 1, device=device)
        ys = (xs @ w)[..., 0]
        with torch.autocast(device, dtype=dtype, enabled=dtype != torch.float32):
            loss = ((model(xs, ys).float() - ys) ** 2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        return loss

    def synchronise() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(3):
        step()
    synchronise()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 10:
        step()
        steps += 1
    synchronise()
    rate = steps / (time.perf_counter() - start)
    return {"device": device, "precision": precision, "steps_per_s": rate}
