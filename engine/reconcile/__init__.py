"""GitOps reconciliation: workspaces kept in step with git, on workers coordinated by PostgreSQL.

    config.py      labform.reconcile.yaml as pydantic models; errors at file:line:col; its JSON Schema
    credentials.py a workspace's env: plain values, and secrets from files and programs (masked)
    policy.py      named CEL rules over the Terraform-shaped plan JSON (also ``plan -policy FILE``)
    gitsync.py     a workspace's repository fetched and checked out into the cache (the ``git`` CLI)
    records.py     reconciliations in PostgreSQL, beside the state (one row each; schedule and backoff)
    sealing.py     a reconciliation's payload columns sealed (the reconciliations encryption target)
    rekey.py       ``reconcile rekey``: every finished row sealed with the current key, in one transaction
    reconciler.py  one reconcile of one workspace, in-process: fetch, plan, policy, apply, record
    report.py      the Markdown drift report of one reconciliation
    queue.py       the job queue (procrastinate): ticker, sweeper, per-workspace lock, the worker
    server.py      ``reconcile serve``: the push webhook (HMAC), /healthz, /metrics

The queue design is written down in docs/reconcile.md.
"""
