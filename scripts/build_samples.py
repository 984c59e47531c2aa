"""Build the shipped samples (``ingest/samples/``, package data) from real public catalogs.

Run from the project root: ``python scripts/build_samples.py --shared ../shared --out ingest/samples``.
It writes

* ``catalog.jsonl``: real AI artifacts in the native catalog format, drawn deterministically from
  three public catalogs (hosted models from litellm's price table, open models and their lineage
  from the Open LLM Leaderboard v2, Python ML projects from best-of-ml-python), plus the two
  artifacts of the seed comparison page. Every description is generated from the catalog facts
  (or, for the two seed artifacts, paraphrased), never copied.
* ``searches.synthetic.jsonl.gz``: synthetic searches over that catalog from :mod:`ingest.synth`, with
  realistic query strings, so the demo has a match graph to show.
* ``README.md``: how the files were made, their sources, licences and attribution.

The files are read by the adapters users run (:mod:`ingest.adapters`, ``--format litellm`` and
the others), so there is one reader per format: facts come from their records, and from the same
parse where the native format has no field for a fact (a context window, a parameter count).
What lives here is curation: which entries are picked, the two hand-written seed entries, their
prominence, and the sentences written about them. The choice of items is a pure function of the
source files (ordered by stars, likes or a fixed list), so a rebuild from the same inputs gives
the same bytes. This script is not part of the installed package.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.schema import Artifact, slugify
from ingest.adapters import leaderboard_table, litellm_table, read_best_of_ml, read_litellm, read_open_llm_leaderboard
from ingest.rejects import Rejects
from ingest.synth import Intent, derive_intents, synth_searches, to_native_json

if TYPE_CHECKING:
    import polars as pl

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "ingest" / "samples"
LITELLM_FILE = "data/catalogs/litellm_model_prices_and_context_window.json"
LEADERBOARD_FILE = "data/catalogs/open_llm_leaderboard_v2.csv"
BEST_OF_FILE = "data/catalogs/best_of_ml_python_projects_2025-06-26.csv"

SEARCH_SEED = 2026
N_SEARCHES = 25_000
SEARCH_START = datetime(2026, 1, 5, tzinfo=UTC)
SEARCH_DAYS = 28

SEED = "seed page"
LITELLM = "litellm"
LEADERBOARD = "open-llm-leaderboard-v2"
BEST_OF = "best-of-ml-python"


@dataclass
class Entry:
    """One catalog record with the facts the sample builder uses but the native format does not hold.

    ``prominence`` (0..1, within its source) orders the hidden popularity of the synthetic
    searches; ``tags`` and ``params_b`` let the curated intents pick relevant artifacts.
    """

    record: dict[str, Any]
    source: str
    prominence: float
    tags: frozenset[str] = frozenset()
    params_b: float | None = None

    @property
    def id(self) -> str:
        return str(self.record["id"])


def _capability(name: str, description: str, tags: Iterable[str], unique: str | None = None,
                vs: str | None = None) -> dict[str, Any]:
    cap: dict[str, Any] = {"name": name, "description": description}
    if unique:
        cap["unique"] = unique
    if vs:
        cap["vs_alternatives"] = vs
    cap["tags"] = sorted(set(tags))
    return cap


def _entry(record: dict[str, Any], source: str, prominence: float, **kwargs: Any) -> Entry:
    clean = {k: v for k, v in record.items() if v not in (None, [], {}, "")}
    tags = frozenset(t for c in clean.get("capabilities", []) for t in c.get("tags", []))
    return Entry(clean, source, prominence, tags, **kwargs)


# --------------------------------------------------------------------------------------------
# The two artifacts of the seed comparison page (facts from the page, sentences our own)
# --------------------------------------------------------------------------------------------


def seed_entries() -> list[Entry]:
    """``dalle-3-xl-lora-v2`` (6 capabilities) and ``flux-1-pro`` (13), as the seed page lists them."""
    dalle_caps = [
        _capability(
            "LoRA style-tuned image generation",
            "Renders images in a learned style by attaching small low-rank adapter weights to a "
            "DALL-E 3 style base model instead of retraining it.",
            ["image", "text-to-image", "lora", "fine-tuning"],
            "Only the adapter matrices inside the attention and MLP blocks are trained, well under "
            "one percent of the weights.",
            "Quicker and cheaper to iterate on than a full fine-tune and steadier in style than "
            "prompt wording alone, though it gives up some control over composition compared with "
            "adapting the whole model.",
        ),
        _capability(
            "CLIP prompt encoding",
            "Turns the written prompt into CLIP text embeddings that steer the diffusion decoder, so "
            "long prompts with several clauses and style words are followed.",
            ["image", "text-to-image", "prompting"],
            "Relies on the alignment between CLIP's text space and the generator's latent space "
            "rather than a general-purpose text encoder.",
            "Tends to match prompt meaning more closely than generic encoders, but has no syntax "
            "for weighting parts of a prompt.",
        ),
        _capability(
            "Gradio web demo",
            "A browser page on Hugging Face Spaces takes a prompt and shows the generated images, "
            "with nothing to install.",
            ["demo", "web-ui", "gradio"],
            "Runs on GPUs that Spaces allocates and scales, so the author operates no servers.",
            "No setup compared with a local install; slower and less configurable than running on "
            "your own GPU.",
        ),
        _capability(
            "Runtime LoRA loading",
            "Loads adapter weights when a request is served and adds their low-rank product to the "
            "frozen base weights (W + BA).",
            ["lora", "fine-tuning", "inference"],
            "Uses low ranks (roughly 8 to 64) with alpha scaling to keep the adapter small while "
            "preserving the style.",
            "Needs a tiny fraction of the parameters of full fine-tuning; less suited to large "
            "changes in composition.",
        ),
        _capability(
            "Iterative diffusion denoising",
            "Starts from random noise and refines it over tens of steps, guided by the prompt "
            "embedding at every step.",
            ["image", "diffusion"],
            "Follows a learned noise schedule with step-dependent text conditioning.",
            "Aims for closer prompt alignment than older diffusion pipelines at a higher compute "
            "cost per image.",
        ),
        _capability(
            "Shared request queue",
            "Puts concurrent users of the Space in a queue, keeps per-session state and shows each "
            "user their place in line.",
            ["demo", "gradio", "serving"],
            "Uses the queue built into Gradio on Spaces; no Redis or separate broker.",
            "Works without configuration, unlike a self-hosted queue, but offers little control "
            "over ordering or priorities.",
        ),
    ]
    dalle: dict[str, Any] = {
        "id": "dalle-3-xl-lora-v2",
        "name": "dalle-3-xl-lora-v2",
        "type": "model",
        "provider": "HF community",
        "pricing": "free",
        "url": "https://huggingface.co/spaces",
        "description": "Community Hugging Face Space that applies LoRA style adapters to a DALL-E 3 "
        "style image generator and serves it through a Gradio page.",
        "derived_from": ["dall-e-3"],
        "integrates_with": ["gradio"],
        "capabilities": dalle_caps,
    }
    flux_caps = [
        _capability(
            "Flow-matching text-to-image generation",
            "Creates photorealistic images from a written prompt with a 12-billion-parameter "
            "rectified-flow transformer; output size is set per request.",
            ["image", "text-to-image", "photorealism"],
            "Flow matching learns a direct path from noise to image, which needs fewer steps and "
            "follows prompts closely, including legible text and hands.",
            "Often cited for better typography and anatomy than DALL-E 3 or Midjourney, and for "
            "faster sampling than Stable Diffusion 3.",
        ),
        _capability(
            "Multi-reference conditioning",
            "Conditions a generation on several reference images at once to carry over a style, a "
            "pattern, a logo or a pose.",
            ["image", "image-editing", "reference"],
            "Mixes several references without training an adapter for each one.",
            "More flexible than single control-map methods such as ControlNet while keeping the "
            "text prompt in charge.",
        ),
        _capability(
            "Free trial tier",
            "New users can try the models without a payment method, within a small quota.",
            ["pricing", "free-tier"],
            "Quota-limited free access aimed at evaluation.",
            "Easier to test than subscription-only or pay-first services.",
        ),
        _capability(
            "Image API with model choice",
            "A paid HTTP API generates images per request and lets the caller choose the model "
            "variant and resolution, billed per image.",
            ["api", "image", "text-to-image"],
            "One endpoint family spans pro, dev, schnell and later FLUX.2 sizes, so cost and "
            "latency are chosen per call.",
            "More variant choice than single-model image APIs.",
        ),
        _capability(
            "Few-step fast sampling",
            "The schnell variant produces an image in one to four steps, fast enough for "
            "interactive tools.",
            ["image", "text-to-image", "speed"],
            "Distillation bakes guidance into the weights, so sampling skips the extra unconditional pass.",
            "Lower latency than the full pro model at some cost in detail.",
        ),
        _capability(
            "Open-weight dev variant",
            "FLUX.1 [dev] weights can be downloaded to run locally and to fine-tune; they are "
            "released under a non-commercial licence, while generated images may be used freely.",
            ["image", "open-weights", "fine-tuning"],
            "Guidance-distilled from the pro model, so local quality stays close to the API.",
            "Stronger locally than most open diffusion checkpoints of its time; commercial use of "
            "the weights needs a separate licence.",
        ),
        _capability(
            "Range of model sizes",
            "The family comes in several sizes, from small local models to the largest hosted one, "
            "on one shared architecture.",
            ["image", "model-family"],
            "Same architecture across sizes, so prompts and fine-tunes carry over.",
            "Finer size steps than most image model families.",
        ),
        _capability(
            "High-resolution output",
            "Generates detailed images of up to about four megapixels with a chosen width and "
            "height.",
            ["image", "resolution", "photorealism"],
            "Resolution is a request parameter, traded against price and latency.",
            "Larger default output than the 1024-pixel images of many competitors.",
        ),
        _capability(
            "Inpainting and outpainting",
            "The Fill and Expand endpoints repaint a masked region or extend the canvas beyond the "
            "original borders so the new pixels blend with the old.",
            ["image", "image-editing", "inpainting"],
            "Editing runs on the same flow model as generation, so lighting and texture match.",
            "Fewer visible seams than generic inpainting add-ons.",
        ),
        _capability(
            "Edge and depth control",
            "Canny and Depth variants follow an edge map or a depth map so the layout of the output "
            "matches a reference.",
            ["image", "controlnet", "structure"],
            "Structural control is trained into dedicated model variants rather than bolted on.",
            "Keeps composition as ControlNet does while retaining FLUX image quality.",
        ),
        _capability(
            "Image variations (Redux)",
            "The Redux adapter produces variations of an input image or restyles it with a prompt.",
            ["image", "image-editing", "variation"],
            "A light adapter mixes image and text conditioning.",
            "Needs no per-image fine-tuning to keep a look across outputs.",
        ),
        _capability(
            "Instruction-based editing (Kontext)",
            "Kontext edits an image from a plain-language instruction while keeping characters and "
            "objects consistent across several edits.",
            ["image", "image-editing", "instruction-editing"],
            "Editing works in context of the input image, without masks.",
            "Keeps identity across rounds of edits better than regenerating from scratch.",
        ),
        _capability(
            "Raw photographic mode",
            "The Ultra tier offers a raw mode whose images look less processed and closer to "
            "candid photographs.",
            ["image", "photorealism", "style"],
            "A separate mode tuned for natural texture and lighting rather than polish.",
            "Less of the glossy look typical of image generators.",
        ),
    ]
    flux: dict[str, Any] = {
        "id": "flux-1-pro",
        "name": "FLUX.1 Pro",
        "type": "model",
        "provider": "Black Forest Labs",
        "pricing": "free",
        "url": "https://bfl.ai",
        "description": "Text-to-image model from Black Forest Labs built on a 12-billion-parameter "
        "rectified-flow transformer, known for prompt adherence and legible text in images.",
        "integrates_with": ["litellm"],
        "capabilities": flux_caps,
    }
    return [_entry(flux, SEED, 0.99), _entry(dalle, SEED, 0.3)]


# --------------------------------------------------------------------------------------------
# litellm: hosted models
# --------------------------------------------------------------------------------------------

# (litellm key, id, name, maker, artifact type, tier: 1 flagship .. 3 niche)
_LITELLM_PICKS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("gpt-4o", "gpt-4o", "GPT-4o", "OpenAI", "model", 1),
    ("gpt-4o-mini", "gpt-4o-mini", "GPT-4o mini", "OpenAI", "model", 1),
    ("gpt-4.1", "gpt-4.1", "GPT-4.1", "OpenAI", "model", 1),
    ("gpt-4.1-mini", "gpt-4.1-mini", "GPT-4.1 mini", "OpenAI", "model", 2),
    ("gpt-5", "gpt-5", "GPT-5", "OpenAI", "model", 1),
    ("gpt-5-mini", "gpt-5-mini", "GPT-5 mini", "OpenAI", "model", 2),
    ("o1", "o1", "o1", "OpenAI", "model", 2),
    ("o3", "o3", "o3", "OpenAI", "model", 2),
    ("o3-mini", "o3-mini", "o3-mini", "OpenAI", "model", 2),
    ("o4-mini", "o4-mini", "o4-mini", "OpenAI", "model", 2),
    ("gpt-4-turbo", "gpt-4-turbo", "GPT-4 Turbo", "OpenAI", "model", 3),
    ("gpt-3.5-turbo", "gpt-3.5-turbo", "GPT-3.5 Turbo", "OpenAI", "model", 2),
    ("claude-opus-4-5", "claude-opus-4-5", "Claude Opus 4.5", "Anthropic", "model", 1),
    ("claude-sonnet-4-5", "claude-sonnet-4-5", "Claude Sonnet 4.5", "Anthropic", "model", 1),
    ("claude-haiku-4-5", "claude-haiku-4-5", "Claude Haiku 4.5", "Anthropic", "model", 2),
    ("gemini/gemini-2.5-pro", "gemini-2.5-pro", "Gemini 2.5 Pro", "Google", "model", 1),
    ("gemini/gemini-2.5-flash", "gemini-2.5-flash", "Gemini 2.5 Flash", "Google", "model", 1),
    ("gemini/gemini-2.5-flash-lite", "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "Google", "model", 3),
    ("mistral/mistral-large-latest", "mistral-large", "Mistral Large", "Mistral AI", "model", 2),
    ("mistral/mistral-small-latest", "mistral-small", "Mistral Small", "Mistral AI", "model", 3),
    ("mistral/codestral-latest", "codestral", "Codestral", "Mistral AI", "model", 2),
    ("mistral/pixtral-large-latest", "pixtral-large", "Pixtral Large", "Mistral AI", "model", 3),
    ("mistral/magistral-medium-latest", "magistral-medium", "Magistral Medium", "Mistral AI", "model", 3),
    ("deepseek/deepseek-chat", "deepseek-chat", "DeepSeek Chat", "DeepSeek", "model", 1),
    ("deepseek/deepseek-reasoner", "deepseek-reasoner", "DeepSeek Reasoner", "DeepSeek", "model", 1),
    ("xai/grok-code-fast-1", "grok-code-fast-1", "Grok Code Fast 1", "xAI", "model", 2),
    ("command-a-03-2025", "command-a", "Command A", "Cohere", "model", 3),
    ("perplexity/sonar", "sonar", "Sonar", "Perplexity", "model", 2),
    ("perplexity/sonar-pro", "sonar-pro", "Sonar Pro", "Perplexity", "model", 2),
    ("perplexity/sonar-deep-research", "sonar-deep-research", "Sonar Deep Research", "Perplexity", "model", 3),
    ("text-embedding-3-large", "text-embedding-3-large", "text-embedding-3-large", "OpenAI", "model", 1),
    ("text-embedding-3-small", "text-embedding-3-small", "text-embedding-3-small", "OpenAI", "model", 1),
    ("gemini/gemini-embedding-001", "gemini-embedding-001", "Gemini Embedding", "Google", "model", 2),
    ("mistral/mistral-embed", "mistral-embed", "Mistral Embed", "Mistral AI", "model", 3),
    ("embed-english-v3.0", "cohere-embed-english-v3", "Cohere Embed English v3", "Cohere", "model", 2),
    ("voyage/voyage-3", "voyage-3", "voyage-3", "Voyage AI", "model", 2),
    ("voyage/voyage-code-3", "voyage-code-3", "voyage-code-3", "Voyage AI", "model", 3),
    ("rerank-v3.5", "cohere-rerank-v3.5", "Cohere Rerank 3.5", "Cohere", "model", 2),
    ("voyage/rerank-2", "voyage-rerank-2", "Voyage rerank-2", "Voyage AI", "model", 3),
    ("jina-reranker-m0", "jina-reranker-m0", "jina-reranker-m0", "Jina AI", "model", 3),
    ("whisper-1", "whisper-1", "Whisper", "OpenAI", "model", 1),
    ("gpt-4o-transcribe", "gpt-4o-transcribe", "GPT-4o Transcribe", "OpenAI", "model", 2),
    ("tts-1", "tts-1", "TTS-1", "OpenAI", "model", 2),
    ("elevenlabs/eleven_multilingual_v2", "eleven-multilingual-v2", "Eleven Multilingual v2", "ElevenLabs",
     "model", 1),
    ("elevenlabs/scribe_v1", "elevenlabs-scribe-v1", "ElevenLabs Scribe", "ElevenLabs", "model", 3),
    ("deepgram/nova-3", "deepgram-nova-3", "Deepgram Nova-3", "Deepgram", "model", 2),
    ("aiml/dall-e-3", "dall-e-3", "DALL-E 3", "OpenAI", "model", 1),
    ("aiml/dall-e-2", "dall-e-2", "DALL-E 2", "OpenAI", "model", 3),
    ("gpt-image-1", "gpt-image-1", "GPT Image 1", "OpenAI", "model", 1),
    ("gemini/imagen-3.0-generate-001", "imagen-3", "Imagen 3", "Google", "model", 2),
    ("gemini/gemini-2.5-flash-image", "gemini-2.5-flash-image", "Gemini 2.5 Flash Image", "Google", "model", 1),
    ("stability/sd3.5-large", "stable-diffusion-3.5-large", "Stable Diffusion 3.5 Large", "Stability AI",
     "model", 1),
    ("stability/sd3.5-medium", "stable-diffusion-3.5-medium", "Stable Diffusion 3.5 Medium", "Stability AI",
     "model", 2),
    ("stability/sd3-large-turbo", "stable-diffusion-3-large-turbo", "Stable Diffusion 3 Large Turbo",
     "Stability AI", "model", 3),
    ("nscale/stabilityai/stable-diffusion-xl-base-1.0", "stable-diffusion-xl-base-1.0",
     "Stable Diffusion XL Base 1.0", "Stability AI", "model", 1),
    ("stability/stable-image-ultra", "stable-image-ultra", "Stable Image Ultra", "Stability AI", "model", 2),
    ("stability/stable-image-core", "stable-image-core", "Stable Image Core", "Stability AI", "model", 3),
    ("stability/inpaint", "stability-inpaint-api", "Stability AI Inpaint API", "Stability AI", "api", 3),
    ("stability/outpaint", "stability-outpaint-api", "Stability AI Outpaint API", "Stability AI", "api", 3),
    ("black_forest_labs/flux-pro-1.1", "flux-1.1-pro", "FLUX1.1 [pro]", "Black Forest Labs", "model", 1),
    ("black_forest_labs/flux-pro-1.1-ultra", "flux-1.1-pro-ultra", "FLUX1.1 [pro] Ultra", "Black Forest Labs",
     "model", 2),
    ("black_forest_labs/flux-dev", "flux-1-dev", "FLUX.1 [dev]", "Black Forest Labs", "model", 1),
    ("fal_ai/fal-ai/flux/schnell", "flux-1-schnell", "FLUX.1 [schnell]", "Black Forest Labs", "model", 2),
    ("black_forest_labs/flux-kontext-pro", "flux-1-kontext-pro", "FLUX.1 Kontext [pro]", "Black Forest Labs",
     "model", 2),
    ("black_forest_labs/flux-kontext-max", "flux-1-kontext-max", "FLUX.1 Kontext [max]", "Black Forest Labs",
     "model", 3),
    ("black_forest_labs/flux-pro-1.0-fill", "flux-1-fill-pro", "FLUX.1 Fill [pro]", "Black Forest Labs",
     "model", 3),
    ("black_forest_labs/flux-pro-1.0-expand", "flux-1-expand-pro", "FLUX.1 Expand [pro]", "Black Forest Labs",
     "model", 3),
    ("gemini/veo-3.1-generate-preview", "veo-3.1", "Veo 3.1", "Google", "model", 1),
    ("runwayml/gen4_turbo", "runway-gen-4-turbo", "Runway Gen-4 Turbo", "Runway", "model", 2),
    ("mistral/mistral-ocr-latest", "mistral-ocr", "Mistral OCR", "Mistral AI", "api", 2),
    ("tavily/search", "tavily-search", "Tavily Search API", "Tavily", "api", 1),
    ("exa_ai/search", "exa-search", "Exa Search API", "Exa", "api", 2),
    ("perplexity/search", "perplexity-search", "Perplexity Search API", "Perplexity", "api", 2),
    ("firecrawl/search", "firecrawl-search", "Firecrawl Search API", "Firecrawl", "api", 3),
)

# Lineage stated publicly by the makers (FLUX.1 [dev] is distilled from FLUX.1 [pro]; Ultra is a
# mode of FLUX1.1 [pro]; the sample Space adapts DALL-E 3).
_LITELLM_LINEAGE = {"flux-1-dev": ["flux-1-pro"], "flux-1.1-pro-ultra": ["flux-1.1-pro"]}

_MODE_CAP: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "chat": ("Chat completion", "{name} holds multi-turn conversations through a chat completions API.",
             ("llm", "chat")),
    "embedding": ("Text embeddings", "{name} turns text into dense vectors for semantic search and retrieval.",
                  ("embeddings", "rag")),
    "image_generation": ("Text-to-image generation", "{name} creates images from a written prompt.",
                         ("image", "text-to-image")),
    "image_edit": ("Image editing", "{name} changes an existing image according to a prompt or a mask.",
                   ("image", "image-editing")),
    "audio_transcription": ("Speech-to-text", "{name} turns recorded speech into text.",
                            ("audio", "speech-to-text")),
    "audio_speech": ("Text-to-speech", "{name} reads text aloud in a synthetic voice.",
                     ("audio", "text-to-speech")),
    "rerank": ("Search reranking", "{name} reorders candidate documents by their relevance to a query.",
               ("search", "rag", "reranking")),
    "search": ("Web search API", "{name} returns ranked web results for a query, ready for an LLM agent to read.",
               ("search", "web-search", "agents")),
    "ocr": ("Document OCR", "{name} extracts text and layout from scanned pages and PDFs.", ("ocr", "documents")),
    "video_generation": ("Text-to-video generation", "{name} produces short video clips from a prompt.",
                         ("video", "text-to-video")),
}
_FLAG_CAP: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "supports_function_calling": ("Function calling",
                                  "{name} can answer with calls to tools the developer declares.",
                                  ("tools", "agents")),
    "supports_vision": ("Image understanding", "{name} accepts images next to text and reasons about them.",
                        ("vision", "multimodal")),
    "supports_reasoning": ("Extended reasoning", "{name} can think through a problem step by step before "
                           "it answers.", ("reasoning",)),
    "supports_web_search": ("Built-in web search", "{name} can ground its answers in live web results.",
                            ("web-search",)),
    "supports_pdf_input": ("PDF input", "{name} reads PDF files passed directly in a request.", ("documents",)),
    "supports_response_schema": ("Structured JSON output", "{name} can be held to a JSON schema when it "
                                 "answers.", ("structured-output",)),
    "supports_computer_use": ("Computer use", "{name} can operate a desktop from screenshots with mouse and "
                              "keyboard actions.", ("agents", "computer-use")),
    "supports_audio_input": ("Audio input", "{name} accepts audio as part of a request.", ("audio", "multimodal")),
    "supports_video_input": ("Video input", "{name} accepts video as part of a request.", ("video", "multimodal")),
    "supports_prompt_caching": ("Prompt caching", "Repeated prompt prefixes sent to {name} are cached and "
                                "billed at a lower rate.", ("cost",)),
}
_EDIT_CAP = {
    "fill": ("Inpainting", "{name} repaints a masked region so it blends with the rest of the image.",
             ("image", "image-editing", "inpainting")),
    "inpaint": ("Inpainting", "{name} repaints a masked region so it blends with the rest of the image.",
                ("image", "image-editing", "inpainting")),
    "expand": ("Outpainting", "{name} extends an image beyond its original borders.",
               ("image", "image-editing", "outpainting")),
    "outpaint": ("Outpainting", "{name} extends an image beyond its original borders.",
                 ("image", "image-editing", "outpainting")),
    "kontext": ("Instruction-based image editing", "{name} edits an image from a plain-language instruction "
                "without a mask.", ("image", "image-editing", "instruction-editing")),
}
_KIND_PHRASE = {
    "chat": "Chat model", "embedding": "Text embedding model", "image_generation": "Image generation model",
    "image_edit": "Image editing model", "audio_transcription": "Speech recognition model",
    "audio_speech": "Speech synthesis model", "rerank": "Reranking model", "search": "Web search endpoint",
    "ocr": "Document OCR service", "video_generation": "Video generation model",
}


def _tokens(n: float) -> str:
    return f"{n / 1_000_000:.0f}M" if n >= 1_000_000 else f"{n / 1000:.0f}k"


def _money(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.1 else f"${x:,.3f}".rstrip("0")


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _read(reader: Callable[[Path, Rejects], tuple[list[Artifact], int]], path: Path) -> list[Artifact]:
    """One adapter's records; the rows it rejects (repeated ids) are not candidates."""
    artifacts, _ = reader(path, Rejects())
    return artifacts


