"""`RunOptions` to an agent: the one way the CLI and the app put together the screen, the approver and the
agent, so each capability (scaling, masking, the approval policy, the planner's options) is in both."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from desktop_agent.agent import Agent, AgentEvent, AgentSettings
from desktop_agent.agent.approval import Approver, AutoApprover, PolicyApprover, PreviewApprover, TerminalApprover
from desktop_agent.capture.masked import ExcludedRegions, MaskedScreen
from desktop_agent.capture.screen import Screen
from desktop_agent.capture.sway_windows import SwayWindows
from desktop_agent.config import RunOptions
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.execution.tooltips import TooltipClearer
from desktop_agent.perception.accessibility.source import AccessibilitySource
from desktop_agent.perception.accessibility.x_windows import StackingOrder
from desktop_agent.runs.store import RunStore

if TYPE_CHECKING:
    from desktop_agent.capture.session import Session


def run_screen(options: RunOptions, screen: Screen | None = None, excluded: ExcludedRegions | None = None,
               session: Session | None = None) -> Screen:
    """The screen a run captures: the display's (laid out by `options.monitors`; `session`, when the caller
    has detected it already), shown at `options.emulate_scale` when set, with the `excluded` regions (the
    app's own windows) masked out."""
    if screen is None:
        from desktop_agent.capture.session import default_screen

        screen = default_screen(options.monitors, session=session)
    if options.emulate_scale:
        from desktop_agent.capture.scaled import ScaledScreen

        screen = ScaledScreen(screen, options.emulate_scale)
    if excluded is not None:
        screen = MaskedScreen(screen, excluded)
    return screen


def run_approver(options: RunOptions, person: Approver | None = None) -> Approver:
    """Who approves the steps: nobody for --dry-run (all skipped), everyone for `auto` (the approval floor
    only for the person's own script), else the approval policy and then `person` (the terminal's)."""
    if options.dry_run:
        return PreviewApprover()
    if options.approve == "auto":
        return AutoApprover(allow_risky=options.planner == "direct")
    person = person if person is not None else TerminalApprover()
    policy = options.approval_policy()
    return PolicyApprover(person, policy) if policy.auto else person


def approve_mode(options: RunOptions) -> str:
    """The approval mode the run records: a dry run is `ask` (each step is shown and skipped)."""
    return "ask" if options.dry_run else options.approve


def accessibility_source(options: RunOptions) -> AccessibilitySource | None:
    """The accessibility tree to fuse with the pixels, or None (off, or pixels only where there is none)."""
    if not options.accessibility:
        return None
    from desktop_agent.perception.accessibility.source import default_source

    return default_source()


def pointer_rest(driver: InputDriver) -> TooltipClearer | None:
    """Moves the pointer off a tooltip it raised before the screen is read again: on X11 (the pyautogui
    driver), where tooltip windows can be told apart; None elsewhere."""
    from desktop_agent.execution.input_driver import PyAutoGuiDriver

    return TooltipClearer(driver) if isinstance(driver, PyAutoGuiDriver) else None


def window_stack(driver: InputDriver) -> StackingOrder | SwayWindows | None:
    """The display's windows, asked at each look to tell which one has the focus: on X11 (the pyautogui
    driver), from the window manager's `_NET_ACTIVE_WINDOW`; on sway, from its IPC; None elsewhere (then
    rivals count on the whole screen, as they always did)."""
    from desktop_agent.execution.input_driver import PyAutoGuiDriver

    if isinstance(driver, PyAutoGuiDriver):
        return StackingOrder()
    if os.environ.get("SWAYSOCK") and _is_wlroots(driver):
        return SwayWindows()
    return None


def _is_wlroots(driver: InputDriver) -> bool:
    try:
        from desktop_agent.execution.wayland_input import WlrootsDriver
    except ImportError:  # no pywayland: no wlroots driver either
        return False
    return isinstance(driver, WlrootsDriver)


@dataclass
class AssembledRun:
    """An agent ready to run, with the approval mode to run it in; `close` releases its accessibility reader
    and the X connections it kept."""

    agent: Agent
    approve_mode: str
    accessibility: AccessibilitySource | None = None
    tooltips: TooltipClearer | None = None
    windows: StackingOrder | SwayWindows | None = None

    def close(self) -> None:
        """Release what the assembly opened (not the screen, driver or store, which the caller owns)."""
        if self.accessibility is not None:
            self.accessibility.close()
        if self.tooltips is not None:
            self.tooltips.close()
        if self.windows is not None:
            self.windows.close()


def assemble_run(options: RunOptions, *, screen: Screen, parser: Any, driver: InputDriver, store: RunStore,
                 person: Approver | None = None, settings: AgentSettings | None = None,
                 on_event: Callable[[AgentEvent], None] | None = None,
                 accessibility: AccessibilitySource | None = None) -> AssembledRun:
    """The agent for one run of `options`: `person` answers what the approval policy leaves (default: the
    terminal); `accessibility` defaults to the platform's tree when `options.accessibility`."""
    approver = run_approver(options, person)
    if accessibility is None:
        accessibility = accessibility_source(options)
    agent_settings = replace(settings or AgentSettings(), max_steps=options.max_steps)
    tooltips = pointer_rest(driver)
    windows = window_stack(driver)
    agent = Agent(screen, parser, driver, store, approver, agent_settings, on_event=on_event,
                  accessibility=accessibility, pointer_rest=tooltips, windows=windows)
    return AssembledRun(agent, approve_mode(options), accessibility, tooltips, windows)
