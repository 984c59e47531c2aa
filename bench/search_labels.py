"""A labelled set for search relevance on the shipped samples.

Each query says a need in a person's words; its relevant artifacts are the ones whose catalog lists
one of the named capability statements (the catalog's own names, before any grouping), so the
labels come from the catalog alone, never from the ranking under test. Half the queries share no
word with the capability names they mean.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

TEXT_TO_IMAGE = ("Text-to-image generation", "Flow-matching text-to-image generation",
                 "LoRA style-tuned image generation")
LABELS: dict[str, tuple[str, ...]] = {
    "text to image": TEXT_TO_IMAGE,
    "draw pictures from a prompt": TEXT_TO_IMAGE,
    "generate images from a description": TEXT_TO_IMAGE,
    "speech to text": ("Speech-to-text",),
    "transcribe audio recordings": ("Speech-to-text",),
    "text to speech": ("Text-to-speech",),
    "read text aloud with a natural voice": ("Text-to-speech",),
    "text embeddings": ("Text embeddings",),
    "turn sentences into vectors": ("Text embeddings",),
    "vector database": ("Vector similarity search",),
    "rerank search results": ("Search reranking",),
    "ocr for scanned documents": ("Optical character recognition", "Document OCR"),
    "text to video": ("Text-to-video generation",),
    "make a short video from a prompt": ("Text-to-video generation",),
    "inpainting": ("Inpainting", "Inpainting and outpainting"),
    "edit a photo with instructions": ("Image editing", "Instruction-based image editing",
                                       "Instruction-based editing (Kontext)"),
    "web search api": ("Web search API",),
    "function calling": ("Function calling",),
    "let the model call my tools": ("Function calling",),
    "structured json output": ("Structured JSON output",),
    "answer with json that follows a schema": ("Structured JSON output",),
    "reasoning model": ("Extended reasoning", "Math and reasoning"),
    "code generation": ("Code generation",),
    "control a computer like a person": ("Computer use",),
    "long context": ("Long-context input",),
    "distributed training": ("Distributed training",),
    "train a model across many gpus": ("Distributed training",),
    "plot charts and dashboards": ("Data visualization",),
    "explain model predictions": ("Model interpretability",),
    "graph neural networks": ("Graph machine learning",),
    "image understanding": ("Image understanding",),
    "describe what is in a picture": ("Image understanding",),
}


def relevant(catalog: Path) -> dict[str, set[str]]:
    """Per query, the ids of the artifacts the catalog gives one of its capability statements."""
    holders: dict[str, set[str]] = {}
    for line in catalog.read_text().splitlines():
        record = json.loads(line)
        for capability in record.get("capabilities") or []:
            holders.setdefault(capability["name"], set()).add(record["id"])
    return {query: set().union(*(holders.get(name, set()) for name in names)) for query, names in LABELS.items()}
