"""Where the icon-meaning model's training pairs come from: icons with the names people give them.

Two kinds of source, both read from packages installed by `build.sh` (nothing is downloaded at run time):

* **Desktop icon themes** (Debian packages under /usr/share/icons): file names follow the freedesktop Icon
  Naming Specification (`document-open`, `go-jump`, `zoom-fit-best`), and a theme's symbolic links give
  the other names of the same drawing (`fileopen`, `stock_open`). These are the icons GTK and Qt toolbars
  really draw, in colour, at 16-32 px.
* **Web icon sets** (npm packages in models/icons/node_modules): file names plus the search tags their
  authors publish (Tabler's `tags`, Material Design Icons' `aliases`, Font Awesome's search terms,
  Phosphor's `tags`, Octicons' `keywords`).

A *concept* is one normalised name ("document open"); every icon drawn under that name in any source is an
image of it, and every name, alias and tag given to those icons is a text for it.
"""

from __future__ import annotations

import configparser
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ICON_ROOT = Path("/usr/share/icons")
NPM_ROOT = Path(__file__).resolve().parents[1] / "icons" / "node_modules"

# Debian package, license, theme folders. Copyleft themes are training inputs only: no file of theirs ships.
THEMES: dict[str, tuple[str, str]] = {
    "Adwaita": ("adwaita-icon-theme", "LGPL-3 or CC-BY-SA-3.0"),
    "breeze": ("breeze-icon-theme", "LGPL-3+"),
    "Papirus": ("papirus-icon-theme", "GPL-3"),
    "Tango": ("tango-icon-theme", "public domain"),
    "elementary-xfce": ("elementary-xfce-icon-theme", "GPL-2+"),
    "oxygen": ("oxygen-icon-theme", "LGPL-3"),
    "mate": ("mate-icon-theme", "LGPL-3+ / CC-BY-SA-3.0"),
    "Numix": ("numix-icon-theme", "GPL-3+"),
    "Moka": ("moka-icon-theme", "GPL-3+ / CC-BY-SA-4.0"),
    "Faba": ("moka-icon-theme", "GPL-3+ / CC-BY-SA-4.0"),
    "Yaru": ("yaru-theme-icon", "CC-BY-SA-4.0 / GPL-3"),
    "gnome": ("gnome-icon-theme", "LGPL-3 / CC-BY-SA-3.0"),
    "nuoveXT2": ("lxde-icon-theme", "LGPL-3"),
    "Faenza": ("faenza-icon-theme", "GPL-3"),
}
# Contexts a window's controls draw from (application logos and animations are left out).
CONTEXTS = {"actions", "places", "status", "devices", "emblems", "categories", "mimetypes", "emotes"}
SIZES = (16, 22, 24, 32)
MAX_MIMETYPES = 120  # per theme: file-type icons are many and rare on toolbars

