"""The peer as a Celery user would write it: one task per document, docxtpl, the file saved.
Run by `celery -A tasks worker` inside bench/.peer-venv (not imported by Conveyor)."""

import os

from celery import Celery
from docxtpl import DocxTemplate

app = Celery("peer", broker=os.environ["PEER_BROKER_URL"])
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_ignore_result=True,
                worker_hijack_root_logger=False)


@app.task(name="peer.render")
def render(template_path: str, row: dict, out_path: str) -> None:
    document = DocxTemplate(template_path)
    document.render(row, autoescape=True)
    document.save(out_path)
