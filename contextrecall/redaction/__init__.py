"""Secret redaction before anything leaves the hook: ``rules`` says what a secret is,
``engine`` finds and replaces them."""

from contextrecall.redaction.engine import map_strings, redact, redact_counts

__all__ = ["map_strings", "redact", "redact_counts"]
