"""报刊问答: cited answers from newspaper archives (the core package).

Importing ``rag`` makes the process offline before any Hugging Face library loads: models come
from local files only, never from a hub (users run this on intranets).  This is the one place
that sets the environment for it.
"""

import os
import sys
import warnings

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def ensure_offline() -> None:
    """Set the offline environment, and flip huggingface_hub's constant where the hub was
    imported before ``rag`` (it reads the environment once)."""
    os.environ.update(OFFLINE_ENV)
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        vars(hub)["HF_HUB_OFFLINE"] = True


ensure_offline()
# jieba and milvus-lite 2.5 import pkg_resources (setuptools < 81, pinned by the milvus extra):
# its deprecation notice would print on every command
warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API", category=UserWarning)
