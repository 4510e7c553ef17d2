"""The reference for `training_speed.py`: Garg et al.'s PyTorch model (HuggingFace GPT-2 backbone
with a linear read-in and read-out) and training step, timed the same way, so the two can be
compared on the same machine.

Needs torch and transformers, which the package does not depend on; run it in its own venv:

    python3.11 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch transformers
    taskset -c 0 /tmp/refvenv/bin/python benchmarks/reference_garg_pytorch.py --threads 1
    taskset -c 0,1 /tmp/refvenv/bin/python benchmarks/reference_garg_pytorch.py --threads 2

The model and step follow Garg et al.'s `src/models.py` (`TransformerModel`) and `src/train.py`
(`train_step`): dropout 0, Adam, squared error on every y position, dense linear data drawn with
`torch.randn` each step, batch 64, float32.
"""

import argparse
import json
import platform
import time

import torch
from torch import nn
from transformers import GPT2Config, GPT2Model

CONFIGS = {  # name: (width, layers, heads, dim, n_points)
    "small": (64, 3, 2, 5, 11),
    "medium": (128, 6, 4, 10, 21),
    "paper": (256, 12, 8, 20, 41),
}
BATCH = 64


class TransformerModel(nn.Module):
    def __init__(self, n_dims, n_positions, n_embd, n_layer, n_head):
        super().__init__()
        configuration = GPT2Config(
            n_positions=2 * n_positions,
            n_embd=n_embd,
            n_layer=n_layer,
            n_head=n_head,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            use_cache=False,
        )
        self._read_in = nn.Linear(n_dims, n_embd)
        self._backbone = GPT2Model(configuration)
        self._read_out = nn.Linear(n_embd, 1)

    @staticmethod
    def _combine(xs_b, ys_b):
        bsize, points, dim = xs_b.shape
        ys_b_wide = torch.cat(
            (ys_b.view(bsize, points, 1), torch.zeros(bsize, points, dim - 1)), axis=2
        )
        zs = torch.stack((xs_b, ys_b_wide), dim=2)
        return zs.view(bsize, 2 * points, dim)

    def forward(self, xs, ys):
        embeds = self._read_in(self._combine(xs, ys))
        output = self._backbone(inputs_embeds=embeds).last_hidden_state
        return self._read_out(output)[:, ::2, 0]


def time_config(name, seconds):
    width, layers, heads, dim, n_points = CONFIGS[name]
    torch.manual_seed(0)
    model = TransformerModel(dim, n_points, width, layers, heads)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        xs = torch.randn(BATCH, n_points, dim)
        w = torch.randn(BATCH, dim, 1)
        ys = (xs @ w)[:, :, 0]
        optimizer.zero_grad()
        loss = ((model(xs, ys) - ys) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(3):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 3:
        step()
        count += 1
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--configs", default="small,medium,paper")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.configs.split(","):
        rate = time_config(name, args.seconds)
        rows.append({"config": name, "steps_per_s": rate})
        print(f"{name:7s}: {rate:8.3f} steps/s (torch {torch.__version__}, {args.threads} threads)")
    if args.out:
        with open(args.out, "w") as file:
            json.dump(
                {
                    "threads": args.threads,
                    "torch": torch.__version__,
                    "python": platform.python_version(),
                    "results": rows,
                },
                file,
                indent=2,
            )


if __name__ == "__main__":
    main()