def _tags(art: Artifact) -> set[str]:
    return {tag for cap in art.capabilities for tag in cap.tags}


def _litellm_mode(art: Artifact) -> str:
    """The litellm mode the adapter recorded (its mode capability is tagged with it), ``chat`` when absent."""
    modes = [t for t in _tags(art) - {"litellm"} if not t.startswith("supports_")]
    return modes[0] if len(modes) == 1 else "chat"


def litellm_entries(path: Path) -> list[Entry]:
    """The hosted models of :data:`_LITELLM_PICKS`, with prices, context and capability flags.

    Names, prices, pricing, links and the ``supports_*`` flags come from :func:`read_litellm`; the
    context window and per-image, per-query, per-second and per-character prices, which the native
    format has no field for, from the same parse (:func:`litellm_table`).
    """
    artifacts = {a.name: a for a in _read(read_litellm, path)}
    table = litellm_table(path)
    hosts: dict[str, set[str]] = {}
    for art in artifacts.values():
        if art.provider:
            hosts.setdefault(art.name.split("/")[-1], set()).add(art.provider)
    entries = []
    for order, (key, art_id, name, maker, kind, tier) in enumerate(_LITELLM_PICKS):
        art, spec = artifacts[key], table[key]
        mode = _litellm_mode(art)
        flags = _tags(art)
        cap_name, cap_text, cap_tags = _MODE_CAP[mode]
        caps = [_capability(cap_name, cap_text.format(name=name), cap_tags)]
        for flag, (flag_name, flag_text, flag_tags) in _FLAG_CAP.items():
            if flag in flags and mode in ("chat", "image_generation"):
                caps.append(_capability(flag_name, flag_text.format(name=name), flag_tags))
        for word, (edit_name, edit_text, edit_tags) in _EDIT_CAP.items():
            if word in key.split("/")[-1]:
                caps.append(_capability(edit_name, edit_text.format(name=name), edit_tags))
        context = spec.get("max_input_tokens")
        if mode == "chat" and isinstance(context, int | float) and context >= 500_000:
            caps.append(_capability("Long-context input", f"{name} takes up to {_tokens(context)} tokens of "
                                    "input in one request.", ("long-context",)))
        if re.search(r"cod(e|estral)", art_id) and mode == "chat":
            caps.append(_capability("Code generation", f"{name} is tuned for writing, completing and "
                                    "editing source code.", ("coding", "llm")))
        facts = [f"{_KIND_PHRASE[mode]} from {maker} served through an API"]
        if isinstance(context, int | float) and mode in ("chat", "embedding"):
            facts.append(f"{_tokens(context)}-token context")
        named = [_FLAG_CAP[f][0].lower() for f in ("supports_function_calling", "supports_vision",
                                                   "supports_reasoning", "supports_web_search") if f in flags]
        if named and mode == "chat":
            facts.append("supports " + _join(named))
        if spec.get("output_cost_per_image"):
            facts.append(f"about {_money(float(spec['output_cost_per_image']))} per image")
        elif spec.get("input_cost_per_query"):
            facts.append(f"{_money(float(spec['input_cost_per_query']))} per query")
        elif spec.get("input_cost_per_second"):
            facts.append(f"{_money(float(spec['input_cost_per_second']) * 60)} per audio minute")
        elif spec.get("input_cost_per_character"):
            facts.append(f"{_money(float(spec['input_cost_per_character']) * 1e6)} per million characters")
        # Every provider's web search route is named "<provider>/search": the same name, not the same model.
        n_hosts = len(hosts.get(key.split("/")[-1], ())) if mode != "search" else 0
        if n_hosts > 1:
            facts.append(f"listed under {n_hosts} providers in litellm's price table")
        record = {
            "id": art_id,
            "name": name,
            "type": kind,
            "provider": maker,
            "pricing": art.pricing.value,
            "url": art.url,
            "description": "; ".join(facts) + ".",
            "price_input": art.price_input,
            "price_output": art.price_output,
            "derived_from": _LITELLM_LINEAGE.get(art_id, []),
            "integrates_with": ["litellm"],
            "capabilities": caps,
        }
        prominence = {1: 0.95, 2: 0.75, 3: 0.5}[tier] - order * 1e-4
        entries.append(_entry(record, LITELLM, prominence))
    return entries


