"""The Qt app (the only package that imports PySide6): tray or fallback window, command bar, timeline,
approval panel and overlay, settings. It adapts the headless core to windows and signals."""
