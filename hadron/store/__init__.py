"""Recording, replay and persistence."""
