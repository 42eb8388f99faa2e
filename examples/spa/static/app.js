// The page keeps no token: it reads who is logged in from the
// jwt_access_payload cookie (header.payload of the access token), and sends
// the csrftoken cookie back as the X-CSRF-Token header on unsafe requests.
"use strict";

const $ = (id) => document.getElementById(id);

// cookie reads a cookie by its base name: over HTTPS ginjwt names it with
// the __Host- prefix, on plain-http loopback without.
function cookie(name) {
  for (const part of document.cookie.split("; ")) {
    const [k, ...v] = part.split("=");
    if (k === name || k === "__Host-" + name) return decodeURIComponent(v.join("="));
  }
  return "";
}

// claims decodes the payload half of the access token.
function claims() {
  const payload = cookie("jwt_access_payload").split(".")[1];
  if (!payload) return null;
  const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  return JSON.parse(json);
}

function say(text) { $("status").textContent = text; }

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": cookie("csrftoken") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await resp.json(); } catch (_) { /* empty body */ }
  return { status: resp.status, data };
}

function render() {
  const c = claims();
  $("login").hidden = !!c;
  $("session").hidden = !c;
  if (!c) return;
  $("user").textContent = c.username;
  $("expires").textContent = new Date(c.exp * 1000).toLocaleTimeString();
  $("perms").replaceChildren(...(c.perms || []).map((p) => {
    const span = document.createElement("span");
    span.className = "perm";
    span.textContent = p;
    return span;
  }));
  if (!(c.perms || []).length) $("perms").textContent = "none";
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "/auth/token", { username: $("username").value, password: $("password").value });
  say(r.status === 200 ? "logged in" : `login failed: ${r.status} ${r.data.error}`);
  render();
});

$("call").addEventListener("click", async () => {
  const r = await api("POST", "/api/notes", { text: "hello from the page" });
  if (r.status === 200) $("notes").textContent = r.data.count;
  say(`POST /api/notes: ${r.status}${r.data.error ? " " + r.data.error : ""}`);
});

$("refresh").addEventListener("click", async () => {
  const r = await api("POST", "/auth/token/refresh");
  say(`refresh: ${r.status}${r.data.error ? " " + r.data.error : ""}`);
  render();
});

$("logout").addEventListener("click", async () => {
  const r = await api("DELETE", "/auth/token/logout");
  say(`logout: ${r.status}`);
  render();
});

render();
