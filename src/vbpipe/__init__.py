"""vbpipe: train, evaluate and analyse RNNs on linear variable-binding tasks (Episodic Memory Theory)."""

__version__ = "0.1.0"
