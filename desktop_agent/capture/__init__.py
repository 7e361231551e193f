"""Screen capture: frames with geometry, behind the `Screen` protocol."""

from desktop_agent.capture.frame import ScreenFrame, frame_from_file, load_image
from desktop_agent.capture.scaled import ScaledScreen
from desktop_agent.capture.screen import MONITORS_ENV, MssScreen, Screen, check_display

__all__ = ["MONITORS_ENV", "MssScreen", "ScaledScreen", "Screen", "ScreenFrame", "check_display",
           "frame_from_file", "load_image"]
