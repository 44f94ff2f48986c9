"""The operator's side of the queue, shared by the admin API and the `shopqueue` CLI.

Each function runs in the caller's transaction (a `Tx`), reuses `shared.queue` and `shared.shop`,
and returns camelCase views, so the API and the CLI's `--json` speak the same JSON.
"""
