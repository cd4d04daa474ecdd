"""Downloads are redirects to presigned URLs; a redirect to an object that no longer exists
would hand the client a link that fails at S3 with an XML error. The object is checked first
(one HEAD request) and a gone one answers 410 with the route's own code. The URL serves the
file as an attachment of a sanitized name and with its type only when that type is safe
(libs/downloads.py)."""

from litestar.response import Redirect

from libs.storage import Storage
from services.gateway.errors import ApiError


async def redirect_to_stored(storage: Storage, key: str, *, gone_code: str, gone_message: str,
                             filename: str | None = None) -> Redirect:
    url = await storage.download_url(key, filename=filename)
    if url is None:
        raise ApiError(410, gone_code, gone_message)
    return Redirect(url, status_code=302)
