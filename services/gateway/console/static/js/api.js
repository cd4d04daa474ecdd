// The console's only way to the data: the public REST API with a bearer token. The token lives
// in sessionStorage (gone when the tab closes), is sent only in the Authorization header, and
// never appears in a URL.
const TOKEN_KEY = "conveyor.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// Every API family words errors its own way; the shared envelope has `error.message`, seed 003
// and 004 may answer `detail` or `message`.
function errorMessage(status, body) {
  if (body && typeof body === "object") {
    const error = body.error && typeof body.error === "object" ? body.error : null;
    const text = (error && error.message) || body.message || body.detail;
    // Details add what the message does not say already (a message that names the missing
    // columns stands alone; one that repeats its detail is said once).
    const details = error && Array.isArray(error.details) ? error.details : [];
    const named = (d) => String(d.field || "").startsWith("data[")
      && String(text).includes(String(d.field).split(".").pop());
    const fields = details.filter((d) => d && !String(text).includes(String(d.message)) && !named(d))
      .map((d) => (d.field ? `${d.field}: ${d.message}` : String(d.message))).join("; ");
    if (text) return fields ? `${text} (${fields})` : String(text);
  }
  return `HTTP ${status}`;
}

export async function api(method, path, { json, form, query } = {}) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const response = await fetch(url, { method, headers, body });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent("conveyor:unauthorized"));
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
  return data;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, json) => api("POST", path, { json: json ?? {} });
export const del = (path) => api("DELETE", path);
export const upload = (path, form) => api("POST", path, { form });

// A download the API answers with a redirect to a short-lived presigned URL: fetched with the
// token (the browser drops it on the redirect to storage), then handed to the user as a file.
export async function fetchBlob(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, errorMessage(response.status, body), body);
  }
  return response.blob();
}

export async function download(path, filename) {
  const blob = await fetchBlob(path);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob.size;
}
