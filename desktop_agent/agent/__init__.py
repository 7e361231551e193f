"""The agent loop and the values it hands to front ends (CLI, Qt app)."""

from desktop_agent.agent.approval import ApprovalGate, Approver, Decision
from desktop_agent.agent.events import AgentEvent, EventKind
from desktop_agent.agent.loop import Agent
from desktop_agent.agent.proposal import (
    PARTIAL_EXIT,
    AgentSettings,
    Located,
    RunOutcome,
    StepProposal,
)

__all__ = ["PARTIAL_EXIT", "Agent", "AgentEvent", "AgentSettings", "ApprovalGate", "Approver", "Decision", "EventKind",
           "Located", "RunOutcome", "StepProposal"]
