"""Secret redaction before anything leaves the hook: ``rules`` says what a secret is,
``engine`` finds and replaces them."""

from contextrecall.redaction.engine import redact, redact_counts

__all__ = ["redact", "redact_counts"]
