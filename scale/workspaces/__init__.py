"""Workspaces at run time: where files are stored, reached through each workspace's broker."""
