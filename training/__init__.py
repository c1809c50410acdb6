"""riskwarn.training."""
