"""Stored results sent to experiment trackers (MLflow), read only from the store."""
