"""Approvers now live in `desktop_agent.agent.approval`; this module keeps the old import path working."""

from desktop_agent.agent.approval import (
    ACTION_KINDS,
    ApprovalGate,
    ApprovalPolicy,
    Approver,
    AutoApprover,
    Decision,
    PolicyApprover,
    PreviewApprover,
    TerminalApprover,
    action_kind,
)

__all__ = ["ACTION_KINDS", "ApprovalGate", "ApprovalPolicy", "Approver", "AutoApprover", "Decision", "PolicyApprover",
           "PreviewApprover", "TerminalApprover", "action_kind"]
