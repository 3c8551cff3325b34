"""Products (files made by jobs), their provenance, and what jobs learn by parsing their inputs."""
