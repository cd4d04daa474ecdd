"""Document batches: templates x data rows -> DOCX/PDF documents and their ZIP."""
