"""The query engine: sub-scores and the composite rank, and compare / alternatives / search / top / show."""
