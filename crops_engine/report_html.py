"""The one look of the engine's HTML reports (evaluation, trust, pretraining): a self-contained page."""

from __future__ import annotations

import html

CSS = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child { text-align: left; }
img { max-width: 100%; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
.sw { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em; border: 1px solid #666; }
.warn li { color: #a00; }
"""


def page(title: str, body: str) -> str:
    """A complete HTML document: `title` (plain text) and `body` (HTML)."""
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")
