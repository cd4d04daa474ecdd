"""The scheduler: owns task state; dispatches items in windows, applies results in batches,
enforces timeouts and retries, finalises tasks and cleans up after their retention."""
