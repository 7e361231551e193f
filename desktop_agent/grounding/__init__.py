"""Grounding: from an instruction to pixels, through the parsed elements."""

from desktop_agent.grounding.instruction import Instruction, normalize, parse_instruction
from desktop_agent.grounding.locate import LocateResult, locate_target, rank_targets

__all__ = ["Instruction", "LocateResult", "locate_target", "normalize", "parse_instruction", "rank_targets"]
