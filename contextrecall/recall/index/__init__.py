"""The recall index: per project, what ranking needs, kept by the worker in step with the
database and read by the hook on the standard library (in Redis beside a cache, else in a local
SQLite file). It counts only while stamped with the project's current generation; otherwise
reads go to the database.

``format`` encodes records, postings and order keys; ``store`` says what the index holds and
opens it where it lives, ``redis_store`` or ``file_store``; ``reader`` answers the hook and
``recall search`` from it; ``keeper`` (the worker's) takes in each save and rebuilds a missing
or stale index.
"""
