"""riskwarn.serving."""
