"""The embedded database: Django's SQLite backend, keeping the query planner's statistics up to date."""
