"""Execution: input injection behind `InputDriver`, and verification from fresh captures."""

from desktop_agent.execution.input_driver import InputDriver, PyAutoGuiDriver, RecordingDriver
from desktop_agent.execution.verify import Change, visible_change, wait_until_settled

__all__ = ["Change", "InputDriver", "PyAutoGuiDriver", "RecordingDriver", "visible_change",
           "wait_until_settled"]
