"""The registry: people, businesses and their records (the system of record for the engine's facts)."""