# --------------------------------------------------------------------------------------------
# Open LLM Leaderboard v2: open models and their lineage
# --------------------------------------------------------------------------------------------

_N_DERIVED = 32
_N_MERGES = 4
_N_BASES = 16
_N_CODERS = 4
# The leaderboard's model types ("model_type") that pick the merges and the base models.
_MERGE_CATEGORY = "basemergesandmoerges"
_BASE_CATEGORIES = ("pretrained", "chatmodels")


def leaderboard_entries(path: Path) -> list[Entry]:
    """Popular open models, fine-tunes of them and a few merges, with their bases, by hub likes.

    Records come from :func:`read_open_llm_leaderboard`; parameter count, architecture, average
    score, model category and the base model's name as the leaderboard writes it, which the native
    format has no field for, from the row the adapter kept (:func:`leaderboard_table`). A fine-tune
    whose base has no row of its own still gets its base as a (name-only) record, so every
    ``derived_from`` edge lands on a catalogued artifact.
    """
    artifacts = {a.id: a for a in _read(read_open_llm_leaderboard, path)}
    rows: dict[str, dict[str, Any]] = {}
    categories: dict[str, set[str | None]] = {}  # every category a model was submitted under
    for row in leaderboard_table(path).iter_rows(named=True):
        key = slugify(row["name"] or "")
        rows.setdefault(key, row)  # the adapter keeps a model's first row
        categories.setdefault(key, set()).add(row["model_type"])
    # Names without an owner ("gpt2") are legacy aliases of owned repos listed as well.
    ranked = sorted((a for a in artifacts.values() if "/" in a.name),
                    key=lambda a: (a.signals.likes is None, -(a.signals.likes or 0.0), a.name))

    def merge(a: Artifact) -> bool:
        return "merge" in _tags(a)

    def first(n: int, test: Callable[[Artifact], bool]) -> list[Artifact]:
        return [a for a in ranked if test(a)][:n]

    def among_merges(a: Artifact) -> bool:
        return _MERGE_CATEGORY in categories[a.id]

    # The groups show clear examples: the merges are models every submission puts in the
    # leaderboard's merges category, the bases models it only ever lists as pretrained or chat
    # models. A fine-tune that is merely flagged as merged stays with the fine-tunes (its record
    # still says it is a merge).
    picked = [
        *first(_N_DERIVED, lambda a: bool(a.derived_from) and not among_merges(a)),
        *first(_N_MERGES, lambda a: categories[a.id] == {_MERGE_CATEGORY}),
        *first(_N_BASES, lambda a: not a.derived_from and categories[a.id] <= set(_BASE_CATEGORIES)),
        *first(_N_CODERS, lambda a: bool(re.search(r"(?i)coder|codestral|starcoder", a.name))
               and not among_merges(a)),
    ]
    chosen: dict[str, Artifact | None] = {}
    for pick in picked:
        chosen.setdefault(pick.id, pick)
    pending = [b for a in chosen.values() if a for b in a.derived_from]
    while pending:  # close the lineage: bases of picks, and their bases in turn
        base = pending.pop()
        if base in chosen:
            continue
        found = chosen[base] = artifacts.get(base)
        if found:
            pending.extend(found.derived_from)
    base_name: dict[str, str] = {}  # a base without a row of its own, as its first chosen child writes it
    for child in (c for c in chosen.values() if c):
        for base in child.derived_from:
            base_name.setdefault(base, rows[child.id]["base"])
    hearts = sorted((a.signals.likes or 0.0 for a in chosen.values() if a), reverse=True)
    entries = []
    for art_id, art in chosen.items():
        if art is None:
            name = base_name[art_id]
            children = [a.name for a in chosen.values() if a and art_id in a.derived_from]
            record: dict[str, Any] = {
                "id": art_id, "name": name, "type": "model", "provider": name.split("/")[0] if "/" in name else None,
                "pricing": "free", "url": f"https://huggingface.co/{name}",
                "description": f"Base model named by the Open LLM Leaderboard as the parent of "
                f"{_join(sorted(children))}; it has no leaderboard entry of its own.",
                "capabilities": [_capability("Open-weight text generation", f"{name} is an open-weight "
                                             "language model others fine-tune.", ("llm", "open-weights"))],
            }
            entries.append(_entry(record, LEADERBOARD, 0.5))
            continue
        row, tags, name = rows[art_id], _tags(art), art.name
        params = row["params"]
        caps = [_capability("Open-weight text generation", f"{name} can be downloaded from Hugging Face "
                            "and run on your own hardware.", ("llm", "open-weights"))]
        if "chat" in tags:
            caps.append(_capability("Chat and instruction following", f"{name} ships a chat template for "
                                    "multi-turn, instruction-style prompts.", ("llm", "chat", "open-weights")))
        if re.search(r"(?i)coder|codestral|starcoder|code", name):
            caps.append(_capability("Code generation", f"{name} is trained to write and complete code.",
                                    ("coding", "llm", "open-weights")))
        if re.search(r"(?i)math|qwq|reason|r1", name):
            caps.append(_capability("Math and reasoning", f"{name} targets multi-step math and "
                                    "reasoning problems.", ("reasoning", "math")))
        if "multimodal" in tags or re.search(r"-VL-|Vision", name):
            caps.append(_capability("Image understanding", f"{name} reads images as well as text.",
                                    ("vision", "multimodal")))
        if "moe" in tags:
            caps.append(_capability("Mixture-of-experts architecture", f"{name} routes each token to a few "
                                    "expert sub-networks, so only part of the weights run per token.", ("moe",)))
        if merge(art):
            caps.append(_capability("Model merging", f"{name} combines the weights of several parent "
                                    "models without further training.", ("merge", "open-weights")))
        size = f"{params:.1f}B-parameter " if params else ""
        facts = [f"Open-weight {size}language model ({row['architecture']}) published by "
                 f"{art.provider or 'an independent author'} on Hugging Face"]
        if art.derived_from:
            facts.append(f"fine-tuned from {row['base']}")
        if merge(art):
            facts.append("built by merging other models")
        if art.license:
            facts.append(f"licence {art.license}")
        if row["average"] is not None:
            facts.append(f"Open LLM Leaderboard v2 average {row['average']:.1f}")
        likes = art.signals.likes or 0.0
        record = {
            "id": art_id,
            "name": name,
            "type": art.type.value,
            "provider": art.provider,
            "pricing": art.pricing.value,
            "url": art.url,
            "description": "; ".join(facts) + ".",
            "license": art.license,
            "released": art.released.isoformat() if art.released else None,
            "signals": {"likes": likes},
            "derived_from": art.derived_from,
            "integrates_with": ["transformers"],
            "capabilities": caps,
            **({"benchmarks": art.benchmarks} if art.benchmarks else {}),
        }
        prominence = 1.0 - hearts.index(likes) / max(len(hearts), 1)
        entries.append(_entry(record, LEADERBOARD, prominence, params_b=params))
    return entries


