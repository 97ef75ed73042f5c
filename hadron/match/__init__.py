"""Cross-venue market matching: candidates, relations and polarity, and the reviewed pairs file."""
