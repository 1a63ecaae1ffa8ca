"""JSON rendering: plans as data, events as one JSON object per line."""