# --------------------------------------------------------------------------------------------
# best-of-ml-python: Python projects, frameworks and their integrations
# --------------------------------------------------------------------------------------------

_N_PROJECTS = 58
# The frameworks best-of-ml-python labels projects with: catalog id -> the label word.
_FRAMEWORKS = {
    "pytorch": "pytorch", "tensorflow": "tensorflow", "transformers": "huggingface", "jax": "jax",
    "scikit-learn": "sklearn", "keras": "keras", "pyspark": "spark", "paddlepaddle": "paddle", "mxnet": "mxnet",
    "xgboost": "xgboost", "spacy": "spacy",
}
_ALWAYS = ("transformers", "gradio", "litellm", "ann-benchmarks", "ogb", "tensorflow-datasets", "gpustat",
           "deep-daze", "sentence-transformers", "accelerate", "adapter-transformers")
_CATEGORY_CAP: dict[str, tuple[str, tuple[str, ...]]] = {
    "nlp": ("Natural language processing", ("nlp",)),
    "chinese-nlp": ("Chinese text processing", ("nlp",)),
    "image": ("Computer vision", ("computer-vision", "image")),
    "ocr": ("Optical character recognition", ("ocr", "documents", "computer-vision")),
    "ml-frameworks": ("Model training", ("training", "deep-learning")),
    "data-viz": ("Data visualization", ("visualization",)),
    "interpretability": ("Model interpretability", ("interpretability",)),
    "hyperopt": ("Hyperparameter optimization", ("hyperopt", "training")),
    "ml-experiments": ("Experiment tracking", ("experiment-tracking", "mlops")),
    "graph": ("Graph machine learning", ("graph",)),
    "distributed-ml": ("Distributed training", ("distributed", "training")),
    "pytorch-utils": ("PyTorch utilities", ("training",)),
    "tensorflow-utils": ("TensorFlow utilities", ("training",)),
    "jax-utils": ("JAX utilities", ("training",)),
    "time-series-data": ("Time series analysis", ("time-series",)),
    "audio": ("Audio processing", ("audio",)),
    "financial-data": ("Financial data analysis", ("finance",)),
    "probabilistics": ("Probabilistic modeling", ("statistics",)),
    "reinforcement-learning": ("Reinforcement learning", ("reinforcement-learning",)),
    "geospatial-data": ("Geospatial analysis", ("geospatial",)),
    "model-serialisation": ("Model serving and export", ("serving", "deployment")),
    "gpu-utilities": ("GPU computing", ("gpu",)),
    "medical-data": ("Medical data processing", ("medical",)),
    "sklearn-utils": ("scikit-learn extensions", ("tabular",)),
    "tabular": ("Tabular learning", ("tabular",)),
    "recommender-systems": ("Recommendation", ("recommendation",)),
    "nn-search": ("Vector similarity search", ("vector-search", "search", "rag")),
    "adversarial": ("Adversarial robustness", ("security",)),
    "privacy-ml": ("Privacy-preserving ML", ("privacy",)),
    "data-pipelines": ("Data pipelines", ("data",)),
    "data-loading": ("Data loading", ("data",)),
    "data-containers": ("Dataframes", ("data",)),
    "db-clients": ("Database clients", ("data",)),
    "web-scraping": ("Web scraping", ("web",)),
    "others": ("Developer tooling", ("tooling",)),
}
_TYPE_NOUN = {"framework": "framework", "repo": "library", "cli": "command-line tool", "benchmark": "benchmark",
              "dataset": "dataset collection"}


