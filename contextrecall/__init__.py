"""Context Recall: persistent, cross-machine memory for AI coding agents."""

__version__ = "0.1.0"
