"""The run record: SQLite plus screenshots, and its HTML report."""

from desktop_agent.runs.store import HOME_ENV, RunRow, RunStore, StepRow, data_home

__all__ = ["HOME_ENV", "RunRow", "RunStore", "StepRow", "data_home"]
