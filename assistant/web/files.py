"""Serving the original documents, and only those.

The sources panel links each citation to its original file: `/datei/<k>/<relative path>` where
`k` numbers the directories in `settings.paths.corpus_dirs`. A request is answered only when the
path, after resolving `..` and symbolic links, lies inside that corpus directory and names a
regular, non-hidden file; everything else is a plain 404 (no hint whether a file exists).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

FILE_ROUTE = "/datei"
NOT_FOUND = "Datei nicht gefunden."

# Shown inline in the browser; anything else (DOCX, ...) is downloaded.
_INLINE = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".markdown": "text/plain; charset=utf-8",
    ".csv": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
# HTML from the corpus must not run scripts in the app's origin: sandbox it.
_SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def _roots(corpus_dirs: Iterable[Path | str]) -> list[Path]:
    return [Path(d).expanduser().resolve() for d in corpus_dirs]


def resolve_corpus_file(corpus_dirs: Sequence[Path | str], index: int, relpath: str) -> Path | None:
    """The file `relpath` inside corpus directory number `index`, or None when not allowed."""
    roots = _roots(corpus_dirs)
    if not 0 <= index < len(roots):
        return None
    return _file_under(roots[index], relpath)


def _file_under(root: Path, relpath: str) -> Path | None:
    """The file `relpath` inside `root` (already resolved), or None when not allowed."""
    if not relpath or "\x00" in relpath or "\\" in relpath or relpath.startswith("/"):
        return None
    parts = relpath.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    try:
        candidate = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


class FileLinker:
    """Turns a citation's source path into the app's URL of the original (or None)."""

    def __init__(
        self,
        corpus_dirs: Sequence[Path | str],
        root_path: str = "",
        known_paths: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.roots = _roots(corpus_dirs)
        self.prefix = root_path.rstrip("/") + FILE_ROUTE
        self.known_paths = dict(known_paths or {})
        self.base_dir = base_dir or Path.cwd()

    def locate(self, source: str) -> tuple[int, str] | None:
        """(corpus directory number, relative POSIX path) of a source, when it is servable."""
        if not source:
            return None
        raw = self.known_paths.get(source, source)
        path = Path(raw)
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return None
        for index, root in enumerate(self.roots):
            if resolved.is_relative_to(root):
                rel = resolved.relative_to(root).as_posix()
                if _file_under(root, rel) is not None:
                    return index, rel
        return None

    def url(self, source: str, page: int | None = None) -> str | None:
        located = self.locate(source)
        if located is None:
            return None
        index, rel = located
        url = f"{self.prefix}/{index}/{quote(rel)}"
        if page and rel.lower().endswith(".pdf"):
            url += f"#page={int(page)}"
        return url


AuthCheck = Callable[[Request], bool | Awaitable[bool]]


def file_router(
    corpus_dirs: Sequence[Path | str], auth_check: AuthCheck | None = None
) -> APIRouter:
    """The `/datei/{k}/{path}` route; `auth_check` guards it when the app requires a login."""
    router = APIRouter()
    roots = _roots(corpus_dirs)

    @router.get(FILE_ROUTE + "/{index}/{relpath:path}", include_in_schema=False)
    async def serve_file(index: str, relpath: str, request: Request) -> FileResponse:
        if auth_check is not None:
            allowed = auth_check(request)
            if not isinstance(allowed, bool):
                allowed = await allowed
            if not allowed:
                raise HTTPException(status_code=401, detail="Bitte melden Sie sich zuerst an.")
        if not index.isdigit() or int(index) >= len(roots):
            raise HTTPException(status_code=404, detail=NOT_FOUND)
        path = _file_under(roots[int(index)], relpath)
        if path is None:
            raise HTTPException(status_code=404, detail=NOT_FOUND)
        suffix = path.suffix.lower()
        media_type = _INLINE.get(suffix) or mimetypes.guess_type(path.name)[0]
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
        if suffix in (".html", ".htm"):
            headers["Content-Security-Policy"] = _SANDBOX
        disposition = "inline" if suffix in _INLINE else "attachment"
        return FileResponse(
            os.fspath(path),
            media_type=media_type or "application/octet-stream",
            headers=headers,
            filename=path.name,
            content_disposition_type=disposition,
        )

    return router
