"""Glyph classification: label set, glyph normalisation, the network and the batched predictor."""
