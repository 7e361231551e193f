"""The agent loop and the values it hands to front ends (CLI, Qt app)."""

from desktop_agent.agent.loop import Agent
from desktop_agent.agent.proposal import (
    PARTIAL_EXIT,
    AgentEvent,
    AgentSettings,
    Located,
    RunOutcome,
    StepProposal,
)

__all__ = ["PARTIAL_EXIT", "Agent", "AgentEvent", "AgentSettings", "Located", "RunOutcome", "StepProposal"]
