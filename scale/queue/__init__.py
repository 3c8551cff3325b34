"""The queue and every job/execution state change.

`transitions` holds the state changes the scheduler, the runner and the recipes call (all of
them lock rows and guard on status); `service` holds what the API asks for: queue a new job,
requeue or cancel jobs by filter, queue status, and the job and execution reads."""
