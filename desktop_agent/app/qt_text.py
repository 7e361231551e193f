"""Text from the screen, a model, a task or a run record is shown as plain text, never as Qt rich text.

A QLabel (and a tooltip) guesses its format by default: text that looks like HTML is rendered as HTML. A
model's reason or a label read from the screen could then paint a green "✓ safe, approve it", hide text
in 1-px type, or show a link. So every label that can show such text is fixed to Qt.PlainText, and where a
label needs formatting of our own the untrusted parts go through html.escape (esc). Window titles and
tooltips hold our own words, except the tray's, which shows the run's status with no angle brackets."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_label(text: str = "", wrap: bool = False) -> QLabel:
    """A QLabel that shows its text literally, whatever it holds."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setText(text)
    return label


def rich_label(html_text: str = "", wrap: bool = False) -> QLabel:
    """A QLabel with formatting of our own: every untrusted part of `html_text` must be escaped (esc())."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(wrap)
    label.setText(html_text)
    return label


def esc(text: object) -> str:
    """Untrusted text for the content of a rich-text label of ours (never inside an attribute): shown
    literally, tags and all."""
    return html.escape(str(text), quote=False)
