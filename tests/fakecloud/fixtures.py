"""pytest fixtures for the emulated Microsoft cloud (filled in by the fakecloud work)."""
