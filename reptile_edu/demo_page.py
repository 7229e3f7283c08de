"""Stand-alone demo pages (``make demo``): the language of a page that Voilà serves.

Voilà runs a notebook from ``demos/`` as a page without code, for projecting in class. The page's
language comes from its address, ``…/draw.ipynb?lang=tr``: Voilà hands the address's query string
to the kernel in ``$QUERY_STRING``. Without ``lang=`` the usual order of ``set_language()`` holds
(``$REPTILE_EDU_LANG``, which ``make demo LANG=tr`` sets, else English).
"""

from __future__ import annotations

import html
import os
from urllib.parse import parse_qs

import ipywidgets as W

from .i18n import LANGUAGES, set_language, tr


def page_language(query: str | None = None) -> str | None:
    """The ``lang`` of a page's query string (default: ``$QUERY_STRING``), if it is one of ``LANGUAGES``."""
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    wanted = parse_qs(query.lstrip("?")).get("lang", [None])[0]
    return wanted if wanted in LANGUAGES else None


def set_page_language(query: str | None = None) -> str:
    """``set_language`` for a demo page: the address's ``?lang=``, else ``$REPTILE_EDU_LANG``, else English."""
    return set_language(page_language(query) or os.environ.get("REPTILE_EDU_LANG") or "en")


def heading(key: str) -> W.HTML:
    """A page's title: the i18n text ``key`` as a heading."""
    return W.HTML(f"<h2>{html.escape(tr(key))}</h2>")
