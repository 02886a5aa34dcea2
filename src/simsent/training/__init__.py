"""Training: arguments, the loop, and what pretraining reuses (seed, schedule, checkpoint, curves, card)."""
