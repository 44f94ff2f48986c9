"""The worker process: claims jobs from the queue and runs their handlers."""
