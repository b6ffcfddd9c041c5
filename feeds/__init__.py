"""Market-data adapters: live exchange websockets and offline feeds, all producing core events."""
