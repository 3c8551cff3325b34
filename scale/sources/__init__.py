"""Source files: the files Strike ingested, their reads and downloads."""
