"""Embedding providers behind one interface, and the batcher that feeds them."""
