"""riskwarn.features."""
