// My account: who the server says I am, and a password change.
//
// A password change bumps the account's token version, which ends every session of it —
// this browser's too (web_sessions compares the version). That is kept on purpose (whoever
// knew the old password is out everywhere), so the page says so and leads to sign-in; the
// bearer token the API answers with is dropped, the browser keeps no tokens.
import { api, request } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { facts } from "../admin.js";
import { busy, describeError, formatTime, guarded, notify } from "../ui.js";

async function loadMe() {
  const el = $("#me");
  try {
    const me = await api.get("/api/v1/auth/me");
    replace(el, facts([
      ["Name", h("strong", { text: me.name })],
      ["Role", me.role ?? "—"],
      ["Signed in as", me.kind.replace("_", " ")],
      ["May", me.permissions.map((p) => p.replaceAll("_", " ")).join(", ")],
      ["Account created", formatTime(me.user?.created_at)],
      ["Last sign-in", formatTime(me.user?.last_login_at)],
    ]));
  } catch (err) {
    replace(el, h("p", { class: "alert error", role: "alert", text: describeError(err) }));
  } finally {
    busy(el, false);
  }
}

const form = $("#password-form");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const data = new FormData(form);
    if (data.get("new_password") !== data.get("new_password_again")) {
      notify("The new passwords differ: type the same one twice.", "error");
      $("#new-password-again").focus();
      return;
    }
    // A wrong current password is a 401 too: shown here rather than taken for an ended session.
    await request("/api/v1/auth/password", {
      method: "POST",
      json: { current_password: data.get("current_password"), new_password: data.get("new_password") },
      signInOn401: false,
    });
    form.reset();
    for (const stale of $$("#notices .notice.error")) stale.remove(); // an earlier wrong try
    show(form, false);
    show($("#password-changed"));
    $("#sign-in-again").focus();
  }, $("#change-password"))();
});

loadMe();
