# The matchgraph image: the CLI, the API server and the nightly job share it.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY ingest ./ingest
COPY queries ./queries
COPY api ./api
COPY ops ./ops
RUN pip install --no-cache-dir .
ENV MATCHGRAPH_HOME=/var/lib/matchgraph
ENTRYPOINT ["matchgraph"]
CMD ["--help"]