def _best_of_type(art: Artifact, category: str) -> str:
    """The artifact type a best-of-ml-python project fits, from its category and own description."""
    text = art.description or ""
    if category == "ml-frameworks" or art.id in _FRAMEWORKS:
        return "framework"
    if re.search(r"(?i)bench", art.name) or text.lower().startswith("benchmark"):
        return "benchmark"
    if re.search(r"(?i)collection of datasets", text):
        return "dataset"
    if re.search(r"(?i)command[- ]line (utility|tool)", text):
        return "cli"
    return "repo"


def best_of_entries(path: Path) -> list[Entry]:
    """The most-starred projects, the frameworks their labels point to, and a few typed extras.

    Everything comes from :func:`read_best_of_ml`: the category is the tag of its one capability,
    the framework labels are its ``integrates_with`` edges.
    """
    ranked = sorted((a for a in _read(read_best_of_ml, path)
                     if a.signals.stars is not None and a.provider != "ml-tooling"),  # the list's own tooling
                    key=lambda a: (-(a.signals.stars or 0.0), a.id))
    wanted = {a.id for a in ranked[:_N_PROJECTS]} | set(_ALWAYS) | set(_FRAMEWORKS)
    picked = [a for a in ranked if a.id in wanted]
    stars = sorted((a.signals.stars or 0.0 for a in picked), reverse=True)
    entries = []
    for art in picked:
        category = next(iter(sorted(_tags(art) - {"best-of-ml"})), "others")
        kind = _best_of_type(art, category)
        cap_name, cap_tags = _CATEGORY_CAP.get(category, _CATEGORY_CAP["others"])
        name = art.name
        caps = [_capability(cap_name, f"{name} is a Python {_TYPE_NOUN[kind]} for "
                            f"{cap_name[0].lower() + cap_name[1:]}.", (*cap_tags, "python", "open-source"))]
        if kind == "cli":
            caps.append(_capability("Command-line interface", f"{name} runs from a terminal.", ("cli",)))
        elif kind == "benchmark":
            caps.append(_capability("Benchmark evaluation", f"{name} compares methods on shared tasks and "
                                    "reports standard metrics.", ("evaluation", "benchmark")))
        elif kind == "dataset":
            caps.append(_capability("Ready-made datasets", f"{name} downloads and prepares public datasets "
                                    "for training.", ("dataset", "data")))
        frameworks = [t for t in art.integrates_with if t in _FRAMEWORKS]
        signals = art.signals
        facts = [f"{cap_name} {_TYPE_NOUN[kind]} for Python from {(art.url or '').removeprefix('https://')}",
                 f"about {signals.stars or 0:,.0f} GitHub stars"]
        if signals.contributors:
            facts[-1] += f" and {signals.contributors:,.0f} contributors"
        if (signals.downloads or 0) >= 1000:
            facts.append(f"roughly {signals.downloads:,.0f} PyPI downloads a month")
        if frameworks:
            facts.append("works with " + _join([_FRAMEWORKS[t] for t in frameworks]))
        counts = {"stars": signals.stars, "forks": signals.forks, "contributors": signals.contributors,
                  "downloads": signals.downloads, "dependents": signals.dependents}
        record = {
            "id": art.id,
            "name": name,
            "type": kind,
            "provider": art.provider,
            "pricing": art.pricing.value,
            "url": art.url,
            "description": "; ".join(facts) + ".",
            "license": art.license,
            "released": art.released.isoformat() if art.released else None,
            "signals": {k: v for k, v in counts.items() if v is not None},
            "integrates_with": sorted(frameworks),
            "capabilities": caps,
        }
        prominence = 1.0 - stars.index(signals.stars or 0.0) / len(stars)
        entries.append(_entry(record, BEST_OF, prominence))
    return entries


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------


