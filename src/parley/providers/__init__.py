"""The outside world: SMS providers behind one small interface, and email."""
