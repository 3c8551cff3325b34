"""Strike: directory watching, ingest of the files found, and the reads of ingests."""
