"""Fast DOCX rendering (part-level, docxtpl-equivalent) and ZIPs from compressed entries."""
