"""Scale: the domain. Models, specifications and services; no web or task framework."""
