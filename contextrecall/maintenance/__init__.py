"""Beat jobs that keep memory fresh: relevance decay, the retention policy, their run records.

``relevance`` is the pure decay formula; ``decay`` and ``cleanup`` apply it and the retention
policy to the database in short set-based batches; ``runs`` records and claims each run.
"""