def build_entries(shared: Path) -> list[Entry]:
    """Every sample artifact, validated, ids unique, every lineage and integration edge resolved."""
    entries = [
        *seed_entries(),
        *litellm_entries(shared / LITELLM_FILE),
        *leaderboard_entries(shared / LEADERBOARD_FILE),
        *best_of_entries(shared / BEST_OF_FILE),
    ]
    seen: set[str] = set()
    for entry in entries:
        Artifact.model_validate(entry.record)
        if entry.id in seen:
            raise ValueError(f"duplicate sample id {entry.id}")
        seen.add(entry.id)
    for entry in entries:
        for key in ("derived_from", "integrates_with"):
            missing = [i for i in entry.record.get(key, []) if i not in seen]
            if missing:
                raise ValueError(f"{entry.id}: {key} names ids outside the sample catalog: {missing}")
    return entries


def catalog_jsonl(entries: Sequence[Entry]) -> str:
    return "".join(json.dumps(e.record, ensure_ascii=False) + "\n" for e in entries)


# --------------------------------------------------------------------------------------------
# Searches
# --------------------------------------------------------------------------------------------

Select = Callable[[Entry], float]


def _tag(*tags: str, types: Sequence[str] | None = None, paid: bool | None = None) -> Select:
    def select(e: Entry) -> float:
        if not set(tags) <= e.tags:
            return 0.0
        if types is not None and e.record["type"] not in types:
            return 0.0
        if paid is not None and (e.record.get("pricing") == "paid") != paid:
            return 0.0
        return 1.0

    return select


