"""Synthetic text lines rendered the way screens show UI text, for training the line recognizer.

Text comes from the gettext catalogs of the applications installed on this machine (English msgids and their
Latin, Greek and Cyrillic translations; the held-out applications' own catalogs are left out) and from generated
file names, paths, URLs, numbers, dates, sizes, shortcuts and symbols. Fonts are Debian's (debian-packages.txt),
inputs only. Each line is drawn with Pillow/FreeType at UI sizes, on light, dark, coloured or selected
backgrounds, then cropped the way a text detector's box cuts it (tight to loose, off-centre, with a neighbour's
edge peeking in) and put through light blur and rescaling.
"""

from __future__ import annotations

import gettext
import glob
import os
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent

# -- the charset ---------------------------------------------------------------------------------------------------
UI_SYMBOLS = ("…→←↑↓↔⇒⇐✓✔✗✕×÷€£¥¢©®™•·–—‘’‚“”„«»‹›°±≤≥≠≈∞§¶†‰′″⌘⇧⌥⌃⌫⏎↵⇥▸▾▴◂▶◀▲▼►◄★☆♥■□●○◆◇"
              "√∑µπΩ№")
LATIN = "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0xA1, 0x100) if c != 0xAD) \
    + "".join(chr(c) for c in range(0x100, 0x180)) + "ƒȘșȚț"
GREEK = "".join(chr(c) for c in range(0x386, 0x3CF) if c not in (0x387, 0x38B, 0x38D, 0x3A2))
CYRILLIC = "".join(chr(c) for c in range(0x400, 0x460)) + "ҐґҒғҚқҢңҮүҰұҺһӘәӨө"
CHARSET = "".join(dict.fromkeys(LATIN + GREEK + CYRILLIC + UI_SYMBOLS))
CHARSET_SET = frozenset(CHARSET)

# -- fonts ---------------------------------------------------------------------------------------------------------
# Under FONT_ROOT: Debian's font packages unpacked by build.sh (never installed: see there), else the system's.
FONT_ROOT = os.environ.get("TEXT_REC_FONT_ROOT", "/usr/share/fonts")
FONT_GLOBS = (
    "truetype/dejavu/DejaVuSans*.ttf", "truetype/dejavu/DejaVuSerif*.ttf",
    "truetype/liberation2/Liberation*.ttf",
    "truetype/noto/NotoSans-*.ttf", "truetype/noto/NotoSansDisplay-*.ttf",
    "truetype/noto/NotoSerif-*.ttf", "truetype/noto/NotoSansMono-*.ttf",
    "truetype/noto/NotoSansUI-*.ttf", "truetype/noto/NotoSansUI-*.ttf",
    "opentype/cantarell/Cantarell-*.otf",
    "truetype/open-sans/OpenSans-*.ttf",
    "opentype/inter/Inter-*.otf",
    "truetype/roboto/unhinted/RobotoTTF/Roboto-*.ttf",
    "truetype/roboto/unhinted/RobotoCondensed-*.ttf",
    "truetype/hack/Hack-*.ttf",
)
# Held out of training so that tests read a face the model never saw (fonts-crosextra-carlito, fonts-freefont-ttf).
HELD_OUT_FONTS = ("Carlito", "FreeSans", "FreeSerif", "FreeMono")
# Faces too thin or too ornate for UI text are dropped; italics are kept rarer by weighting.
SKIP_FACES = re.compile(r"Thin|ExtraLight|Black|MathTeX|CondLight")
# The held-out applications' own catalogs (harvest_desktop.HELD_OUT_APPS) never feed training text.
HELD_OUT_DOMAINS = ("featherpad", "lximage-qt", "qpdfview", "gpicview", "xarchiver", "ristretto", "dia", "geeqie",
                    "focuswriter")
LATIN_LOCALES = ("de", "fr", "es", "it", "pt", "pt_BR", "pl", "cs", "sk", "hu", "ro", "hr", "sl", "tr", "nl", "sv",
                 "da", "nb", "fi", "et", "lv", "lt", "ca", "eu", "gl", "is", "sq")
GREEK_LOCALES = ("el",)
CYRILLIC_LOCALES = ("ru", "uk", "be", "bg", "sr", "mk", "kk")


@dataclass
class Face:
    path: str
    weight: float
    covers: frozenset[str]


