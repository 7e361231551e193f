"""packaging/trim_icu_data.py: Qt's ICU data cut to a few MB, and Qt still collates, maps case and encodes
international domain names with it (the cut library preloaded in place of the wheel's)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e_helpers import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
from trim_icu_data import keep, trim

QT_USES_ICU = """
from PySide6.QtCore import QCollator, QLocale, QUrl
c = QCollator(QLocale("de_DE"))
c.setNumericMode(True)
print(sorted(["file10", "Zebra", "file2", "äpfel", "apfel"], key=c.sortKey))
print(QLocale("tr_TR").toUpper("istanbul"), QUrl("http://bücher.example/").toEncoded().data().decode())
"""


def test_what_stays() -> None:
    assert keep("coll/root.res") and keep("coll/ucadata.icu") and keep("coll/en.res") and keep("zoneinfo64.res")
    assert keep("uts46.nrm") and keep("brkitr/line.brk") and keep("curr/pool.res") and keep("res_index.res")
    assert not keep("coll/de.res") and not keep("coll/de_.res") and not keep("ja_JP.res")
    assert not keep("brkitr/thaidict.dict") and not keep("ibm-1047_P100-1995.cnv") and not keep("translit/el.res")


@pytest.mark.skipif(shutil.which("icupkg") is None, reason="needs icupkg (icu-devtools: setup.sh --test)")
def test_qt_works_on_the_cut_data(tmp_path: Path) -> None:
    import PySide6

    wheel = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    cut = tmp_path / wheel.name
    shutil.copy(wheel, cut)
    before, after = trim(cut)
    assert after < before / 5
    env = dict(os.environ, LD_PRELOAD=str(cut), QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", QT_USES_ICU], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and "Could not create collator" not in r.stderr, r.stderr
    assert r.stdout.splitlines() == ["['apfel', 'äpfel', 'file2', 'file10', 'Zebra']",
                                     "İSTANBUL http://xn--bcher-kva.example/"]
    # Without the cut, the same (what the wheel's full data gives).
    full = subprocess.run([sys.executable, "-c", QT_USES_ICU], capture_output=True, text=True,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=60)
    assert full.stdout == r.stdout
