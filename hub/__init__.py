"""The central hub's HTTP API (FastAPI) over the core services, and the channel simulator (hub/sim)."""
