"""The bundled program's entry point: `desktop-agent` with all its commands (`desktop-agent app` is the
tray app; with no arguments the bundle starts the app, as its launcher does)."""

import sys

from desktop_agent.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["app"]))
