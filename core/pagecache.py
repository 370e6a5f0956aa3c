"""Pages kept rendered until their data changes.

The pages users reload most and whose data changes least (the manager's overview, the firm's
queue of filings) are rendered once and then served from the cache (Redis) for as long as
nothing they show has changed. Everything a kept page depends on is in its key:

- the page and its full path (the query string: the year, the status asked for; only the
  caller's few canonical query strings are kept);
- the language, today's date (days left, the year being filed) and the code's release (a
  deployment of other templates, code or translations starts afresh: `release()`);
- what the caller names as `identity`: the user, his roles, the values read with them (his
  unread notices) and the *version of his data*, which PostgreSQL's triggers raise at every
  committed change of a table the page shows (accounts/pagechanges.py).

Served from the cache, a page costs the session and the user (read on every request anyway)
and one read of Redis, instead of its own queries and the template engine.

Not kept, rendered as before: with DEBUG on (`make dev`), when the caller gives no identity,
when the request has messages to show, and when Redis does not answer (then nothing waits for
it: core/cache.py). The CSRF token is not kept: the page is rendered with a placeholder, and
each response gets the request's own token.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import zlib
from collections.abc import Callable, Container, Hashable
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from .cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

#: How long a kept page may be served (its data unchanged) before it is rendered again: long
#: enough for a user's visit and a reviewer's morning of reloads, short enough that Redis holds
#: only the pages of those using the portal now.
TIMEOUT = 900
#: Larger pages are not kept.
MAX_BYTES = 512 * 1024
_SUFFIXES = (".py", ".html", ".mo", ".txt")
_release: str | None = None


def release() -> str:
    """What the code, the templates, the translations and the configuration are, the same in
    every process of one deployment: a digest of the environment and of the names, sizes and
    times of the files (read once)."""
    global _release
    if _release is None:
        digest = hashlib.blake2b(digest_size=8)
        # The configuration too: a setting changed by the environment changes what pages say.
        digest.update(repr(sorted(os.environ.items())).encode())
        base = Path(settings.BASE_DIR)
        for top in sorted(base.iterdir()):
            if (
                not top.is_dir()
                or top.name.startswith(".")
                or top.name in ("var", "static", "node_modules")
            ):
                continue
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for name in sorted(files):
                    if name.endswith(_SUFFIXES):
                        stat = os.stat(os.path.join(folder, name))
                        digest.update(
                            f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode()
                        )
        _release = digest.hexdigest()
    return _release


def _placeholder() -> str:
    """The CSRF token's stand-in in a kept page: the same in every process, unguessable."""
    return _placeholder_for(settings.SECRET_KEY)


@functools.cache
def _placeholder_for(secret: str) -> str:
    return (
        "csrf" + salted_hmac("core.pagecache", "csrf placeholder", secret=secret).hexdigest()[:32]
    )


def _key(request: HttpRequest, page: str, identity: tuple[Hashable, ...]) -> str:
    parts = (
        release(),
        page,
        request.get_full_path(),
        translation.get_language(),
        timezone.localdate().isoformat(),
        *identity,
    )
    raw = "\x1f".join(map(str, parts)).encode()
    return "page:" + hashlib.blake2b(raw, digest_size=20).hexdigest()


def kept_page(
    request: HttpRequest,
    page: str,
    identity: tuple[Hashable, ...] | None,
    build: Callable[[], tuple[str, dict]],
    *,
    queries: Container[str] = (),
) -> HttpResponse:
    """The page `page` (a name of its own) as `build()` would render it: `build` returns the
    template's name and its context, and is called only when the page is not kept yet.

    Kept only without a query string or with one of `queries` exactly (`year=2026`): any other
    (a search, `year=02026`, an unknown parameter) is rendered every time, so that no one can
    fill Redis with copies of a page under endless addresses."""
    key = None
    query = request.META.get("QUERY_STRING", "")
    if (
        identity is not None
        and not settings.DEBUG
        and (not query or query in queries)
        and not len(get_messages(request))
    ):
        key = _key(request, page, identity)
        try:
            kept = cache.get(key)
        except CACHE_ERRORS:
            key = kept = None
        if kept is not None:
            return _answer(request, zlib.decompress(kept).decode())
    template_name, context = build()
    body = render_to_string(
        template_name, {**context, "csrf_token": _placeholder()}, request=request
    )
    if key is not None and len(body) <= MAX_BYTES:
        try:
            # Compressed (a third to a seventh of the size, in 0.03-0.05 ms): Redis holds
            # the pages of everyone who opened one in the last `TIMEOUT` seconds.
            cache.set(key, zlib.compress(body.encode(), 1), TIMEOUT)
        except CACHE_ERRORS:
            pass
    return _answer(request, body)


def _answer(request: HttpRequest, body: str) -> HttpResponse:
    return HttpResponse(body.replace(_placeholder(), get_token(request)))


def forget_all() -> int:
    """Drop every kept page (after a database is restored, whose versions start again from
    the backup's); how many."""
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("page:*"), count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)
