"""Who may use the app: the optional login (Gradio's own) and the same check for the file route.

With `ui.auth_user` and `ui.auth_password` set, Gradio asks for a login; the file route at
/datei/… reuses Gradio's session cookie, so the originals are served only to logged-in users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from regiostrat.errors import ConfigError
from regiostrat.settings import Settings


def login_credentials(settings: Settings) -> tuple[str, str] | None:
    """(user, password) when the login is on, None when it is off; only one of them set is an
    error (`ConfigError`), so that a half-configured login never starts an open app."""
    if bool(settings.ui.auth_user) != bool(settings.ui.auth_password):
        raise ConfigError(
            "Für die Anmeldung müssen Benutzername und Passwort gesetzt sein "
            "(REGIOSTRAT_UI__AUTH_USER und REGIOSTRAT_UI__AUTH_PASSWORD); gesetzt ist nur eines."
        )
    if settings.ui.auth_user and settings.ui.auth_password:
        return (settings.ui.auth_user, settings.ui.auth_password.get_secret_value())
    return None


def gradio_login_check(app: FastAPI, auth: tuple[str, str] | None) -> Callable[[Request], bool]:
    """A check whether a request comes from a logged-in session of the Gradio app mounted on
    `app` (always true without login)."""

    def logged_in(request: Request) -> bool:
        """Gradio's own session check (its login cookie), reused for the file route."""
        if auth is None:
            return True
        gradio_app = _mounted_gradio_app(app)
        tokens = getattr(gradio_app, "tokens", None)
        cookie_id = getattr(gradio_app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return False  # fail closed when Gradio's session store is not where we expect it
        token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{cookie_id}"
        )
        return token is not None and token in tokens

    return logged_in


def _mounted_gradio_app(app: FastAPI) -> Any:
    from gradio.routes import App as GradioApp

    for route in app.routes:
        mounted = getattr(route, "app", None)
        if isinstance(mounted, GradioApp):
            return mounted
    return None
