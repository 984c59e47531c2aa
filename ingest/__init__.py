"""Reading catalogs and search logs, validating them, and turning them into graph deltas."""
