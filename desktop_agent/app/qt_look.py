"""The app's look: Fusion with a light or a dark palette whose every text colour reads at 4.5:1 or more
against its background (WCAG AA), and control outlines (check boxes, fields, buttons) at 3:1 or more.

Fusion derives its outlines from the window colour (window.darker(140): about 2:1 in light, 1.2:1 in
dark), which no palette can fix, so a proxy style draws them again in a colour of the scheme. Faint text
is shown with setEnabled(False) in several windows: the disabled text colour is dimmer than the normal
one, yet still 4.5:1. Coloured words (a risk, a warning) use a tone (set_tone), which follows the scheme."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QStyleOptionComplex,
    QWidget,
)


def relative_luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white)."""
    def lin(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(colour.red()) + 0.7152 * lin(colour.green()) + 0.0722 * lin(colour.blue())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours, 1 .. 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


@dataclass(frozen=True)
class Scheme:
    """The colours of one light or dark look."""

    window: str
    base: str
    button: str
    text: str
    faint: str  # disabled and faint text, placeholders: dimmer, still 4.5:1 on window, base and button
    outline: str  # control outlines: 3:1 on window and base
    highlight: str  # selections, with white text on them
    link: str
    tones: dict[str, str]


LIGHT = Scheme(window="#efefef", base="#ffffff", button="#efefef", text="#000000", faint="#5f5f5f",
               outline="#767676", highlight="#1c63b7", link="#0645ad",
               tones={"danger": "#b3261e", "warning": "#8a4b00", "good": "#1b6e20", "info": "#1c5aa6"})
DARK = Scheme(window="#2b2d31", base="#1e1f22", button="#303236", text="#e1e3e6", faint="#b4b7bd",
              outline="#8a8e96", highlight="#1c63b7", link="#8ab4ff",
              tones={"danger": "#ff8a80", "warning": "#ffb74d", "good": "#81c995", "info": "#8ab4ff"})
TONES = tuple(LIGHT.tones)


def scheme_of(palette: QPalette) -> Scheme:
    """The scheme whose colours fit this palette (dark when its window colour is dark)."""
    return DARK if palette.color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def make_palette(scheme: Scheme) -> QPalette:
    """A complete palette, every group (active, inactive, disabled), from a scheme."""
    pal = QPalette()
    c = QColor
    normal = {QPalette.ColorRole.Window: scheme.window, QPalette.ColorRole.WindowText: scheme.text,
              QPalette.ColorRole.Base: scheme.base, QPalette.ColorRole.AlternateBase: scheme.window,
              QPalette.ColorRole.Text: scheme.text, QPalette.ColorRole.Button: scheme.button,
              QPalette.ColorRole.ButtonText: scheme.text, QPalette.ColorRole.ToolTipBase: scheme.base,
              QPalette.ColorRole.ToolTipText: scheme.text, QPalette.ColorRole.Mid: scheme.outline,
              QPalette.ColorRole.Highlight: scheme.highlight, QPalette.ColorRole.HighlightedText: "#ffffff",
              QPalette.ColorRole.PlaceholderText: scheme.faint, QPalette.ColorRole.Link: scheme.link,
              QPalette.ColorRole.LinkVisited: scheme.link, QPalette.ColorRole.BrightText: "#ffffff"}
    for role, colour in normal.items():
        pal.setColor(role, c(colour))
    light = QColor(scheme.button).lighter(130)
    for role, shade in ((QPalette.ColorRole.Light, light), (QPalette.ColorRole.Midlight, light),
                        (QPalette.ColorRole.Dark, QColor(scheme.outline).darker(130)),
                        (QPalette.ColorRole.Shadow, QColor(0, 0, 0))):
        pal.setColor(role, shade)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.PlaceholderText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c(scheme.faint))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, c(scheme.window))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, c(scheme.outline))
    return pal


def set_tone(widget: QWidget, tone: str | None) -> None:
    """Colour a label's text with a tone of the current scheme ('danger', 'warning', 'good', 'info'), or
    none; the colour follows later scheme changes. (The widget's own style sheet must not set `color`.)"""
    widget.setProperty("tone", tone or "")
    _apply_tone(widget, scheme_of(QApplication.palette()))


def _apply_tone(widget: QWidget, scheme: Scheme) -> None:
    tone = str(widget.property("tone") or "")
    pal = QApplication.palette(widget)
    if tone in scheme.tones:
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            pal.setColor(group, QPalette.ColorRole.WindowText, QColor(scheme.tones[tone]))
            pal.setColor(group, QPalette.ColorRole.Text, QColor(scheme.tones[tone]))
    widget.setPalette(pal)


class OutlinedStyle(QProxyStyle):
    """Fusion, with the outlines of check boxes, radio buttons, fields, spin boxes, combo boxes and
    buttons drawn again in the scheme's outline colour (3:1), unless Fusion shows keyboard focus there."""

    _PRIMITIVES = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_FrameLineEdit,
                   QStyle.PrimitiveElement.PE_PanelButtonCommand)
    _COMPLEX = (QStyle.ComplexControl.CC_SpinBox, QStyle.ComplexControl.CC_ComboBox)

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,
                      widget: QWidget | None = None) -> None:
        """Fusion's drawing, with a visible outline on checkboxes, radio buttons, line edits and buttons."""
        super().drawPrimitive(element, option, painter, widget)
        if element in self._PRIMITIVES:
            radius = 0.0 if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox else 2.0
            self._outline(option, painter, radius)
        elif element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            self._outline(option, painter, -1.0)

    def drawComplexControl(self, control: QStyle.ComplexControl, option: QStyleOptionComplex, painter: QPainter,
                           widget: QWidget | None = None) -> None:
        """Fusion's drawing, with a visible outline on spin boxes and combo boxes."""
        super().drawComplexControl(control, option, painter, widget)
        if control in self._COMPLEX and getattr(option, "frame", True):
            self._outline(option, painter, 2.0)

    @staticmethod
    def _outline(option: QStyleOption, painter: QPainter, radius: float) -> None:
        if option.state & QStyle.StateFlag.State_HasFocus and option.state & QStyle.StateFlag.State_KeyboardFocusChange:
            return  # Fusion's focus outline (the highlight colour) stays
        if option.state & QStyle.StateFlag.State_HasFocus and option.type in (
                QStyleOption.OptionType.SO_Frame, QStyleOption.OptionType.SO_SpinBox):
            return  # a focused field: Fusion's highlighted outline stays
        r = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if r.width() < 4 or r.height() < 4:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(0, 0, 0, 0))
        colour = QColor(scheme_of(option.palette).outline)
        if radius < 0:  # a circle: 1.5 px, so that its anti-aliased edge still reads at 3:1
            painter.setPen(QPen(colour, 1.5))
            painter.drawEllipse(r.adjusted(0.35, 0.35, -0.35, -0.35))
        elif radius == 0:
            painter.setPen(QPen(colour, 1.0))
            painter.drawRect(r)
        else:
            painter.setPen(QPen(colour, 1.0))
            painter.drawRoundedRect(r, radius, radius)
        painter.restore()


_style: OutlinedStyle | None = None


def apply_look(app: QApplication, dark: bool) -> None:
    """Install the outlined Fusion style (once) and the light or dark palette; retone toned widgets."""
    global _style
    if not isinstance(app.style(), OutlinedStyle):
        _style = OutlinedStyle()
        app.setStyle(_style)
    scheme = DARK if dark else LIGHT
    app.setPalette(make_palette(scheme))
    for w in app.allWidgets():
        if w.property("tone"):
            _apply_tone(w, scheme)
