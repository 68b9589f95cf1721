"""`regiostrat chat`: serve the browser app (Gradio on FastAPI, via uvicorn)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from regiostrat.cli import index_option
from regiostrat.settings import Settings


@click.command("chat")
@index_option
@click.option("--host", default=None, help="Address to listen on (default: ui.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: ui.port, 7860).")
@click.option(
    "--root-path", default=None, help="Path prefix behind a reverse proxy (default: ui.root_path)."
)
def chat_command(
    index_dir: Path | None, host: str | None, port: int | None, root_path: str | None
) -> int:
    """Start the web app for practitioners (German chat with cited sources)."""
    import uvicorn

    from assistant.web.app import create_app

    settings = Settings().with_data_dir(index_dir)
    updates = {
        k: v
        for k, v in {"host": host, "port": port, "root_path": root_path}.items()
        if v is not None
    }
    if updates:
        settings = settings.model_copy(update={"ui": settings.ui.model_copy(update=updates)})
    ui = settings.ui
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    click.echo(f"RegioStrat-Assistent wird gestartet (Index: {settings.paths.data_dir}) …")
    app = create_app(settings)
    shown_host = "localhost" if ui.host in ("127.0.0.1", "0.0.0.0", "::") else ui.host
    click.echo(f"Im Browser öffnen: http://{shown_host}:{ui.port}{ui.root_path.rstrip('/')}/")
    if ui.auth_user and ui.auth_password:
        click.echo("Anmeldung ist eingeschaltet (ui.auth_user / ui.auth_password).")
    click.echo("Beenden mit Strg+C.")
    try:
        uvicorn.run(app, host=ui.host, port=ui.port, log_level="warning", proxy_headers=True)
    finally:
        app.state.backend.close()
    return 0
