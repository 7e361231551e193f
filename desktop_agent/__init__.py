"""desktop-agent: a local-first computer-use agent for the desktop."""

__version__ = "0.1.0"
