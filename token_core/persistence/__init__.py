"""Durable state: the Tortoise ORM models, connections, migrations and hand-written SQL. The only
place in the core that imports Tortoise.
"""
