"""Planning: the action schema, the Planner protocol and the embedded direct planner."""

from desktop_agent.planning.actions import ACTION_ADAPTER, Action, Target, action_targets
from desktop_agent.planning.planner import (
    DirectPlanner,
    HistoryEntry,
    PlanContext,
    PlannedStep,
    Planner,
    ScriptedPlanner,
)
from desktop_agent.planning.script import parse_script

__all__ = ["ACTION_ADAPTER", "Action", "DirectPlanner", "HistoryEntry", "PlanContext", "PlannedStep",
           "Planner", "ScriptedPlanner", "Target", "action_targets", "parse_script"]
