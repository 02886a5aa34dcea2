"""Evaluators: STS (Spearman/Pearson), geometry (alignment/uniformity), retrieval."""
