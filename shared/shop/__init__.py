"""The shop: products, orders and the use cases the API and the job handlers share."""