def _ids(weights: dict[str, float], also: Select | None = None, also_weight: float = 1.0) -> Select:
    def select(e: Entry) -> float:
        if e.id in weights:
            return weights[e.id]
        return also_weight * also(e) if also else 0.0

    return select


def _where(test: Callable[[Entry], bool]) -> Select:
    return lambda e: 1.0 if test(e) else 0.0


def _cheap(e: Entry) -> float:
    price = e.record.get("price_input")
    return 0.0 if not price or "chat" not in e.tags else min(20.0, 1.0 / price)


def _derived_from(pattern: str) -> Select:
    rx = re.compile(pattern)
    return _where(
        lambda e: e.record["type"] == "finetune" and any(rx.search(b) for b in e.record.get("derived_from", []))
    )


_IMAGE = _tag("text-to-image")
_CURATED: tuple[tuple[str, Select, float], ...] = (
    ("text to image api", _tag("text-to-image", paid=True), 3.0),
    ("ai image generator", _IMAGE, 3.0),
    ("open source image generation model", _ids({"flux-1-dev": 5, "flux-1-schnell": 4,
                                                 "stable-diffusion-xl-base-1.0": 5, "dalle-3-xl-lora-v2": 1},
                                                _IMAGE, 0.3), 2.0),
    ("flux vs dalle", _ids({"flux-1-pro": 40, "dall-e-3": 40, "dalle-3-xl-lora-v2": 3, "flux-1.1-pro": 3,
                            "flux-1-dev": 2, "dall-e-2": 2}, _IMAGE, 0.3), 1.5),
    ("flux.1 pro vs dall-e 3", _ids({"flux-1-pro": 40, "dall-e-3": 40, "dalle-3-xl-lora-v2": 4}, _IMAGE, 0.3), 0.5),
    ("dall-e 3 lora", _ids({"dalle-3-xl-lora-v2": 40, "dall-e-3": 10}, _tag("lora"), 1.0), 0.5),
    ("dalle 3 free", _ids({"dalle-3-xl-lora-v2": 30, "dall-e-3": 20}, _IMAGE, 0.3), 0.5),
    ("image inpainting api", _tag("inpainting"), 1.5),
    ("edit image with text instructions", _ids({"gpt-image-1": 5, "gemini-2.5-flash-image": 5},
                                               _tag("instruction-editing"), 5.0), 1.5),
    ("photorealistic image model", _tag("photorealism"), 1.0),
    ("best llm api", _tag("chat", paid=True), 3.0),
    ("cheap llm api", _cheap, 2.0),
    ("open source llm", _tag("chat", "open-weights"), 3.0),
    ("open source llm for coding", _ids({}, _tag("coding", "open-weights"), 5.0), 2.0),
    ("coding model api", _tag("coding", paid=True), 2.0),
    ("function calling llm", _tag("tools"), 1.5),
    ("reasoning model", _tag("reasoning"), 2.0),
    ("vision language model", _tag("vision"), 1.5),
    ("long context llm", _tag("long-context"), 1.0),
    ("computer use agent model", _tag("computer-use"), 0.7),
    ("embedding model for rag", _tag("embeddings"), 2.0),
    ("reranker api", _tag("reranking"), 1.0),
    ("speech to text api", _tag("speech-to-text"), 1.5),
    ("text to speech api", _tag("text-to-speech"), 1.5),
    ("web search api for agents", _tag("web-search"), 1.5),
    ("pdf ocr", _tag("ocr"), 1.0),
    ("text to video model", _tag("text-to-video"), 1.5),
    ("llama 3 fine-tunes", _derived_from(r"llama-3"), 1.0),
    ("mistral 7b fine-tune", _derived_from(r"mistral-7b"), 1.0),
    ("qwen2.5 instruct models", _derived_from(r"qwen2\.5"), 1.0),
    ("model merges", _tag("merge"), 0.5),
    ("mixture of experts model", _tag("moe"), 0.7),
    ("small llm for laptop", _where(lambda e: e.params_b is not None and e.params_b <= 4 and "chat" in e.tags), 1.0),
    ("deep learning framework", _where(lambda e: e.record["type"] == "framework"), 2.0),
    ("pytorch library", _where(lambda e: "pytorch" in e.record.get("integrates_with", [])), 1.5),
    ("tensorflow library", _where(lambda e: "tensorflow" in e.record.get("integrates_with", [])), 1.0),
    ("nlp library python", _tag("nlp"), 1.5),
    ("computer vision library", _tag("computer-vision"), 1.5),
    ("vector database", _tag("vector-search"), 1.5),
    ("hyperparameter tuning python", _tag("hyperopt"), 0.7),
    ("experiment tracking", _tag("experiment-tracking"), 0.7),
    ("explain model predictions", _tag("interpretability"), 0.7),
    ("time series forecasting library", _tag("time-series"), 0.7),
    ("distributed training", _tag("distributed"), 0.7),
    ("reinforcement learning library", _tag("reinforcement-learning"), 0.5),
    ("serve ml model", _tag("serving"), 0.5),
    ("gpu monitoring cli", _ids({"gpustat": 30}, _tag("gpu"), 1.0), 0.5),
    ("ann benchmark", _ids({"ann-benchmarks": 30}, _tag("vector-search"), 1.0), 0.5),
    ("graph ml benchmark datasets", _ids({"ogb": 30}, _tag("graph"), 1.0), 0.4),
    ("datasets for machine learning", _where(lambda e: e.record["type"] in ("dataset", "benchmark")), 0.6),
    ("llm gateway proxy", _ids({"litellm": 40}, _tag("chat", paid=True), 0.2), 1.0),
    ("gradio demo", _ids({"gradio": 40, "streamlit": 5, "dalle-3-xl-lora-v2": 4}), 0.6),
)


