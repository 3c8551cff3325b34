"""Nodes, the scheduler's settings row and the system status numbers."""
