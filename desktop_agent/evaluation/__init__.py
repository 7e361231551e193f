"""Evaluation harnesses (grounding on ScreenSpot-format folders)."""