def font_paths() -> list[str]:
    out: list[str] = []
    for g in FONT_GLOBS:
        for p in sorted(glob.glob(os.path.join(FONT_ROOT, g))):
            name = os.path.basename(p)
            if SKIP_FACES.search(name) or any(h in name for h in HELD_OUT_FONTS) or p in out:
                continue
            out.append(p)
    return out


def _coverage(path: str) -> frozenset[str]:
    """The charset's characters the face draws with a glyph of its own (not the .notdef box)."""
    font = ImageFont.truetype(path, 24)
    def glyph(ch: str) -> bytes:
        img = Image.new("L", (48, 48))
        ImageDraw.Draw(img).text((8, 4), ch, font=font, fill=255)
        return img.tobytes()
    notdef = glyph("\uffff")
    empty = bytes(48 * 48)
    return frozenset(ch for ch in CHARSET if ch == " " or glyph(ch) not in (notdef, empty))


def load_faces() -> list[Face]:
    faces = []
    for p in font_paths():
        name = os.path.basename(p)
        w = 0.15 if ("Italic" in name or "Oblique" in name) else 1.0
        w *= 0.5 if "Mono" in name or "Hack" in name else 1.0
        w *= 2.0 if "DejaVuSans" in name or "Cantarell" in name or "NotoSans-" in name else 1.0
        faces.append(Face(p, w, _coverage(p)))
    return faces


# -- text ----------------------------------------------------------------------------------------------------------
_FORMAT = re.compile(r"%(\d+\$)?[-+ #0]*\d*(\.\d+)?l{0,2}[sdiufgxXc%]|\{\w*\}|%\w")


def _clean(s: str, rng: random.Random) -> list[str]:
    s = s.split("\x04")[-1]  # msgctxt
    s = s.replace("_", "", 1) if rng.random() < 0.9 else s
    s = s.replace("&&", "\0").replace("&", "").replace("\0", "&")
    s = re.sub(r"<[^>]{1,40}>", "", s)
    s = _FORMAT.sub(lambda m: rng.choice(["file.txt", "3", "42", "Documents", "100", "Alice", "2.5"]), s)
    out = []
    for line in s.replace("\t", " ").split("\n"):
        line = " ".join(line.split())
        if line and len(line) <= 200 and all(c in CHARSET_SET for c in line):
            out.append(line)
    return out


def _catalog(path: str) -> list[str]:
    try:
        with open(path, "rb") as f:
            cat = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    except Exception:
        return []
    out = []
    for k, v in cat.items():
        if not k:
            continue
        msgid = k[0] if isinstance(k, tuple) else k
        out.append(f"{msgid}\x01{v}")
    return out


