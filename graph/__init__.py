"""The data model and the stores: records and tables (``schema``, ``tables``), settings, limits and
errors, the narrow ``GraphStore`` protocol (``store``), the embedded store (``embedded``: polars
tables in Parquet snapshots) and the Neo4j store (``neo4j_store``, its Cypher in ``cypher``).

A store holds and fetches: atomic writes of deltas, reads pinned to one version, a writer lock.
Nothing here ranks, scores or assembles an answer (that is ``queries``). Nothing in here imports
``ingest``, ``queries``, ``api`` or ``ops``; only ``graph.neo4j_store`` imports the Neo4j driver.
"""
