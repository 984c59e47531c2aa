"""The query engine, written once over the store's reads: the sub-score registry and scoring runs
(``subscores``, ``scoring``, ``rating``, ``graphrank``, ``stats``), the answers (``engine``: show,
compare, alternatives, search, top, history, neighbourhoods, paths, runs; ``search``, ``walk``),
their shapes (``models``), the comparison page's rules and markdown (``verdict``, ``page``), and
the Neo4j Browser guide and style (``browser/``)."""
