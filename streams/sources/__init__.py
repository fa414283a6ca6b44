"""l1emu package."""
