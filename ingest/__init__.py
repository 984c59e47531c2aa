"""Getting data in: readers for catalogs and search logs (native formats, OpenSearch UBI and three
public catalogs), validation with rejects, aggregation into graph deltas, the ledger-driven
pipeline, the nightly job, taking a file back (``forget``), the synthetic data generator, and the
shipped samples (``sample_files``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class SampleFiles:
    """The shipped samples (package data built by ``scripts/build_samples.py``)."""

    catalog: Path
    searches: Path
    readme: Path

    @property
    def folder(self) -> Path:
        return self.catalog.parent


def sample_files() -> SampleFiles:
    """Where the installed samples are, so the demo and the tests work from a wheel as from a checkout.

    Read through :mod:`importlib.resources`, which finds package data wherever the package is
    installed; the ingest pipeline needs real files, so a package imported from an archive (where
    the data has no path) is refused with that reason rather than unpacked somewhere.
    """
    folder = resources.files(__name__) / "samples"
    if not isinstance(folder, Path):
        raise RuntimeError(f"the sample files are not on the file system ({folder}); install matchgraph unzipped")
    return SampleFiles(folder / "catalog.jsonl", folder / "searches.synthetic.jsonl.gz", folder / "README.md")
