"""The read path: ranked, token-budgeted recall of a project's memory, cached in Redis.

``hooks`` is the hook's entry (cheap imports, cache first); ``service`` builds blocks and
search results from the database; ``ranking`` is the pure scoring; ``loading`` the queries.
"""
