"""DOCX -> PDF through warm LibreOffice instances."""
