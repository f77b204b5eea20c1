"""Stage 1: the AR ledger contract, its validation, and the demo-ledger generator."""
