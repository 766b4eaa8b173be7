"""building_blocks family: the mathematical components under five empirical seed papers (optimal-transport
pairing, anisotropic RBF decoders, codebook quantisation, charge-neutrality filters, image metrics)."""
