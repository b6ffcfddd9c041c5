"""The SQLite session store: an event journal of engine inputs, snapshots, derived views."""
