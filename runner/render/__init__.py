"""Human and JSON renderings of plans, progress and results."""
