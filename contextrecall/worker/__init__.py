"""The Celery application, its configuration and its signals."""
