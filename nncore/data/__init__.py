"""Bundled data files (see README.md here): mnist.npz, an MNIST subset stored as uint8."""
