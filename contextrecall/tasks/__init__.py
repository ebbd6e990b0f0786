"""Celery tasks: thin shells that load, call plain functions, and store.

Importing this package registers every task on the app (the worker's ``include``).
"""

from contextrecall.tasks import maintenance, save  # noqa: F401
