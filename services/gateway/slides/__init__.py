"""Seed 001's batch slide API (`/api/slide/batch/...`) over the task engine: a batch is a task
of kind `slides` (its `batch_id` is the task id), a slide is an item."""
