"""Markdown tutorials as people write them: their console blocks read back into commands with
the output the page shows, the annotations that say what the prose says, and the page rewritten
with what ran (`--update`). Imports nothing of the project but the leaf helpers."""
