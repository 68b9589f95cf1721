"""The browser app for practitioners: the Gradio UI mounted on FastAPI, next to the file route.

This module only assembles the parts: the shared `WebBackend`, the Gradio Blocks from
`assistant.web.layout`, the optional login (`assistant.web.access`), the route that serves the
original documents (`assistant.web.files`) and the page's look (`assistant.web.theme`).

    app = create_app(settings)            # FastAPI app: Gradio UI at "/", originals at /datei/…
    blocks = build_app(settings)          # only the gr.Blocks (for tests or custom wiring)
"""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from assistant.web.access import gradio_login_check, login_credentials
from assistant.web.backend import AssistantFactory, WebBackend
from assistant.web.conversation import Conversation
from assistant.web.files import file_router
from assistant.web.handlers import ChatHandlers
from assistant.web.layout import build_app
from assistant.web.texts import APP_TITLE, AUTH_MESSAGE
from assistant.web.theme import HEAD_JS, page_css, page_theme
from regiostrat.settings import Settings

# Re-exported: callers and tests import the app's parts from here.
__all__ = ["ChatHandlers", "Conversation", "WebBackend", "build_app", "create_app"]


def create_app(
    settings: Settings | None = None,
    assistant_factory: AssistantFactory | None = None,
) -> FastAPI:
    """The FastAPI app: the Gradio UI at "/" and the originals at /datei/{k}/{path}."""
    settings = settings or Settings()
    backend = WebBackend(settings, assistant_factory)
    blocks = build_app(settings, backend=backend)
    auth = login_credentials(settings)

    app = FastAPI(title=APP_TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.backend = backend
    app.state.blocks = blocks
    app.include_router(file_router(settings.paths.corpus_dirs, gradio_login_check(app, auth)))
    gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=auth,
        auth_message=AUTH_MESSAGE,
        root_path=settings.ui.root_path or None,
        show_error=True,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        theme=page_theme(),
        css=page_css(),
        head=HEAD_JS,
        server_name=settings.ui.host,
        server_port=settings.ui.port,
    )
    return app
