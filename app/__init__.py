"""The Gradio chat UI (app.ui) over the façade; app.uploads stores and ingests uploaded files."""

from rag import ensure_offline

ensure_offline()  # before gradio is imported by app.ui
