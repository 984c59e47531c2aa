"""The interfaces: the application object every caller goes through (``application.MatchGraph``),
the ``matchgraph`` command line (``cli``, ``neo4j_cli``), and the HTTP API with its pages
(``app``, ``routes/``, ``templates/``, ``static/``, problem details, metrics, the answer cache,
the server protocol with its deadlines)."""
