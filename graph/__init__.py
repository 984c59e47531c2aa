"""The store layer: schema, the GraphStore protocol and its two implementations.

Nothing in here imports the ingest, queries or api packages; only ``graph.neo4j_store`` imports
the Neo4j driver.
"""
