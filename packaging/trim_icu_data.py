"""Cut the ICU data library that Qt's wheel ships (libicudata.so.NN, 32 MB) to what Qt can use in this app.

    python packaging/trim_icu_data.py dist/desktop-agent/_internal/PySide6/Qt/lib/libicudata.so.73

QtCore links ICU for collation (QCollator, a file dialog's sorting), case mapping, normalisation, IDNA and
legacy text codecs; its locale data, number and date formats, time zones (from the system's tz files) and
text boundaries are its own. So the library keeps ICU's core tables (properties, normalisation, case,
stringprep, confusables), the root and English resources of every tree, the root collation, the break
rules (not the dictionaries for Thai, Khmer, CJK word breaks), the supplemental, time-zone and metadata
tables, and drops: the other locales (about 880 files in each of eight trees), legacy codepage converters
(.cnv; UTF-8/16/32, ASCII and Latin-1 are built into ICU's code), transliterators and spell-out rules.
A locale without its data falls back to root (for collation: Unicode's default order).

The data is ICU's common package (the library's one symbol, icudtNN_dat): it is read out of the library,
cut with icupkg (Debian's icu-devtools; the package format is the same across ICU versions) and linked into
a library of the same name and symbol. Needs objcopy, icupkg and a C compiler; the input is replaced.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

KEEP_LOCALES = {"root", "en", "en_US", "en_001", "en_GB"}
# Trees of locale resources: only KEEP_LOCALES and each tree's shared files stay.
LOCALE_TREES = {"", "brkitr", "coll", "curr", "lang", "region", "unit", "zone", "rbnf"}
TREE_FILES = {"pool.res", "res_index.res"}
LOCALE_NAME = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]*)*$")


def keep(item: str) -> bool:
    """Whether the package item (e.g. "coll/de.res", "ibm-1047_P100-1995.cnv") stays."""
    tree, _, name = item.rpartition("/")
    stem, _, ext = name.rpartition(".")
    if ext == "cnv" or tree == "translit" or ext == "dict":
        return False
    if tree not in LOCALE_TREES or ext != "res" or name in TREE_FILES:
        return True
    return stem in KEEP_LOCALES or not LOCALE_NAME.match(stem)


def symbol(library: Path) -> tuple[str, int, int]:
    """The data symbol's name, address and size."""
    out = subprocess.run(["nm", "-DS", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and re.fullmatch(r"icudt\d+_dat", parts[3]):
            return parts[3], int(parts[0], 16), int(parts[1], 16)
    raise SystemExit(f"trim_icu_data: no icudtNN_dat symbol in {library}")


def trim(library: Path) -> tuple[int, int]:
    """Replace `library` with one holding the cut data; (bytes before, bytes after)."""
    name, address, size = symbol(library)
    soname = library.name
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rodata = work / "rodata.bin"
        subprocess.run(["objcopy", "-O", "binary", "--only-section=.rodata", str(library), str(rodata)], check=True)
        section = subprocess.run(["readelf", "-SW", str(library)], capture_output=True, text=True, check=True).stdout
        found = re.search(r"\s\.rodata\s+PROGBITS\s+([0-9a-f]+)", section)
        if found is None:
            raise SystemExit(f"trim_icu_data: no .rodata section in {library}")
        start = int(found.group(1), 16)
        data = rodata.read_bytes()[address - start:address - start + size]
        package = work / f"{name[:-4]}l.dat"
        package.write_bytes(data)
        listed = subprocess.run(["icupkg", "-l", str(package)], capture_output=True, text=True, check=True).stdout
        items = [line.strip() for line in listed.splitlines() if line.strip()]
        drop = [item for item in items if not keep(item)]
        (work / "drop.txt").write_text("".join(f"{item}\n" for item in drop))
        cut = work / "cut" / package.name  # icupkg names the package's items after its output file
        cut.parent.mkdir()
        # --ignore-deps: the root break rules name the dropped dictionaries (ICU breaks those scripts' words
        # without them; Qt breaks text with its own tables).
        subprocess.run(["icupkg", "--ignore-deps", "-r", str(work / "drop.txt"), str(package), str(cut)],
                       check=True, capture_output=True)
        (work / "data.S").write_text(
            f'.section .rodata\n.globl {name}\n.type {name}, @object\n.balign 16\n{name}:\n'
            f'.incbin "{cut}"\n.size {name}, . - {name}\n.section .note.GNU-stack,"",@progbits\n')
        out = work / soname
        subprocess.run(["cc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(out), str(work / "data.S")],
                       check=True)
        before = library.stat().st_size
        library.write_bytes(out.read_bytes())
        print(f"trim_icu_data: {library.name}: {len(items) - len(drop)} of {len(items)} items kept, "
              f"{before / 1e6:.1f} MB -> {library.stat().st_size / 1e6:.1f} MB")
        return before, library.stat().st_size


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    trim(Path(sys.argv[1]))
