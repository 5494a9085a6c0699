"""What a run leaves to look at: TensorBoard scalars and images, a JSONL copy, sample grids."""

from __future__ import annotations

import json
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..fileio import atomic_write
from ..imageio import save_image, to_pixel_range


def make_grid(rows: list[list[torch.Tensor]], pad: int = 2) -> np.ndarray:
    """Rows of (N,3,H,W) tensors in [-1,1] -> one HxWx3 uint8 image; one line per sample."""
    lines = []
    for row in rows:
        for i in range(row[0].shape[0]):
            lines.append([t[i] for t in row])
    h, w = lines[0][0].shape[1:]
    cols = len(lines[0])
    grid = np.full((len(lines) * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for r, line in enumerate(lines):
        for c, img in enumerate(line):
            arr = to_pixel_range(img)
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            grid[y : y + h, x : x + w] = arr.permute(1, 2, 0).cpu().numpy()
    return grid


class RunLogger:
    """Averages losses between log points; TensorBoard is optional, the JSONL always works."""

    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self._sums: dict[str, float] = defaultdict(float)
        self._count = 0
        self._writer = None
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tb"))
        except Exception as err:  # a broken tensorboard install must not stop training
            warnings.warn(
                f"TensorBoard logging off ({err}); losses still go to log.jsonl", stacklevel=2
            )
        self._log_path = self.run_dir / "log.jsonl"
        self._log = self._log_path.read_bytes() if self._log_path.is_file() else b""

    def accumulate(self, losses: dict[str, float]) -> None:
        for key, value in losses.items():
            self._sums[key] += value
        self._count += 1

    def averages(self) -> dict[str, float]:
        return {k: v / max(self._count, 1) for k, v in self._sums.items()}

    def flush(self, step: int, extra: dict[str, float] | None = None) -> dict[str, float]:
        values = {**self.averages(), **(extra or {})}
        self._sums.clear()
        self._count = 0
        if self.enabled:
            if self._writer is not None:
                for key, value in values.items():
                    self._writer.add_scalar(key, value, step)
            self._append({"step": step, "time": time.time(), **values})
        return values

    def _append(self, record: dict) -> None:
        """The whole log is rewritten by the one atomic writer: a kill or a full disk leaves
        the previous log, never half a line (a few hundred kB for the longest runs)."""
        self._log += (json.dumps(record) + "\n").encode()
        atomic_write(self._log_path, self._log)

    def event(self, step: int, kind: str, message: str) -> None:
        """A one-off record in log.jsonl (a skipped step, a rollback) beside the averages."""
        if self.enabled:
            self._append({"step": step, "time": time.time(), "event": kind, "message": message})

    def images(self, step: int, rows: list[list[torch.Tensor]]) -> Path | None:
        if not self.enabled:
            return None
        grid = make_grid(rows)
        path = save_image(Image.fromarray(grid), self.run_dir / "samples" / f"step_{step:07d}.png")
        if self._writer is not None:
            self._writer.add_image("samples", grid, step, dataformats="HWC")
            self._writer.flush()
        return path

    def close(self) -> None:
        if self.enabled and self._writer is not None:
            self._writer.close()
