"""History of generated images (Shrivastava et al.), so D also sees older fakes."""

from __future__ import annotations

import torch


class ImagePool:
    """Holds up to ``size`` past fakes; half the time swaps a new fake for an old one."""

    def __init__(self, size: int, generator: torch.Generator):
        self.size = size
        self.generator = generator
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(1, generator=self.generator).item() < 0.5:
                index = int(torch.randint(self.size, (1,), generator=self.generator))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state(self) -> torch.Tensor:
        if not self.images:
            return torch.zeros(0)
        return torch.cat(self.images, 0).float().cpu().contiguous()

    def load_state(self, tensor: torch.Tensor, device: torch.device) -> None:
        self.images = [t.unsqueeze(0).to(device) for t in tensor] if tensor.numel() else []
