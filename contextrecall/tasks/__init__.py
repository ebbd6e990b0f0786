"""Celery tasks: thin shells that load, call plain functions, and store."""
