"""The JSON documents of the reference, one module each: `parse(doc)` validates a document,
upgrades old versions and returns a frozen value whose `to_dict()` is the normalized document."""