NPM_SETS: dict[str, tuple[str, str]] = {  # set -> (svg folder, license)
    "tabler": ("@tabler/icons/icons/outline", "MIT"),
    "tabler-filled": ("@tabler/icons/icons/filled", "MIT"),
    "mdi": ("@mdi/svg/svg", "Apache-2.0"),
    "fontawesome-solid": ("@fortawesome/fontawesome-free/svgs/solid", "CC-BY-4.0"),
    "fontawesome-regular": ("@fortawesome/fontawesome-free/svgs/regular", "CC-BY-4.0"),
    "phosphor": ("@phosphor-icons/core/assets/regular", "MIT"),
    "octicons": ("@primer/octicons/build/svg", "MIT"),
    "lucide": ("lucide-static/icons", "ISC"),
    "bootstrap": ("bootstrap-icons/icons", "MIT"),
    "heroicons": ("heroicons/24/outline", "MIT"),
    "material": ("@material-design-icons/svg/outlined", "Apache-2.0"),
    "codicons": ("@vscode/codicons/src/icons", "CC-BY-4.0"),
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOISE = {"symbolic", "rtl", "ltr", "outline", "outlined", "filled", "fill", "solid", "regular", "bold",
          "16", "24", "12", "32", "48", "alt", "stock", "gtk", "gnome", "kde", "xfce"}


def words(name: str) -> list[str]:
    """A file or icon name as lower-case words: `document-open-symbolic` -> [document, open]."""
    name = _CAMEL.sub(" ", name)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", name.lower()) if w and w not in _NOISE]


def concept_key(name: str) -> str:
    return " ".join(words(name))


@dataclass
class Concept:
    key: str
    texts: set[str] = field(default_factory=set)  # names, aliases and tags, as words
    images: list[tuple[str, Path, int]] = field(default_factory=list)  # (source, file, size to draw)


def _theme_dirs(theme: Path) -> list[tuple[Path, str, int, str]]:
    """(folder, context, nominal size, type) of a theme's index.theme, for the contexts and sizes used."""
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        cp.read(theme / "index.theme", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    out = []
    for sec in cp.sections():
        if sec == "Icon Theme" or not (theme / sec).is_dir():
            continue
        ctx = cp[sec].get("Context", "").lower()
        ctx = {"mimetypes": "mimetypes", "filesystems": "places", "stock": "actions"}.get(ctx, ctx)
        if ctx not in CONTEXTS:
            continue
        size = int(cp[sec].get("Size", "0") or 0)
        scale = int(cp[sec].get("Scale", "1") or 1)
        kind = cp[sec].get("Type", "Threshold")
        if scale != 1:
            continue
        if kind == "Scalable" or size in SIZES or (kind != "Fixed" and 12 <= size <= 48):
            out.append((theme / sec, ctx, size, kind))
    return out


def theme_concepts(themes: list[str] | None = None, root: Path = ICON_ROOT) -> dict[str, dict[str, Concept]]:
    """Per theme: concept key -> Concept (images of that theme only), aliases from symbolic links."""
    out: dict[str, dict[str, Concept]] = {}
    for name in themes or list(THEMES):
        theme = root / name
        if not (theme / "index.theme").exists():
            continue
        concepts: dict[str, Concept] = {}
        by_target: dict[Path, set[str]] = defaultdict(set)
        mimes = 0
        for folder, ctx, size, kind in _theme_dirs(theme):
            for f in sorted(folder.iterdir()):
                if f.suffix not in (".png", ".svg"):
                    continue
                target = f.resolve()
                by_target[target].add(f.stem)
                if f.is_symlink():
                    continue
                key = concept_key(f.stem)
                if not key:
                    continue
                if ctx == "mimetypes" and key not in concepts:
                    mimes += 1
                    if mimes > MAX_MIMETYPES:
                        continue
                c = concepts.setdefault(key, Concept(key))
                c.texts.add(key)
                draw = size if kind == "Fixed" and size in SIZES else 0  # 0: any size
                c.images.append((name, f, draw))
        for target, names in by_target.items():
            key = concept_key(target.stem)
            if key in concepts:
                for alias in names:
                    if alias != target.stem and re.fullmatch(r"[a-z][a-z0-9_-]*", alias):
                        concepts[key].texts.add(concept_key(alias))
        out[name] = concepts
    return out


def _npm_tags(root: Path) -> dict[str, dict[str, list[str]]]:
    """Per set: icon name -> the search words its authors give it."""
    tags: dict[str, dict[str, list[str]]] = defaultdict(dict)
    p = root / "@tabler/icons/icons.json"
    if p.exists():
        for n, meta in json.loads(p.read_text()).items():
            for s in ("tabler", "tabler-filled"):
                tags[s][n] = [str(t) for t in meta.get("tags", [])] + [str(meta.get("category", ""))]
    p = root / "@mdi/svg/meta.json"
    if p.exists():
        for meta in json.loads(p.read_text()):
            tags["mdi"][meta["name"]] = [str(a) for a in meta.get("aliases", [])]
    p = root / "@fortawesome/fontawesome-free/metadata/icons.yml"
    if p.exists():
        import yaml

        for n, meta in (yaml.safe_load(p.read_text()) or {}).items():
            terms = [str(t) for t in ((meta.get("search") or {}).get("terms") or [])] + [str(meta.get("label", ""))]
            for s in ("fontawesome-solid", "fontawesome-regular"):
                tags[s][str(n)] = terms
    p = root / "@phosphor-icons/core/dist/index.mjs"
    if p.exists():
        for m in re.finditer(r'name:\s*"([^"]+)"[^}]*?tags:\s*\[([^\]]*)\]', p.read_text()):
            tags["phosphor"][m.group(1)] = re.findall(r'"([^"]+)"', m.group(2))
    p = root / "@primer/octicons/build/data.json"
    if p.exists():
        for n, meta in json.loads(p.read_text()).items():
            tags["octicons"][n] = [str(k) for k in meta.get("keywords", [])]
    return tags


def npm_concepts(root: Path = NPM_ROOT) -> dict[str, dict[str, Concept]]:
    """Per web icon set: concept key -> Concept, texts = name + published tags."""
    tags = _npm_tags(root)
    out: dict[str, dict[str, Concept]] = {}
    for set_name, (folder, _lic) in NPM_SETS.items():
        d = root / folder
        if not d.is_dir():
            continue
        concepts: dict[str, Concept] = {}
        for f in sorted(d.glob("*.svg")):
            stem = f.stem
            base = re.sub(r"-(16|24|12)$", "", stem)
            key = concept_key(base)
            if not key:
                continue
            c = concepts.setdefault(key, Concept(key))
            c.texts.add(key)
            for t in tags.get(set_name, {}).get(base, []):
                tk = concept_key(t)
                if tk and len(tk) <= 40:
                    c.texts.add(tk)
            c.images.append((set_name, f, 0))
        out[set_name] = concepts
    return out


def merged(per_source: dict[str, dict[str, Concept]]) -> dict[str, Concept]:
    """All sources' concepts joined by key: images and texts pooled."""
    out: dict[str, Concept] = {}
    for concepts in per_source.values():
        for key, c in concepts.items():
            m = out.setdefault(key, Concept(key))
            m.texts |= c.texts
            m.images += c.images
    return out


if __name__ == "__main__":
    t = theme_concepts()
    n = npm_concepts()
    for s, cs in {**t, **n}.items():
        print(f"{s:22s} {len(cs):6d} concepts {sum(len(c.images) for c in cs.values()):7d} files")
    allc = merged({**t, **n})
    print(len(allc), "concepts in all;", sum(len(c.texts) for c in allc.values()), "texts")
    for k in ("document open", "folder new", "go up", "zoom fit best", "edit find replace", "trash"):
        if k in allc:
            print(k, "->", sorted(allc[k].texts)[:12], len(allc[k].images))
