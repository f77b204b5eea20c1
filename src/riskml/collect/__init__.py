"""Collections: the collector worklist ranked by money at stake, a channel and a script per persona,
assignment to collectors, escalation, and the paperwork queue for billing and sales (``riskml worklist``,
docs/collections.md).

Pure functions over the ledger as of a date and the scores of ``riskml score``:
:func:`~riskml.collect.amounts.open_items` and :func:`~riskml.collect.amounts.customer_amounts` (what each
customer owes), :func:`~riskml.collect.worklist.build_lines` (ranking, amounts, channel, script, pattern,
escalation), :func:`~riskml.collect.assign.assign_collectors`, :func:`~riskml.collect.paperwork.paperwork_queue`;
:func:`~riskml.collect.run.build_worklist` wires them and :func:`~riskml.collect.run.write_worklist` writes the
files (the HTML pages in :mod:`riskml.collect.html`).
"""

from riskml.collect.run import WorklistResult, build_worklist, write_worklist

__all__ = ["WorklistResult", "build_worklist", "write_worklist"]
