"""Renderers turn a slide into an image: `local` (Pillow) and `image_api` (an OpenAI-compatible
image-generation API). Both implement `base.Renderer`."""
