"""The primitive ops, one family per file: elementwise, reduce, movement, linalg, windows (the
convolutions' im2col), and the fused recurrent ops."""
