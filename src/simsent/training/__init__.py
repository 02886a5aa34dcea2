"""Training: arguments, the loop, and the pieces pretraining reuses (seed, schedule, checkpoint, curves, card)."""
