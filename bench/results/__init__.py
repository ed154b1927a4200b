"""Results: the store, scoring from saved predictions, cost and MLflow tracking."""
