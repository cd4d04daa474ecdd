"""docrender: renders DOCX templates with rows of data (docxtpl, sandboxed), converts to PDF
through a pool of warm LibreOffice instances, and packages a batch's documents as a ZIP."""
