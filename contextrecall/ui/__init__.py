"""The memory browser (`recall ui`)."""
