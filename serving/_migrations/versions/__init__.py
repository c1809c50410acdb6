"""The revisions, oldest first: ``0001`` is the schema of every store made before the
store was versioned."""
