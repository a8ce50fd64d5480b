"""Training and evaluation data: MNIST (verified, restricted unpickling) and rendered symbols."""
