"""The primitive ops, one family per file: elementwise, reduce, movement, linalg."""
