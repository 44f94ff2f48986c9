"""Code common to the API, the worker and the migrations: config, database, queue core, shop domain."""
