"""Operations: running the pieces matchgraph needs on a developer's or CI machine.

Kept apart from ``graph/`` (the data model and the stores) because starting a JVM, writing its
config and managing its pid is about the machine, not about the graph. ``ops`` may import
``graph``; ``graph`` never imports ``ops``.
"""
