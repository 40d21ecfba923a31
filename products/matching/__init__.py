"""The match score: weights, the Python score, its SQL twin, the stored match rows, explanations."""
