"""The task model shared by every kind of batch: tasks with items, stages and usage.

The scheduler owns these tables; the gateway creates tasks and records user commands through
`store`, workers claim items through `claims`. All their SQL lives in this package."""
