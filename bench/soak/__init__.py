"""The chaos soak: mixed load from three tenants while faults overlap, then a completion
verifier (in the spirit of Temporal's omes and Jepsen's checkers).

    python -m bench soak [--minutes 15] [--faults kill,broker,postgres,s3,freeze]

It starts a cluster of its own: a three-node RabbitMQ cluster (scripts/rabbitmq_nodes.py), a
PostgreSQL cluster of its own (postgres.py: restarting it reaches nobody else), moto's S3
server as a process (so it can be paused), two schedulers, two echo workers, docrender,
slides, the ingester, the registry and a gateway.

- load.py: three tenants submit echo tasks, DOCX and PDF batches, slide batches and knowledge
  base syncs all the while, with pauses, resumes, cancels and retry-failed mixed in;
- faults.py: every 20-60 s a fault, at times overlapping the previous one;
- recorder.py: an AMQP consumer records every task event the cluster publishes;
- verify.py: at the end, the checks; report.py prints the table.
"""
