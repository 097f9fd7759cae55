"""Research outputs: figures (``figures``), the README's generated results (``readme``)
and the one provenance record every results folder carries (``provenance``)."""
