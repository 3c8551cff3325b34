"""Running one job execution on a node: the runner and the tasks it starts."""
