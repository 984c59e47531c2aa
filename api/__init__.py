"""The interfaces: the ``matchgraph`` command line (and, later, the HTTP API)."""
