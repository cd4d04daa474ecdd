"""The generated Kotlin project: templates, rendering, archive and preview."""
