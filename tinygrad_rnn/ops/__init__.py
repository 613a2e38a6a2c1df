"""The primitive ops, one family per file: elementwise (and elementwise2), reduce, movement,
linalg, complex, conv, windows (the convolutions' im2col), ctc, linear_ce, special_ops,
strided, and the fused recurrent ops (fused, with their GPU loops in pointer_steps);
tensor_xp lets a backward formula record ops under ``create_graph=True``."""
