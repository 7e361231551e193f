"""Random user-interface pages, as HTML, for training the UI-element detector.

Every page is generated from a seed: a theme (light or dark, accent colour, font, size, corner radius,
border style), an application layout (menu bar or web navigation, tool bar, tabs, side bar, forms,
tables with row actions, scrolling lists, an open menu now and then) built from the twelve classes of
controls, plus plain text, headings and pictures that are not controls. Each control carries its class in
`data-k`; `labels.js` reads the boxes back from the browser's layout. Icons are inline SVG from the icon
sets in ../icons/node_modules (see MODEL_CARD.md for their licenses).
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from pathlib import Path

CLASSES = ["button", "icon", "field", "checkbox", "radio", "toggle", "dropdown", "tab", "menu_item", "link",
           "slider", "scrollbar"]

ICON_DIRS = {
    "lucide": "lucide-static/icons",
    "tabler": "@tabler/icons/icons/outline",
    "bootstrap": "bootstrap-icons/icons",
    "mdi": "@mdi/svg/svg",
}

_WORD_TEXT = """
save open close new file edit view insert format tools help settings account profile search filter
export import share download upload print preview delete remove archive rename copy paste undo redo
send reply forward inbox drafts sent trash spam calendar contacts tasks notes photos music videos
documents desktop projects reports analytics dashboard billing invoices orders customers products
team members invite admin security privacy notifications appearance language region advanced general
display sound network bluetooth storage battery updates about apply cancel ok yes no continue back
next finish submit sign in out register forgot password email name address city country phone
company title description amount date time status priority owner created modified size type tags
comments history version branch commit merge pull request issue release build deploy logs metrics
alerts monitor server database table query schema index column row cell sheet chart formula font
bold italic underline align left right center justify image link video code quote list numbered
bullet heading paragraph zoom fit page width height color theme dark light auto system default
custom manual enable disable show hide more less all none select clear reset refresh reload sync
backup restore week month year today tomorrow yesterday überblick größe café naïve résumé año
"""
WORDS = _WORD_TEXT.split()


@dataclass(frozen=True)
class Theme:
    dark: bool
    bg: str
    panel: str
    fg: str
    muted: str
    accent: str
    accent_fg: str
    border: str
    font: str
    size: int
    radius: int
    stroke: float
    shadow: bool


def _hsl(h: float, s: float, lum: float) -> str:
    return f"hsl({h:.0f} {s:.0f}% {lum:.0f}%)"


def random_theme(rng: random.Random) -> Theme:
    dark = rng.random() < 0.35
    hue = rng.uniform(0, 360)
    tint = rng.uniform(0, 25)
    if dark:
        base = rng.uniform(8, 22)
        bg, panel = _hsl(hue, tint, base), _hsl(hue, tint, base + rng.uniform(3, 9))
        fg, muted = _hsl(hue, 10, rng.uniform(82, 96)), _hsl(hue, 8, rng.uniform(55, 70))
        border = _hsl(hue, tint, base + rng.uniform(12, 25))
    else:
        base = rng.uniform(92, 100)
        bg, panel = _hsl(hue, tint, base), _hsl(hue, tint, max(86.0, base - rng.uniform(0, 7)))
        fg, muted = _hsl(hue, 10, rng.uniform(5, 25)), _hsl(hue, 8, rng.uniform(38, 55))
        border = _hsl(hue, tint, rng.uniform(68, 86))
    ahue = rng.uniform(0, 360)
    alum = rng.uniform(35, 60)
    accent = _hsl(ahue, rng.uniform(45, 90), alum)
    accent_fg = "#fff" if alum < 55 else "#111"
    # Fonts with permissive licenses only (DejaVu: Bitstream Vera; Liberation: OFL-1.1).
    font = rng.choice(["DejaVu Sans", "Liberation Sans", "DejaVu Sans Mono", "DejaVu Serif",
                       "Liberation Serif", "DejaVu Sans Condensed", "Liberation Sans Narrow", "Liberation Mono"])
    return Theme(dark, bg, panel, fg, muted, accent, accent_fg, border, font, rng.randint(11, 17),
                 rng.choice([0, 2, 3, 4, 6, 8, 12]), rng.choice([1.25, 1.5, 1.75, 2.0, 2.5]), rng.random() < 0.4)


class IconBank:
    """SVG files of the icon sets, read lazily, inlined with a fixed size and the current colour."""

    def __init__(self, node_modules: Path) -> None:
        self.files = {name: sorted((node_modules / d).glob("*.svg")) for name, d in ICON_DIRS.items()}
        self._cache: dict[Path, str] = {}

    def svg(self, rng: random.Random, size: int, set_name: str | None = None) -> str:
        name = set_name or rng.choice(list(self.files))
        path = rng.choice(self.files[name])
        text = self._cache.get(path)
        if text is None:
            text = re.sub(r"<!--.*?-->", "", path.read_text(), flags=re.S).strip()
            text = re.sub(r"<svg\b", '<svg class="ic"', text, count=1)
            self._cache[path] = text
        fill = ' style="fill:currentColor"' if name == "mdi" else ""
        return f'<span class="svgw" style="width:{size}px;height:{size}px"{fill}>{text}</span>'


class PageBuilder:
    def __init__(self, rng: random.Random, icons: IconBank) -> None:
        self.rng = rng
        self.icons = icons
        self.t = random_theme(rng)
        self.icon_set = rng.choice(list(ICON_DIRS))
        self.icon_size = rng.choice([14, 16, 16, 18, 20, 20, 24])

    # -- words -------------------------------------------------------------------------------------
    def words(self, lo: int = 1, hi: int = 2, cap: bool = True) -> str:
        w = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(lo, hi)))
        return html.escape(w.capitalize() if cap else w)

    def icon(self, size: int | None = None) -> str:
        return self.icons.svg(self.rng, size or self.icon_size,
                              self.icon_set if self.rng.random() < 0.85 else None)

    # -- controls ----------------------------------------------------------------------------------
    def button(self, text: str | None = None) -> str:
        r, t = self.rng, self.t
        style = r.choice(["primary", "secondary", "outline", "outline", "soft"])
        pad_y, pad_x = r.randint(3, 10), r.randint(8, 20)
        if style == "primary":
            look = f"background:{t.accent};color:{t.accent_fg};border:1px solid {t.accent}"
        elif style == "secondary":
            look = f"background:{t.panel};color:{t.fg};border:1px solid {t.border}"
        elif style == "soft":
            look = f"background:color-mix(in srgb,{t.accent} 18%,{t.bg});color:{t.accent};border:0"
        else:
            look = f"background:transparent;color:{t.accent};border:{r.choice([1, 1, 2])}px solid {t.accent}"
        lead = self.icon(r.choice([14, 16])) + " " if r.random() < 0.25 else ""
        shadow = ";box-shadow:0 1px 2px rgba(0,0,0,.3)" if t.shadow and style == "primary" else ""
        label = text or self.words(1, 2)
        return (f'<button data-k="button" class="btn" style="{look};padding:{pad_y}px {pad_x}px;'
                f'border-radius:{t.radius}px{shadow}">{lead}{label}</button>')

    def icon_button(self, framed: bool | None = None, size: int | None = None) -> str:
        r, t = self.rng, self.t
        framed = r.random() < 0.4 if framed is None else framed
        pad = r.randint(3, 8)
        if framed:
            bg = r.choice([t.panel, "transparent", f"color-mix(in srgb,{t.fg} 8%,{t.bg})"])
            look = f"background:{bg};border:1px solid {t.border};padding:{pad}px;border-radius:{t.radius}px"
            return f'<button data-k="icon" class="ib" style="{look}">{self.icon(size)}</button>'
        color = r.choice([t.fg, t.muted, t.accent])
        # A frameless icon button: the visible glyph is the target.
        return (f'<button class="ib" style="background:transparent;border:0;padding:{pad}px;color:{color}">'
                f'<span data-k="icon" class="glyph">{self.icon(size)}</span></button>')

    def field(self, placeholder: bool = True) -> str:
        r, t = self.rng, self.t
        kind = r.choice(["text", "text", "email", "password", "search", "number", "textarea"])
        ph = f' placeholder="{self.words(1, 3)}"' if placeholder and r.random() < 0.7 else ""
        val = f' value="{self.words(1, 2, cap=False)}"' if not ph and r.random() < 0.6 else ""
        border = r.choice([f"1px solid {t.border}", f"1px solid {t.muted}", f"2px solid {t.border}",
                           f"0;border-bottom:1px solid {t.muted}"])
        bg = r.choice([t.bg, t.panel, "transparent"]) if not t.dark else r.choice([t.bg, t.panel])
        w = r.randint(120, 320)
        style = (f"width:{w}px;padding:{r.randint(3, 9)}px {r.randint(4, 10)}px;border:{border};"
                 f"border-radius:{t.radius}px;background:{bg};color:{t.fg};font:inherit")
        if kind == "textarea":
            return f'<textarea data-k="field" rows="{r.randint(2, 4)}" style="{style}"{ph}></textarea>'
        return f'<input data-k="field" type="{kind}" style="{style}"{ph}{val}>'

    def labelled_field(self) -> str:
        above = self.rng.random() < 0.6
        sep = "<br>" if above else " "
        return f'<div class="row"><label>{self.words(1, 2)}{":" if not above else ""}</label>{sep}{self.field()}</div>'

    def check(self, kind: str, labelled: bool = True) -> str:
        """A checkbox or radio with its label: native, or drawn (a box with a tick)."""
        r, t = self.rng, self.t
        checked = r.random() < 0.45
        label = self.words(1, 4) if labelled else ""
        if r.random() < 0.45:
            scale = r.choice([1, 1, 1.2, 1.5])
            accent = f"accent-color:{t.accent};" if r.random() < 0.6 else ""
            return (f'<label class="ck"><input data-k="{kind}" type="{kind}" name="g{r.randint(0, 3)}"'
                    f'{" checked" if checked else ""} style="{accent}transform:scale({scale});margin:4px">'
                    f' {label}</label>')
        size = r.randint(13, 20)
        radius = "50%" if kind == "radio" else f"{min(t.radius, 4)}px"
        if checked:
            inner = (f'<span style="display:block;width:{size // 2}px;height:{size // 2}px;border-radius:50%;'
                     f'background:{t.accent};margin:{size // 4 - 1}px"></span>') if kind == "radio" else \
                self.icons.svg(r, size - 4, "lucide").replace('<span class="svgw"', '<span class="svgw tick"')
            bg, border = (t.bg, t.accent) if kind == "radio" else (t.accent, t.accent)
        else:
            inner, bg, border = "", t.bg, r.choice([t.border, t.muted])
        return (f'<label class="ck"><span data-k="{kind}" class="box" style="width:{size}px;height:{size}px;'
                f'border:{r.choice([1, 2])}px solid {border};border-radius:{radius};background:{bg};'
                f'color:{t.accent_fg}">{inner}</span> {label}</label>')

    def toggle(self) -> str:
        r, t = self.rng, self.t
        w, h = r.randint(28, 46), r.randint(14, 24)
        on = r.random() < 0.5
        knob = h - 4
        track = t.accent if on else r.choice([t.border, t.muted])
        left = w - knob - 2 if on else 2
        return (f'<label class="ck"><span data-k="toggle" class="sw" style="width:{w}px;height:{h}px;'
                f'border-radius:{h // 2 if r.random() < 0.85 else 3}px;background:{track}">'
                f'<span style="left:{left}px;width:{knob}px;height:{knob}px;'
                f'border-radius:{knob // 2}px"></span></span> {self.words(1, 3)}</label>')

    def dropdown(self) -> str:
        r, t = self.rng, self.t
        opts = "".join(f"<option>{self.words(1, 2)}</option>" for _ in range(3))
        style = (f"padding:{r.randint(3, 8)}px {r.randint(4, 10)}px;border:1px solid {t.border};"
                 f"border-radius:{t.radius}px;background:{r.choice([t.bg, t.panel])};color:{t.fg};font:inherit;"
                 f"min-width:{r.randint(90, 220)}px")
        if r.random() < 0.5:
            return f'<select data-k="dropdown" style="{style}">{opts}</select>'
        chevron = self.icons.svg(r, r.choice([12, 14, 16]), r.choice(["lucide", "tabler"]))
        return (f'<span data-k="dropdown" class="dd" style="{style}"><span>{self.words(1, 2)}</span>'
                f'<span class="chev">{chevron}</span></span>')

    def slider(self) -> str:
        r, t = self.rng, self.t
        w = r.randint(100, 260)
        if r.random() < 0.5:
            return f'<input data-k="slider" type="range" value="{r.randint(0, 100)}" style="width:{w}px;accent-color:{t.accent}">'
        th = r.randint(10, 18)
        return (f'<input data-k="slider" type="range" class="rng" value="{r.randint(0, 100)}" '
                f'style="width:{w}px;--th:{th}px;--tr:{r.randint(2, 6)}px">')

    def link(self) -> str:
        deco = "underline" if self.rng.random() < 0.6 else "none"
        return f'<a data-k="link" href="#" style="color:{self.t.accent};text-decoration:{deco}">{self.words(1, 3, False)}</a>'

    # -- regions ----------------------------------------------------------------------------------
    def menubar(self) -> str:
        items = "".join(f'<span data-k="menu_item" class="mi">{self.words(1, 1)}</span>'
                        for _ in range(self.rng.randint(3, 8)))
        return f'<div class="menubar">{items}</div>'

    def toolbar(self) -> str:
        r = self.rng
        framed = r.random() < 0.3
        size = r.choice([16, 16, 18, 20, 24])
        parts = []
        for _ in range(r.randint(4, 14)):
            x = r.random()
            if x < 0.1:
                parts.append('<span class="sep"></span>')
            elif x < 0.17:
                parts.append(self.dropdown())
            elif x < 0.22:
                parts.append(self.button())
            else:
                parts.append(self.icon_button(framed, size))
        if r.random() < 0.4:
            parts.append('<span style="flex:1"></span>' + self.field())
        return f'<div class="toolbar">{"".join(parts)}</div>'

    def navbar(self) -> str:
        r = self.rng
        links = " ".join(self.link() for _ in range(r.randint(2, 5)))
        right = "".join(self.icon_button(False) for _ in range(r.randint(1, 4)))
        search = self.field() if r.random() < 0.6 else ""
        btn = self.button() if r.random() < 0.5 else ""
        return (f'<div class="toolbar nav"><b style="font-size:1.2em">{self.words(1, 1)}</b>{links}'
                f'<span style="flex:1"></span>{search}{right}{btn}</div>')

    def tabs(self) -> str:
        r, t = self.rng, self.t
        style = r.choice(["underline", "boxed", "pill"])
        n = r.randint(2, 7)
        active = r.randrange(n)
        out = []
        for i in range(n):
            on = i == active
            if style == "underline":
                look = f"border-bottom:2px solid {t.accent if on else 'transparent'};color:{t.accent if on else t.fg}"
            elif style == "boxed":
                look = (f"border:1px solid {t.border};border-bottom-color:{t.bg if on else t.border};"
                        f"background:{t.bg if on else t.panel};border-radius:{t.radius}px {t.radius}px 0 0")
            else:
                look = f"background:{t.accent if on else 'transparent'};color:{t.accent_fg if on else t.fg};border-radius:99px"
            lead = self.icon(14) + " " if r.random() < 0.2 else ""
            close = " " + self.icons.svg(r, 12, "lucide") if r.random() < 0.1 else ""
            out.append(f'<span data-k="tab" class="tab" style="{look};padding:{r.randint(4, 9)}px {r.randint(8, 16)}px">'
                       f'{lead}{self.words(1, 2)}{close}</span>')
        return f'<div class="tabs" style="border-bottom:1px solid {t.border}">{"".join(out)}</div>'

    def sidebar(self) -> str:
        r, t = self.rng, self.t
        items = []
        active = r.randrange(8)
        with_icons = r.random() < 0.6
        for i in range(r.randint(4, 12)):
            bg = f"background:color-mix(in srgb,{t.accent} 20%,{t.panel})" if i == active else ""
            lead = self.icon(16) + " " if with_icons else ""
            items.append(f'<div data-k="menu_item" class="side" style="{bg};border-radius:{t.radius}px">'
                         f'{lead}{self.words(1, 2)}</div>')
            if r.random() < 0.12:
                items.append(f'<div class="muted" style="font-size:.8em;padding:8px 10px 2px">{self.words(1, 2).upper()}</div>')
        return f'<div class="sidebar" style="width:{r.randint(150, 240)}px">{"".join(items)}</div>'

    def form_card(self) -> str:
        r = self.rng
        parts = [f"<h3>{self.words(1, 3)}</h3>"]
        for _ in range(r.randint(3, 8)):
            x = r.random()
            if x < 0.3:
                parts.append(self.labelled_field())
            elif x < 0.45:
                parts.append('<div class="row">' + "".join(self.check("checkbox") for _ in range(r.randint(1, 3))) + "</div>")
            elif x < 0.55:
                parts.append('<div class="row">' + "".join(self.check("radio") for _ in range(r.randint(2, 3))) + "</div>")
            elif x < 0.65:
                parts.append(f'<div class="row">{self.toggle()}</div>')
            elif x < 0.75:
                parts.append(f'<div class="row"><label>{self.words(1, 2)}</label> {self.dropdown()}</div>')
            elif x < 0.83:
                parts.append(f'<div class="row"><label>{self.words(1, 1)}</label> {self.slider()}</div>')
            else:
                parts.append(f"<p>{self.paragraph()}</p>")
        btns = "".join(self.button() for _ in range(r.randint(1, 3)))
        parts.append(f'<div class="row" style="justify-content:flex-end">{btns}</div>')
        return f'<div class="card">{"".join(parts)}</div>'

    def paragraph(self) -> str:
        r = self.rng
        out = []
        for _ in range(r.randint(6, 30)):
            out.append(self.link() if r.random() < 0.07 else html.escape(r.choice(WORDS)))
        return " ".join(out).capitalize() + "."

    def table(self) -> str:
        r = self.rng
        cols = r.randint(2, 5)
        head = "".join(f"<th>{self.words(1, 1)}</th>" for _ in range(cols))
        rows = []
        size = r.choice([14, 16, 16, 18])
        check = r.random() < 0.4
        for _ in range(r.randint(3, 10)):
            cells = "".join(f"<td>{self.words(1, 2, cap=False)}</td>" for _ in range(cols))
            acts = "".join(self.icon_button(False, size) for _ in range(r.randint(1, 3)))
            first = f"<td>{self.check('checkbox', labelled=False)}</td>" if check else ""
            rows.append(f"<tr>{first}{cells}<td>{acts}</td></tr>")
        return (f'<table style="border-collapse:collapse"><tr>{"<th></th>" if check else ""}{head}<th></th></tr>'
                f'{"".join(rows)}</table>')

    def scroll_list(self) -> str:
        r = self.rng
        items = "".join(f'<div class="li">{self.words(1, 4)}</div>' for _ in range(r.randint(12, 30)))
        return (f'<div data-k="scrollbar" class="scroll" style="height:{r.randint(120, 260)}px;'
                f'width:{r.randint(160, 320)}px">{items}</div>')

    def open_menu(self) -> str:
        r, t = self.rng, self.t
        items = []
        for _ in range(r.randint(3, 9)):
            if r.random() < 0.15:
                items.append(f'<div style="border-top:1px solid {t.border};margin:3px 0"></div>')
                continue
            lead = self.icon(14) + " " if r.random() < 0.4 else ""
            key = f'<span class="muted" style="margin-left:auto">Ctrl+{r.choice("ABCDEFGHNOPSZ")}</span>' if r.random() < 0.3 else ""
            items.append(f'<div data-k="menu_item" class="mrow">{lead}{self.words(1, 3)}{key}</div>')
        x, y = r.randint(10, 700), r.randint(30, 300)
        return (f'<div class="menu" style="left:{x}px;top:{y}px;min-width:{r.randint(140, 240)}px">'
                f'{"".join(items)}</div>')

    def picture(self) -> str:
        r = self.rng
        a, b = r.uniform(0, 360), r.uniform(0, 360)
        return (f'<div style="width:{r.randint(80, 300)}px;height:{r.randint(60, 180)}px;border-radius:{self.t.radius}px;'
                f'background:linear-gradient({r.randint(0, 180)}deg,hsl({a:.0f} 60% 60%),hsl({b:.0f} 50% 35%))"></div>')

    # -- page ---------------------------------------------------------------------------------------
    def css(self) -> str:
        t = self.t
        sb = self.rng.choice([None, 8, 10, 12, 14])
        scroll_css = "" if sb is None else (
            f".scroll::-webkit-scrollbar{{width:{sb}px}}.scroll::-webkit-scrollbar-thumb{{background:{t.muted};"
            f"border-radius:{sb // 2}px}}.scroll::-webkit-scrollbar-track{{background:{t.panel}}}")
        return f"""
