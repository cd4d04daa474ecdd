"""The Celery peer of the documents benchmark. These modules run in bench/.peer-venv (Celery
never enters Conveyor's lock files); `bench/documents.py` creates that venv and drives them."""
