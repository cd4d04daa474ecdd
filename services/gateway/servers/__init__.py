"""Seed 004: servers, batches of a workflow over folders on a chosen server, and the files
those batches read and write."""

from services.gateway.servers.routes_batch import BatchController
from services.gateway.servers.routes_files import FileController
from services.gateway.servers.routes_servers import ServerController

SERVER_HANDLERS = [ServerController, BatchController, FileController]
