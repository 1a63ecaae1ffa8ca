"""The ARM side of the emulator: request checks, errors and resource groups."""
