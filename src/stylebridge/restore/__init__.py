"""Restoration: super-resolution, denoising, inpainting and the old-photo chain.

Task logic (noise estimation, scratch detection, masks, limits) over models trained by the one
training loop (``srresnet``, ``srgan``, ``denoise``, ``inpaint``) and run through the one tiler.
"""

from .batch import restore_files
from .denoise import denoise_image, estimate_noise
from .inpaint import METHODS as INPAINT_METHODS
from .inpaint import inpaint_image, load_mask
from .old_photo import STAGES, OldPhotoResult, restore_old_photo
from .runner import TASKS, Restorer
from .scratches import detect_scratches
from .upscale import SCALES, check_scale, upscale_image

__all__ = [
    "INPAINT_METHODS",
    "SCALES",
    "STAGES",
    "TASKS",
    "OldPhotoResult",
    "Restorer",
    "check_scale",
    "denoise_image",
    "detect_scratches",
    "estimate_noise",
    "inpaint_image",
    "load_mask",
    "restore_files",
    "restore_old_photo",
    "upscale_image",
]
