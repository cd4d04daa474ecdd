"""Pure Pillow drawing of slide images. Everything here is CPU-bound and runs in the slides
service's process pool (and in the benchmark's single-process baseline), never on an event loop."""
