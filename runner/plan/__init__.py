"""Pure planning: desired and observed state in, an ordered ``Plan`` out. No I/O."""
