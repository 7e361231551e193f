"""Task files: one TOML file per task in a suite folder. A task says how to set up the desktop (screen,
monitors, scale, fixture files, which real applications to start), the goal in plain words, a reference
script for the direct planner, how to check the outcome where a user would see it, and its limits."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from desktop_agent.errors import AgentError

DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "tasks" / "desktop"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AppSpec(_Spec):
    """A real application to start: its command (`{home}` is the task's home folder), the window title it
    shows when ready (a substring), optionally where to put that window (x,y,width,height), and environment
    variables of its own (`{home}` works in their values too), set over the task's environment."""

    cmd: list[str] = Field(min_length=1)
    window: str
    geometry: tuple[int, int, int, int] | None = None
    env: dict[str, str] = {}


class PdfFixture(_Spec):
    """A one-page PDF showing these lines of text (Helvetica; Latin-1 characters)."""

    kind: Literal["pdf"]
    lines: list[str] = Field(min_length=1)
    title: str | None = None  # the document's Title (what a viewer shows in its title bar)


class ArchiveFixture(_Spec):
    """An archive holding these members (name: UTF-8 text; a name ending in "/" is a folder)."""

    kind: Literal["zip", "tar", "tar.gz"]
    members: dict[str, str] = Field(min_length=1)


class ImageFixture(_Spec):
    """A picture of one colour, optionally with a word drawn on it; the format comes from the kind."""

    kind: Literal["png", "jpeg"]
    size: tuple[int, int] = (320, 240)
    color: str = Field("#4a90d9", pattern=r"^#[0-9a-fA-F]{6}$")
    text: str = ""


Fixture = Annotated[PdfFixture | ArchiveFixture | ImageFixture, Field(discriminator="kind")]


class FileSpec(_Spec):
    """A file or folder the task starts with, in its home."""

    path: str  # relative to the task's home folder
    text: str | None = None  # written as UTF-8; None makes a folder
    lines: int | None = None  # or: that many numbered lines ("line 001", ...)
    image: tuple[int, int] | None = None  # or: a PNG of that size with the file's name drawn on it
    generate: Fixture | None = None  # or: a binary file made by code (a PDF, an archive, an image)

    @model_validator(mode="after")
    def _one_content(self) -> FileSpec:
        given = [k for k in ("text", "lines", "image", "generate") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"{self.path}: give one of text, lines, image, generate (not {' and '.join(given)})")
        return self


class FileCheck(_Spec):
    """The outcome check of a file: it exists, or holds text."""

    kind: Literal["file"]
    path: str
    equals: str | None = None
    contains: list[str] = []
    absent: list[str] = []
    exists: bool = True


class FolderCheck(_Spec):
    """The outcome check of a folder's entries."""

    kind: Literal["folder"]
    path: str
    exists: bool = True


class CellsCheck(_Spec):
    """A spreadsheet file (any format Gnumeric's ssconvert reads): these cells hold these values."""

    kind: Literal["cells"]
    path: str
    equals: dict[str, str]  # "A2": "Apples"


class IniCheck(_Spec):
    """The outcome check of a setting in an ini file."""

    kind: Literal["ini"]
    path: str
    key: str  # "Section/key" as QSettings writes it, or "key" in the General section
    equals: str


class KeyValueCheck(_Spec):
    """A plain `key=value` file without sections (shell-style config, .desktop-less settings): the key's
    value, quotes stripped, equals this; or the key is absent (`exists = false`)."""

    kind: Literal["keyvalue"]
    path: str
    key: str
    equals: str | None = None
    exists: bool = True


class GSettingsCheck(_Spec):
    """A GSettings value, as the task's apps stored it: they run with the keyfile backend, which writes
    `.config/glib-2.0/settings/keyfile` in the task's home. `key` is the schema path and key
    ("org/xfce/mousepad/preferences/view/show-line-numbers"); `equals` is the value in GVariant text
    ("true", "42", "'dark'"; a string may also be given without its quotes)."""

    kind: Literal["gsettings"]
    key: str
    equals: str


class ArchiveCheck(_Spec):
    """A zip or tar (plain, gzip, bzip2, xz) archive: these members are in it (or not), and these members'
    text equals (or contains) this."""

    kind: Literal["archive"]
    path: str
    members: list[str] = []
    absent: list[str] = []
    equals: dict[str, str] = {}  # member: its whole text (a trailing newline aside)
    contains: dict[str, list[str]] = {}  # member: pieces of text it holds


class HashCheck(_Spec):
    """The file's SHA-256 is this (hex); with `equals = false`, the file exists and is no longer this."""

    kind: Literal["hash"]
    path: str
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    equals: bool = True


class ClipboardCheck(_Spec):
    """The outcome check of the clipboard's text."""

    kind: Literal["clipboard"]
    equals: str


class A11yCheck(_Spec):
    """A node of Chromium's accessibility tree, read over the DevTools protocol: the browser was started
    with `--remote-debugging-port=0 --user-data-dir={home}/PROFILE`. The node with this role and name
    exists (or not), and has this value or checked state."""

    kind: Literal["a11y"]
    profile: str = ".chromium"  # the browser's user-data folder, relative to the task's home
    role: str  # as the tree names it: textbox, checkbox, combobox, button, StaticText, ...
    name: str
    value: str | None = None
    checked: bool | None = None
    exists: bool = True


Check = Annotated[FileCheck | FolderCheck | CellsCheck | IniCheck | KeyValueCheck | GSettingsCheck | ArchiveCheck
                  | HashCheck | ClipboardCheck | A11yCheck, Field(discriminator="kind")]


class TaskSpec(_Spec):
    """One task of the suite: its apps, files, reference script, goal and outcome checks."""

    name: str
    goal: str
    script: str  # the reference steps for the direct planner
    apps: list[AppSpec] = []
    files: list[FileSpec] = []
    screen: str = "1280x800"  # the X screen (WIDTHxHEIGHT)
    # Monitors, e.g. "1280x800+1024+0*,1024x768+0+0": real RandR monitors, one output of Xorg's dummy driver
    # each (the screen is then their bounding box)
    monitors: str | None = None
    # The desktop's scale: apps draw at it (GDK_SCALE/GDK_DPI_SCALE, QT_SCALE_FACTOR, Xft.dpi) on an X screen
    # of `screen` times it, so `screen` and app geometries are in unscaled units. 1.25 and 1.5 are fractional.
    scale: float = Field(1.0, ge=1.0, le=3.0)
    # Emulated HiDPI instead (for tests of the coordinate mapping only): apps draw at 1x and only the agent's
    # captures are upscaled by `scale`.
    emulate_scale: bool = False
    max_steps: int = 20
    time_limit: float = 120.0
    tags: list[str] = []
    check: list[Check] = Field(min_length=1)
    path: Path | None = None


def load_task(path: Path) -> TaskSpec:
    """A task file (TOML) as a TaskSpec; AgentError when it cannot be used."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data.setdefault("name", path.stem)
        return TaskSpec.model_validate({**data, "path": path})
    except tomllib.TOMLDecodeError as exc:
        raise AgentError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise AgentError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise AgentError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise AgentError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def load_suite(folder: Path | None = None) -> list[TaskSpec]:
    """Every task of `folder` (default: the suite in the repository), by name."""
    folder = folder or DEFAULT_SUITE
    if not folder.is_dir():
        raise AgentError(f"no task suite at {folder}")
    tasks = [load_task(p) for p in sorted(folder.glob("*.toml"))]
    if not tasks:
        raise AgentError(f"{folder} holds no task files (*.toml)")
    names = [t.name for t in tasks]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise AgentError(f"{folder}: task names used twice: {', '.join(sorted(dupes))}")
    return tasks