*{{box-sizing:border-box}}
html,body{{margin:0;height:100%;overflow:hidden}}
body{{background:{t.bg};color:{t.fg};font-family:'{t.font}';font-size:{t.size}px;color-scheme:{'dark' if t.dark else 'light'}}}
.svgw{{display:inline-flex;vertical-align:middle;line-height:0}}
.svgw svg{{width:100%;height:100%}}
svg[stroke]{{stroke-width:{t.stroke}}}
.btn{{font:inherit;display:inline-flex;align-items:center;gap:6px;margin:4px;cursor:pointer}}
.ib{{display:inline-flex;margin:1px;color:{t.fg};line-height:0}}
.glyph{{display:inline-flex;line-height:0}}
.row{{margin:8px 0;display:flex;align-items:center;gap:10px;flex-wrap:wrap}}
.ck{{display:inline-flex;align-items:center;gap:6px;margin-right:12px}}
.box{{display:inline-flex;flex:none;align-items:center;justify-content:center}}
.sw{{position:relative;display:inline-block;flex:none}}
.sw>span{{position:absolute;top:2px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.4)}}
.dd{{display:inline-flex;align-items:center;justify-content:space-between;gap:8px}}
.menubar{{display:flex;background:{t.panel};border-bottom:1px solid {t.border}}}
.mi{{padding:4px 9px}}
.toolbar{{display:flex;align-items:center;gap:{self.rng.randint(0, 8)}px;padding:4px 8px;background:{t.panel};border-bottom:1px solid {t.border}}}
.nav{{gap:18px;padding:8px 16px}}
.sep{{width:1px;height:20px;background:{t.border};margin:0 4px}}
.tabs{{display:flex;gap:2px;padding:0 8px}}
.tab{{display:inline-flex;align-items:center;gap:6px}}
.sidebar{{background:{t.panel};border-right:1px solid {t.border};padding:8px;flex:none}}
.side{{padding:{self.rng.randint(4, 9)}px 10px;display:flex;align-items:center;gap:8px}}
.main{{flex:1;padding:12px 18px;display:flex;flex-wrap:wrap;gap:18px;align-content:flex-start}}
.card{{background:{t.panel};border:1px solid {t.border};border-radius:{t.radius}px;padding:12px 16px;
  {'box-shadow:0 2px 6px rgba(0,0,0,.25);' if t.shadow else ''}max-width:520px}}