def build_corpus(out_dir: Path, seed: int = 0) -> dict[str, list[str]]:
    """UI strings from the installed gettext catalogs, by script group: en, latin, greek, cyrillic."""
    rng = random.Random(seed)
    groups: dict[str, set[str]] = {"en": set(), "latin": set(), "greek": set(), "cyrillic": set()}
    locales = [(loc, "latin") for loc in LATIN_LOCALES] + [(loc, "greek") for loc in GREEK_LOCALES] \
        + [(loc, "cyrillic") for loc in CYRILLIC_LOCALES]
    for loc, group in locales:
        for mo in glob.glob(f"/usr/share/locale/{loc}/LC_MESSAGES/*.mo"):
            domain = os.path.basename(mo)[:-3].lower()
            if any(domain.startswith(h) for h in HELD_OUT_DOMAINS) or domain.startswith(("iso_", "iso-")):
                continue
            for pair in _catalog(mo):
                msgid, msgstr = pair.split("\x01", 1)
                groups["en"].update(_clean(msgid, rng))
                groups[group].update(_clean(msgstr, rng))
    out = {k: sorted(v) for k, v in groups.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    for k, v in out.items():
        (out_dir / f"corpus-{k}.txt").write_text("\n".join(v), encoding="utf-8")
    return out


def load_corpus(out_dir: Path) -> dict[str, list[str]]:
    if not (out_dir / "corpus-en.txt").exists():
        return build_corpus(out_dir)
    return {k: (out_dir / f"corpus-{k}.txt").read_text(encoding="utf-8").split("\n")
            for k in ("en", "latin", "greek", "cyrillic")}


_EXT = ("txt", "pdf", "png", "jpg", "jpeg", "svg", "odt", "ods", "docx", "xlsx", "zip", "tar.gz", "mp3", "mp4",
        "py", "c", "h", "json", "xml", "html", "csv", "md", "log", "conf", "sh", "deb", "iso", "webm", "ogg")
_UNITS = ("B", "bytes", "KB", "kB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "px", "pt", "ms", "s", "min", "Hz", "kHz",
          "dpi", "fps", "%", "°C", "mm", "cm", "in")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_KEYS = ("Ctrl", "Shift", "Alt", "Super", "Meta", "Cmd", "Fn")
_KEYNAMES = tuple(string.ascii_uppercase) + tuple(string.digits) + tuple(f"F{i}" for i in range(1, 13)) + (
    "Tab", "Enter", "Esc", "Del", "Delete", "Home", "End", "PgUp", "PgDown", "Page Up", "Space", "Backspace", "Ins",
    "Up", "Down", "Left", "Right", "+", "-", "=", ",", ".", "/", "[", "]", "`")


class TextSource:
    """Draws a line of text: a catalog string, a generated one, or random characters."""

    def __init__(self, corpus: dict[str, list[str]], rng: random.Random) -> None:
        self.corpus = {k: v for k, v in corpus.items() if v}
        self.rng = rng
        words = [w for s in self.rng.sample(corpus["en"], min(20000, len(corpus["en"]))) for w in s.split()]
        self.words = [w.strip(".,:;()!?\"'") for w in words if w.isalpha() and len(w) < 14] or ["file"]

    def word(self) -> str:
        return self.rng.choice(self.words)

    def catalog(self) -> str:
        r = self.rng.random()
        group = "en" if r < 0.62 else "latin" if r < 0.80 else "cyrillic" if r < 0.92 else "greek"
        s = self.rng.choice(self.corpus[group])
        words = s.split(" ")
        if len(s) > 48:  # a long message: the piece of it a wrapped line would show
            n = self.rng.randint(2, 7)
            i = self.rng.randint(0, max(0, len(words) - n))
            s = " ".join(words[i:i + n])
        return s

    def filename(self) -> str:
        r = self.rng
        stem = r.choice([
            lambda: "_".join(self.word() for _ in range(r.randint(1, 3))),
            lambda: "-".join(self.word().lower() for _ in range(r.randint(1, 3))),
            lambda: (f"IMG_{r.randint(2010, 2026)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
                     f"_{r.randint(0, 235959):06d}"),
            lambda: f"{self.word()} ({r.randint(1, 9)})",
            lambda: f"{self.word()}{r.randint(1, 999)}",
            lambda: f"{self.word()}_v{r.randint(1, 9)}.{r.randint(0, 20)}",
        ])()
        return f"{stem}.{r.choice(_EXT)}" if r.random() < 0.85 else stem

    def path(self) -> str:
        r = self.rng
        parts = [self.word() if r.random() < 0.7 else self.word().lower() for _ in range(r.randint(1, 4))]
        root = r.choice(["/home/user/", "~/", "/usr/share/", "/tmp/", "C:\\Users\\", "/media/", "./", ""])
        sep = "\\" if root.startswith("C:") else "/"
        return root + sep.join(parts) + (sep + self.filename() if r.random() < 0.5 else "")

    def url(self) -> str:
        r = self.rng
        host = r.choice(["www.", "", "docs.", "mail."]) + self.word().lower()
        host += r.choice([".org", ".com", ".net", ".io", ".de"])
        path = "/".join(self.word().lower() for _ in range(r.randint(0, 3)))
        q = f"?id={r.randint(1, 99999)}" if r.random() < 0.2 else ""
        return r.choice(["https://", "http://", ""]) + host + ("/" + path if path else "") + q

    def number(self) -> str:
        r = self.rng
        kind = r.randint(0, 11)
        if kind == 0:
            return f"{r.uniform(0, 999):.{r.randint(0, 2)}f} {r.choice(_UNITS)}"
        if kind == 1:
            return f"{r.randint(0, 100)}%" if r.random() < 0.7 else f"{r.randint(0, 100)} %"
        if kind == 2:
            return f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/{r.randint(1990, 2030)}"
        if kind == 3:
            return (f"{r.randint(1990, 2030)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
                    f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}")
        if kind == 4:
            return f"{r.choice(_MONTHS)[:r.choice([3, 20])]} {r.randint(1, 31)}, {r.randint(1990, 2030)}"
        if kind == 5:
            return f"{r.randint(1, 12)}:{r.randint(0, 59):02d} {r.choice(['AM', 'PM'])}" if r.random() < 0.5 \
                else f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        if kind == 6:
            return f"{r.randint(0, 999999):,}".replace(",", r.choice([",", ".", " "]))
        if kind == 7:
            return r.choice(["€", "$", "£", "¥", ""]) + f"{r.uniform(0, 9999):.2f}" + r.choice(["", " €", " zł", " Kč"])
        if kind == 8:
            return f"v{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}" + r.choice(["", "-rc1", "+dfsg-2"])
        if kind == 9:
            if r.random() < 0.5:
                return f"{r.randint(1, 999)} × {r.randint(1, 999)}"
            return f"{r.randint(1, 4096)}x{r.randint(1, 4096)}"
        if kind == 10:
            if r.random() < 0.5:
                what = r.choice(["Page", "Line", "Ln", "Col", "Row", "Item"])
                return f"{what} {r.randint(1, 999)} of {r.randint(1, 9999)}"
            return f"{r.randint(1, 999)} / {r.randint(1, 999)}"
        return "0x" + "".join(r.choice("0123456789ABCDEF" if r.random() < 0.5 else "0123456789abcdef")
                              for _ in range(r.randint(2, 8)))

    def shortcut(self) -> str:
        r = self.rng
        if r.random() < 0.15:
            return "".join(r.sample("⌘⇧⌥⌃", r.randint(1, 3))) + r.choice(_KEYNAMES[:36])
        mods = r.sample(_KEYS[:4], r.randint(0, 3))
        keys = "+".join([*mods, r.choice(_KEYNAMES)])
        return f"{self.word()}  {keys}" if r.random() < 0.3 else keys

    def symbols(self) -> str:
        r = self.rng
        return r.choice([
            lambda: f"{self.word()} {r.choice('→←▸▾▶►»›…')}",
            lambda: f"{r.choice('✓✔✗✕×•·★☆■□●○◆◇▶▸▾')} {self.catalog()}",
            lambda: f"{self.word()}…",
            lambda: "★" * r.randint(0, 5) + "☆" * r.randint(0, 5),
            lambda: f"© {r.randint(1990, 2026)} {self.word()}{r.choice(['™', '®', ''])}",
            lambda: f"“{self.word()}” – {self.word()}",
            lambda: f"«{self.word()}» — {self.word()}",
            lambda: f"‘{self.word()}’ {r.choice(['≤', '≥', '≠', '±', '≈'])} {r.randint(0, 99)}°",
        ])()

    def random_chars(self) -> str:
        # Rare characters (Latin Extended-A, symbols) get seen uniformly this way.
        r = self.rng
        n = r.randint(1, 14)
        ascii_chars = string.ascii_letters + string.digits + string.punctuation
        pool = CHARSET if r.random() < 0.5 else r.choice([LATIN[95:], GREEK, CYRILLIC, UI_SYMBOLS, ascii_chars])
        s = "".join(r.choice(pool) for _ in range(n))
        if r.random() < 0.5 and n > 4:
            i = r.randint(1, n - 2)
            s = s[:i] + " " + s[i + 1:]
        return s.strip() or "a"

    def line(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            s = self.catalog()
        elif r < 0.62:
            s = self.filename()
        elif r < 0.66:
            s = self.path()
        elif r < 0.69:
            s = self.url()
        elif r < 0.80:
            s = self.number()
        elif r < 0.85:
            s = self.shortcut()
        elif r < 0.90:
            s = self.symbols()
        elif r < 0.95:
            s = self.random_chars()
        else:
            s = " ".join(self.word() for _ in range(self.rng.randint(1, 5)))
        if self.rng.random() < 0.04:
            s = s.upper()
        s = " ".join(s.split())
        return s[:60].strip() or "OK"


# -- drawing -------------------------------------------------------------------------------------------------------
def _luma(c: tuple[int, int, int]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _colours(rng: random.Random) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Background and text colour: light or dark theme, tinted panels, selections, disabled grey."""
    r = rng.random()
    def grey(lo: int, hi: int) -> tuple[int, int, int]:
        v = rng.randint(lo, hi)
        t = rng.randint(-6, 6)
        return (min(255, max(0, v + t)), v, min(255, max(0, v - t)))
    if r < 0.45:  # light theme
        bg, fg = grey(215, 255), grey(0, 70)
    elif r < 0.68:  # dark theme
        bg, fg = grey(18, 70), grey(190, 255)
    elif r < 0.80:  # selection / accent: saturated background, white or black text
        h = [rng.randint(0, 255) for _ in range(3)]
        h[rng.randint(0, 2)] = rng.randint(150, 255)
        bg = (h[0], h[1], h[2])
        fg = (255, 255, 255) if _luma(bg) < 150 else (0, 0, 0)
    elif r < 0.90:  # tinted panel, coloured text
        bg = tuple(rng.randint(150, 255) for _ in range(3))  # type: ignore[assignment]
        fg = tuple(rng.randint(0, 110) for _ in range(3))  # type: ignore[assignment]
    else:  # disabled / greyish: low contrast
        bg = grey(200, 245) if rng.random() < 0.7 else grey(30, 70)
        d = rng.randint(55, 110)
        v = int(_luma(bg)) - d if _luma(bg) > 128 else int(_luma(bg)) + d
        fg = (v, v, v)
    if abs(_luma(bg) - _luma(fg)) < 45:
        fg = (0, 0, 0) if _luma(bg) > 128 else (255, 255, 255)
    return bg, fg


def _background(w: int, h: int, bg: tuple[int, int, int], rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (w, h), bg)
    if rng.random() < 0.15:  # a vertical gradient (header bars, buttons)
        arr = np.asarray(img, dtype=np.float32)
        ramp = np.linspace(-rng.uniform(5, 25), rng.uniform(5, 25), h, dtype=np.float32)[:, None, None]
        img = Image.fromarray(np.clip(arr + ramp, 0, 255).astype(np.uint8))
    return img


def render_line(text: str, face: Face, rng: random.Random, corpus_text: TextSource | None = None) -> np.ndarray:
    """One line crop (RGB uint8), drawn and cut like a detected UI text line."""
    scale = 2 if rng.random() < 0.2 else 1
    size = rng.choice([9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 15, 16, 18, 20, 22, 24]) * scale
    font = ImageFont.truetype(face.path, size)
    bg, fg = _colours(rng)
    asc, desc = font.getmetrics()
    tw = max(1, int(font.getlength(text)) + 2)
    pad_l = int(rng.uniform(0.0, 1.2) * size) + 2
    pad_r = int(rng.uniform(0.0, 1.2) * size) + 2
    line_h = asc + desc
    extra = int(line_h * 0.8) + 4
    W, H = tw + pad_l + pad_r + 2 * size, line_h + 2 * extra
    img = _background(W, H, bg, rng)
    d = ImageDraw.Draw(img)
    if rng.random() < 0.12:
        d.fontmode = "1"  # no antialiasing (bitmap-like rendering)
    x0, y0 = pad_l + size, extra
    if rng.random() < 0.08:  # a selection highlight behind part of the line
        sel = (rng.randint(40, 120), rng.randint(90, 160), rng.randint(180, 255))
        a = rng.randint(0, max(0, tw // 2))
        d.rectangle([x0 + a - 1, y0 - 2, x0 + rng.randint(a + 1, tw + 2), y0 + line_h + 1], fill=sel)
        fg = (255, 255, 255)
    d.text((x0, y0), text, font=font, fill=fg)
    if rng.random() < 0.06 and text.strip():  # mnemonic underline under one letter
        i = rng.randrange(len(text))
        xa = x0 + font.getlength(text[:i])
        xb = x0 + font.getlength(text[:i + 1])
        yb = y0 + asc + max(1, size // 10)
        d.line([xa, yb, xb, yb], fill=fg, width=max(1, size // 12))
    # Clutter around the line: a neighbour line's edge above/below, a border, an icon, a separator.
    if corpus_text is not None and rng.random() < 0.15:
        other = corpus_text.line()
        dy = -line_h - rng.randint(0, 3) if rng.random() < 0.5 else line_h + rng.randint(0, 3)
        d.text((x0 + rng.randint(-20, 20), y0 + dy), other, font=font, fill=fg)
    if rng.random() < 0.12:  # a button or entry outline
        c = tuple(int(v * 0.6 + (128 if _luma(bg) < 128 else 60) * 0.4) for v in bg)
        m = rng.randint(1, max(2, size // 2))
        bx0, bx1 = x0 - pad_l + m - 1, max(x0 - pad_l + m, x0 + tw + pad_r - m)
        d.rectangle([bx0, y0 - m - rng.randint(1, 4), bx1, y0 + line_h + m + rng.randint(0, 4)],
                    outline=c)  # type: ignore[arg-type]
    if rng.random() < 0.08:  # an icon just left of the text
        s = rng.randint(size // 2, size + 2)
        cx = x0 - rng.randint(s + 2, s + size)
        col = tuple(rng.randint(0, 255) for _ in range(3))
        d.rectangle([cx, y0 + (line_h - s) // 2, cx + s, y0 + (line_h + s) // 2], fill=col)  # type: ignore[arg-type]
    if rng.random() < 0.05:  # a separator line right of the text
        sx = x0 + tw + rng.randint(2, max(3, pad_r))
        d.line([sx, 0, sx, H], fill=tuple(int(v * 0.7) for v in bg), width=1)  # type: ignore[arg-type]
    # The crop: the text's ink box with a detector-like margin, off-centre a little.
    box = d.textbbox((x0, y0), text, font=font)
    ink_top = min(box[1], y0 + asc - int(asc * 0.72))
    ink_bot = max(box[3], y0 + asc)
    th = ink_bot - ink_top
    mt = rng.uniform(-0.05, 0.45) * th
    mb = rng.uniform(-0.05, 0.45) * th
    ml = rng.uniform(-0.03, 0.9) * th
    mr = rng.uniform(-0.03, 0.9) * th
    left, right = max(0, int(box[0] - ml)), min(W, int(box[2] + mr + 1))
    top, bot = max(0, int(ink_top - mt)), min(H, int(ink_bot + mb + 1))
    img = img.crop((left, top, max(right, left + 2), max(bot, top + 2)))
    # Light blur or rescaling (scaled desktops, screenshots of screenshots).
    r = rng.random()
    if r < 0.12:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    elif r < 0.30:
        f = rng.uniform(0.6, 1.6)
        w0, h0 = img.size
        resample = rng.choice([Image.BILINEAR, Image.BICUBIC, Image.LANCZOS])
        img = img.resize((max(2, int(w0 * f)), max(2, int(h0 * f))), resample)
    arr = np.asarray(img, dtype=np.uint8)
    if rng.random() < 0.1:
        noise = np.random.default_rng(rng.randint(0, 1 << 30)).integers(-8, 9, arr.shape)
        arr = np.clip(arr.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return arr


class LineSampler:
    """Text and its rendered crop, drawn from a seed; a face is chosen among those that draw every character."""

    def __init__(self, corpus: dict[str, list[str]], faces: list[Face], seed: int) -> None:
        self.rng = random.Random(seed)
        self.text = TextSource(corpus, self.rng)
        self.faces = faces
        self.weights = [f.weight for f in faces]

    def sample(self) -> tuple[str, np.ndarray]:
        for _ in range(20):
            text = self.text.line()
            chars = set(text)
            ok = [i for i, f in enumerate(self.faces) if chars <= f.covers]
            if ok:
                face = self.faces[self.rng.choices(ok, [self.weights[i] for i in ok])[0]]
                try:
                    return text, render_line(text, face, self.rng, self.text)
                except Exception:  # a degenerate draw (a box of negative size, a glyph Pillow refuses): another line
                    continue
        return "OK", render_line("OK", self.faces[0], self.rng)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Write sample lines to a folder to look at.")
    ap.add_argument("--out", type=Path, default=Path("/tmp/text_rec/samples"))
    ap.add_argument("--data", type=Path, default=Path("/tmp/text_rec"))
    ap.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    corpus = load_corpus(args.data)
    print({k: len(v) for k, v in corpus.items()})
    faces = load_faces()
    print(len(faces), "faces")
    s = LineSampler(corpus, faces, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.n):
        t, img = s.sample()
        Image.fromarray(img).save(args.out / f"{i:03d}.png")
        print(i, repr(t))
    (HERE / "charset.txt").write_text(CHARSET, encoding="utf-8")


if __name__ == "__main__":
    main()
