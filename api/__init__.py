"""The HTTP API: a thin Litestar layer over the shop services in `shared`."""
