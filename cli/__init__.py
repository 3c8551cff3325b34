"""The `scale` command: a thin shell that reads settings once and calls the domain."""
