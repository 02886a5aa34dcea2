"""Data readers, the task registry and the batch collator."""
