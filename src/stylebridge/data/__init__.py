"""Datasets over folders and manifests, and corpus checks."""

from .checks import FolderReport, check_folder
from .datasets import ImageSource, UnpairedDataset, make_loader
from .files import expand_inputs, file_digest, list_images, read_manifest, set_digest

__all__ = [
    "FolderReport",
    "ImageSource",
    "UnpairedDataset",
    "check_folder",
    "expand_inputs",
    "file_digest",
    "list_images",
    "make_loader",
    "read_manifest",
    "set_digest",
]
