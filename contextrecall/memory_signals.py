"""What the write side tells the read side: memory was saved or removed.

The save task and cleanup send these; the recall index's keeper
(``contextrecall.recall.index.keeper``) listens, so the write side never imports the read side.
"""

from __future__ import annotations

from celery.utils.dispatch import Signal

# Sent by the save task once a save has committed and bumped its project's generation, with
# ``identity``, ``ids`` (the memories it wrote, {table name: ids}, and ``REMOVED``: ids) and
# ``generation``.
memory_saved = Signal(name="memory_saved", providing_args={"identity", "ids", "generation"})
# The key of ``ids`` under which a save lists the snippets it removed (partial exchanges it
# completed): the index stops finding them.
REMOVED = "removed"
# Sent after cleanup removed memory in any project.
memory_changed = Signal(name="memory_changed")