.muted{{color:{t.muted}}}
th,td{{padding:{self.rng.randint(3, 9)}px 10px;border-bottom:1px solid {t.border};text-align:left}}
.scroll{{overflow-y:scroll;border:1px solid {t.border};border-radius:{t.radius}px}}
.li{{padding:5px 8px;border-bottom:1px solid {t.border}}}
.menu{{position:absolute;background:{t.panel};border:1px solid {t.border};padding:4px 0;
  box-shadow:0 4px 14px rgba(0,0,0,.35);border-radius:{min(t.radius, 6)}px;z-index:9}}
.mrow{{padding:5px 14px;display:flex;align-items:center;gap:8px}}
.rng{{-webkit-appearance:none;appearance:none;background:transparent;height:var(--th)}}
.rng::-webkit-slider-runnable-track{{height:var(--tr);background:{t.border};border-radius:3px}}
.rng::-webkit-slider-thumb{{-webkit-appearance:none;width:var(--th);height:var(--th);border-radius:50%;
  background:{t.accent};margin-top:calc((var(--tr) - var(--th)) / 2)}}
{scroll_css}
"""

    def plain_link(self, lo: int = 1, hi: int = 3) -> str:
        """A link as documentation sites draw them: coloured text, underlined or not."""
        deco = "underline" if self.rng.random() < 0.4 else "none"
        color = self.t.accent if self.rng.random() < 0.8 else self.t.fg
        if color == self.t.fg:
            deco = "underline"  # a link in the text's colour and not underlined is text to anyone
        return (f'<a data-k="link" href="#" style="color:{color};text-decoration:{deco}">'
                f'{self.words(lo, hi, self.rng.random() < 0.5)}</a>')

    def link_row(self) -> str:
        """Breadcrumbs ("home / shop / orders") or a navigation row ("previous | next | index")."""
        sep = html.escape(self.rng.choice([" / ", " | ", " › ", " » ", " · ", "  "]))
        links = sep.join(self.plain_link(1, 2) for _ in range(self.rng.randint(2, 6)))
        tail = f"{sep}{self.words(1, 2)}" if self.rng.random() < 0.5 else ""
        return f'<div style="padding:6px 12px;font-size:{self.rng.choice([".85em", "1em"])}">{links}{tail}</div>'

    def doc_page(self) -> str:
        """A documentation or article page: link rows, a side bar of link lists, headings, paragraphs
        dense with links, code, a table of contents."""
        r = self.rng
        side = "".join(
            f'<h4 style="margin:12px 0 4px">{self.words(1, 3)}</h4>'
            + "".join(f"<div style='padding:2px 0'>{self.plain_link(1, 4)}</div>" for _ in range(r.randint(2, 7)))
            for _ in range(r.randint(1, 4)))
        body = []
        for _ in range(r.randint(3, 8)):
            x = r.random()
            if x < 0.25:
                body.append(f"<h{r.randint(1, 3)}>{self.words(1, 5)}</h{r.randint(1, 3)}>")
            elif x < 0.45:
                items = "".join(f"<li>{self.plain_link(1, 5)}{' ' + self.words(1, 4, False) if r.random() < 0.4 else ''}</li>"
                                for _ in range(r.randint(2, 8)))
                body.append(f"<ul>{items}</ul>")
            elif x < 0.55:
                body.append(f"<pre style='background:{self.t.panel};padding:8px'>{self.words(3, 8, False)}</pre>")
            else:
                words = []
                for _ in range(r.randint(15, 60)):
                    words.append(self.plain_link(1, 3) if r.random() < 0.12 else html.escape(r.choice(WORDS)))
                body.append(f"<p>{' '.join(words).capitalize()}.</p>")
        top = self.link_row() + (self.link_row() if r.random() < 0.5 else "")
        left = (f'<div style="width:{r.randint(180, 280)}px;padding:8px 14px;flex:none;'
                f'background:{r.choice([self.t.panel, self.t.bg])}">{side}</div>') if r.random() < 0.7 else ""
        return (f"<!doctype html><html><head><meta charset='utf-8'><style>{self.css()}</style></head><body>"
                f'{self.navbar() if r.random() < 0.3 else ""}{top}<div style="display:flex;height:100%">{left}'
                f'<div style="flex:1;padding:0 24px;max-width:{r.randint(600, 1000)}px">{"".join(body)}</div></div>'
                f"</body></html>")

    def page(self) -> str:
        r = self.rng
        if r.random() < 0.25:
            return self.doc_page()
        top = []
        if r.random() < 0.5:
            top.append(self.menubar())
            if r.random() < 0.8:
                top.append(self.toolbar())
        else:
            top.append(self.navbar())
        if r.random() < 0.4:
            top.append(self.tabs())
        body = []
        makers = [self.form_card, self.form_card, self.table, self.scroll_list, self.picture,
                  lambda: f'<div class="card" style="max-width:480px"><h2>{self.words(2, 4)}</h2>'
                          f'<p>{self.paragraph()}</p><p>{self.paragraph()}</p></div>',
                  lambda: f'<div class="card">{self.tabs()}<p>{self.paragraph()}</p></div>',
                  lambda: f'<div class="card">{self.toolbar()}<p>{self.paragraph()}</p></div>']
        for _ in range(r.randint(3, 7)):
            body.append(r.choice(makers)())
        side = self.sidebar() if r.random() < 0.55 else ""
        menu = self.open_menu() if r.random() < 0.3 else ""
        status = (f'<div class="toolbar" style="position:absolute;bottom:0;left:0;right:0;font-size:.85em">'
                  f'{self.words(2, 4)}<span style="flex:1"></span>{self.icon_button(False, 14)}</div>'
                  if r.random() < 0.3 else "")
        return (f"<!doctype html><html><head><meta charset='utf-8'><style>{self.css()}</style></head><body>"
                f'{"".join(top)}<div style="display:flex;height:100%">{side}<div class="main">{"".join(body)}'
                f"</div></div>{menu}{status}</body></html>")


LABELS_JS = """
() => {
  const out = [];
  const vw = innerWidth, vh = innerHeight;
  for (const el of document.querySelectorAll('[data-k]')) {
    const k = el.dataset.k;
    let r = el.getBoundingClientRect();
    let box = [r.left, r.top, r.right, r.bottom];
    if (k === 'scrollbar') {
      const cs = getComputedStyle(el);
      const bl = parseFloat(cs.borderLeftWidth), br = parseFloat(cs.borderRightWidth);
      const bt = parseFloat(cs.borderTopWidth), bb = parseFloat(cs.borderBottomWidth);
      const w = el.offsetWidth - el.clientWidth - bl - br;
      if (w < 3) continue;
      box = [r.right - br - w, r.top + bt, r.right - br, r.bottom - bb];
    }
    if (box[2] - box[0] < 3 || box[3] - box[1] < 3) continue;
    // Only what is visible: inside the viewport and on top at its centre.
    if (box[0] < 0 || box[1] < 0 || box[2] > vw || box[3] > vh) continue;
    const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
    const hit = document.elementFromPoint(cx, cy);
    if (!hit || !(el === hit || el.contains(hit) || hit.contains(el) || k === 'scrollbar')) continue;
    out.push([k, box]);
  }
  return out;
}
"""
