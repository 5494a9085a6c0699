"""Cultural style analysis: descriptors, comparisons between cultures, maps and reports."""

from .corpus import CorpusAnalysis, CorpusReport, analyze_corpus, collect_items, prepare
from .descriptors import DESCRIPTOR_NAMES, DESCRIPTORS, describe_image
from .extract import FeatureTable, extract
from .translation import TranslationReport, analyze_translation

__all__ = [
    "DESCRIPTORS",
    "DESCRIPTOR_NAMES",
    "CorpusAnalysis",
    "CorpusReport",
    "FeatureTable",
    "TranslationReport",
    "analyze_corpus",
    "analyze_translation",
    "collect_items",
    "describe_image",
    "extract",
    "prepare",
]
