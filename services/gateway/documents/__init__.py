"""Seed 000: batch document generation — templates, data sources, tasks, ZIP download."""

from services.gateway.documents.routes_tasks import BatchTaskController
from services.gateway.documents.routes_uploads import DataSourceController, TemplateController

DOCUMENT_HANDLERS = [BatchTaskController, TemplateController, DataSourceController]
