"""Models to the reference's JSON shapes, one module per concept. Times are ISO-8601 UTC `Z`."""
