"""The scheduler: matches queued executions to node resources and launches them through a
resource manager (`managers`). `matching` is pure; `loop` is the process around it."""
