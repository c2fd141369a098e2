"""The tamper-evident audit log: every check of every file received, hash-chained.

``chain`` hashes and verifies entries; ``logfiles`` owns the JSONL copy under ``$JOYFLOW_HOME/audit``;
``sync`` keeps that copy in step with the warehouse's ``validation_issue`` table (the master);
``verify`` and ``export`` are what auditors run.
"""
