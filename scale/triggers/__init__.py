"""Trigger rule evaluation: ingested and parsed source files create jobs and recipes."""
