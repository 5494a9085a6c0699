"""Cultural style analysis: descriptors, comparisons between cultures, maps and reports."""

from .corpus import CorpusAnalysis, analyze_corpus, collect_items, prepare
from .descriptors import DESCRIPTOR_NAMES, DESCRIPTORS, describe_image
from .extract import FeatureTable, extract

__all__ = [
    "DESCRIPTORS",
    "DESCRIPTOR_NAMES",
    "CorpusAnalysis",
    "FeatureTable",
    "analyze_corpus",
    "collect_items",
    "describe_image",
    "extract",
    "prepare",
]