def sample_intents(entries: Sequence[Entry]) -> list[Intent]:
    """Realistic queries over the sample catalog: curated needs first, then the derived ones.

    The derived intents (names, comparisons, alternatives, capabilities) come from
    :func:`ingest.synth.derive_intents`; the curated ones say in words what people look for.
    """
    intents = []
    for query, select, weight in _CURATED:
        relevance = {e.id: r for e in entries if (r := select(e)) > 0}
        if relevance:
            intents.append(Intent(query, relevance, weight, "curated"))
    # Generic capability phrases ("pdf input") are rarer as typed queries than the curated needs.
    for intent in derive_intents([e.record for e in entries]):
        generic = intent.kind in ("capability", "capability-type", "type")
        intents.append(replace(intent, weight=intent.weight * 0.25) if generic else intent)
    return intents


def sample_popularity(entries: Sequence[Entry]) -> dict[str, float]:
    """Zipf weights over the artifacts ordered by prominence within their source."""
    order = sorted(entries, key=lambda e: (-e.prominence, e.id))
    return {e.id: 1.0 / (rank + 1) for rank, e in enumerate(order)}


SAMPLE_QUALITY = {"flux-1-pro": 0.2, "dalle-3-xl-lora-v2": -2.8}
"""Hidden quality fixed for the two seed artifacts, matching the seed page's verdict."""


def build_searches(entries: Sequence[Entry], n_searches: int = N_SEARCHES, seed: int = SEARCH_SEED) -> pl.DataFrame:
    frame, _ = synth_searches(
        [e.record for e in entries], n_searches, seed, SEARCH_START, SEARCH_DAYS,
        intents=sample_intents(entries), popularity=sample_popularity(entries), quality=SAMPLE_QUALITY,
        id_prefix="sample-",
    )
    return frame


def searches_gz(frame: pl.DataFrame) -> bytes:
    """Native JSON lines, gzip-compressed with a fixed header so rebuilds are byte-identical."""
    raw = io.BytesIO()
    to_native_json(frame).write_ndjson(raw)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# README and entry point
# --------------------------------------------------------------------------------------------

_README = """# Sample data

Built by `scripts/build_samples.py`; do not edit by hand. To rebuild from the project root
(byte-identical for the same inputs):

```
python scripts/build_samples.py --shared ../shared --out ingest/samples
```

| file | what it holds |
|---|---|
| `catalog.jsonl` | {n_artifacts} real AI artifacts in the native catalog format ({types}) |
| `searches.synthetic.jsonl.gz` | {n_searches:,} **synthetic** searches in the native log format |

## The catalog

Facts (names, providers, prices, context sizes, capability flags, likes, stars, licences, lineage)
come from the three public catalogs below, read by matchgraph's own catalog adapters (`--format
litellm`, `open-llm-leaderboard`, `best-of-ml`). Every description and capability sentence is
generated from those facts by `scripts/build_samples.py`, not copied from the sources. Items are
picked deterministically: a fixed list of well-known hosted models, and the most-liked or
most-starred entries of the other two catalogs. Prices are in USD per million tokens.

The two artifacts of the seed comparison page, `dalle-3-xl-lora-v2` (6 capabilities) and
`flux-1-pro` (13 capabilities), keep the page's facts (names, types, pricing, capability counts)
in sentences written for this project; five of FLUX.1 Pro's capabilities, which the page does not
show, describe publicly documented FLUX.1 features (Fill/Expand, Canny/Depth, Redux, Kontext,
Ultra raw mode).

## The searches

`searches.synthetic.jsonl.gz` is generated by `ingest.synth.synth_searches` (seed {seed}, {days} days from
{start}): no person made these searches. Query volume follows a Zipf-like law over realistic
queries ("text to image api", "open source llm for coding", "flux vs dalle", artifact names,
comparisons); result order follows a hidden popularity plus relevance and noise, and clicks follow a
position-biased model over a hidden quality. Use them to exercise the pipeline, not as evidence
about the artifacts. The word `synthetic` in the file name is what tells matchgraph so: a log
file whose name holds it as a word (`searches.synthetic.jsonl.gz`, `synthetic-logs.csv`) is recorded
as synthetic in the ingest ledger, and pages whose ranks rest on such logs say "synthetic sample
logs" instead of "search data".

Open LLM Leaderboard models keep the leaderboard's six evaluations as `benchmarks` (its normalised
0-100 scores), which the quality sub-score uses where comparisons are few.

## Sources, licences and attribution

| source | licence | ids derived from it |
|---|---|---|
| {src_litellm} | MIT, (c) Berri AI | {ids_litellm} |
| {src_leaderboard} | MPL-2.0 | {ids_leaderboard} |
| {src_best_of} | CC-BY-SA-4.0 | {ids_best_of} |
| seed comparison page (facts only, sentences rewritten) | - | {ids_seed} |

The records derived from best-of-ml-python (the ids in its row above: names, categories, star,
fork, contributor, download and dependent counts, licences, labels and the integration edges made
from them) are adapted from "best-of-ml-python" by ml-tooling, licensed under
[CC-BY-SA-4.0](https://creativecommons.org/licenses/by-sa/4.0/), and are themselves distributed under
CC-BY-SA-4.0. Changes: selection of projects, facts restated as generated sentences, conversion to
this project's catalog format. The rest of `catalog.jsonl` and the synthetic searches are part of
this project.
"""


_SOURCES = {
    "src_litellm": "[litellm](https://github.com/BerriAI/litellm) `model_prices_and_context_window.json` "
    "(1.110.2 wheel)",
    "src_leaderboard": "Hugging Face Open LLM Leaderboard v2, as exported by "
    "[fboulnois/llm-leaderboard-csv](https://github.com/fboulnois/llm-leaderboard-csv) "
    "`csv/huggingface_v2.csv` @b2d67d9",
    "src_best_of": "[best-of-ml-python](https://github.com/ml-tooling/best-of-ml-python) by ml-tooling, "
    "`history/2025-06-26_projects.csv` @edd2a13",
}


def readme(entries: Sequence[Entry], n_searches: int) -> str:
    by_source: dict[str, list[str]] = {}
    for e in entries:
        by_source.setdefault(e.source, []).append(e.id)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.record["type"]] = counts.get(e.record["type"], 0) + 1
    types = ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def ids(source: str) -> str:
        return ", ".join(f"`{i}`" for i in sorted(by_source.get(source, [])))

    return _README.format(
        n_artifacts=len(entries), types=types, n_searches=n_searches, seed=SEARCH_SEED, days=SEARCH_DAYS,
        start=SEARCH_START.date().isoformat(), ids_litellm=ids(LITELLM), ids_leaderboard=ids(LEADERBOARD),
        ids_best_of=ids(BEST_OF), ids_seed=ids(SEED), **_SOURCES,
    )


def write_samples(shared: Path, out: Path, n_searches: int = N_SEARCHES) -> list[Path]:
    """Rebuild ``catalog.jsonl``, ``searches.synthetic.jsonl.gz`` and ``README.md`` in ``out``."""
    entries = build_entries(shared)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "catalog.jsonl", out / "searches.synthetic.jsonl.gz", out / "README.md"]
    paths[0].write_text(catalog_jsonl(entries), encoding="utf-8")
    paths[1].write_bytes(searches_gz(build_searches(entries, n_searches)))
    paths[2].write_text(readme(entries, n_searches), encoding="utf-8")
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python scripts/build_samples.py", description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"), help="the shared folder holding data/")
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="where to write the sample files")
    parser.add_argument("--searches", type=int, default=N_SEARCHES, help="number of synthetic searches")
    args = parser.parse_args(argv)
    for path in write_samples(args.shared, args.out, args.searches):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
