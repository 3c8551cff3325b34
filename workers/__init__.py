"""The Celery app (`workers.app.make_celery`) and its system tasks (`workers.tasks`)."""
