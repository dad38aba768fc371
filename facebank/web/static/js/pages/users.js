// Users: create one with a role, change a role, disable or enable an account. The server
// refuses what must not happen (e.g. demoting or disabling the last admin); the refusal
// shows as a notice and the list is reloaded to show what is true.
import { api } from "../api.js";
import { $, h, replace } from "../dom.js";
import { badge, emptyRow, renderPager, row } from "../admin.js";
import { busy, confirmAction, formatTime, guarded, notify, showError } from "../ui.js";

const ROLES = ["viewer", "operator", "admin"];
const LABELS = ["User", "Role", "Status", "Last sign-in", "Created", "Actions"];
const PAGE_SIZE = 25;
let currentPage = 1;
// The signed-in admin, as the top bar names them: their own row says so.
const myName = document.querySelector(".who .user")?.textContent.trim();

async function load(page = currentPage) {
  const body = $("#user-rows");
  busy(body);
  try {
    const result = await api.get("/api/v1/users", { page, page_size: PAGE_SIZE });
    currentPage = result.page;
    replace(body, result.items.length ? result.items.map(userRow) : emptyRow(6, "No users."));
    renderPager($("#users-pager"), result, (n) => load(n).catch(showError));
  } finally {
    busy(body, false);
  }
}

// A role is picked, then saved: arrow keys on a select fire "change" at every step, so
// saving on change would apply each role passed on the way.
function roleControl(user) {
  const id = `role-${user.id}`;
  const select = h("select", { id, name: "role" },
    ROLES.map((role) => h("option", { value: role, text: role, selected: role === user.role })));
  const save = h("button", {
    type: "button", class: "secondary", text: "Save", disabled: true, "aria-label": `Save role of ${user.username}`,
  });
  select.addEventListener("change", () => { save.disabled = select.value === user.role; });
  save.addEventListener("click", guarded(async () => {
    try {
      await api.patch(`/api/v1/users/${user.id}`, { role: select.value });
      notify(`${user.username} is now ${select.value}.`, "ok");
    } finally {
      await load();
    }
  }, save));
  return [h("label", { for: id, class: "sr-only", text: `Role of ${user.username}` }), select, save];
}

function activationButton(user) {
  const disabling = user.is_active;
  const button = h("button", {
    type: "button", class: disabling ? "danger" : "secondary",
    text: disabling ? "Disable" : "Enable", "aria-label": `${disabling ? "Disable" : "Enable"} ${user.username}`,
  });
  button.addEventListener("click", guarded(async () => {
    const who = user.username === myName ? "yourself? You are" : `${user.username}? They are`;
    if (disabling && !(await confirmAction(
      `Disable ${who} signed out everywhere and cannot sign in until enabled again.`, "Disable"))) return;
    try {
      await api.patch(`/api/v1/users/${user.id}`, { is_active: !disabling });
      notify(`${user.username} is ${disabling ? "disabled" : "enabled"}.`, "ok");
    } finally {
      await load();
    }
  }, button));
  return button;
}

function userRow(user) {
  const tr = row([
    [h("strong", { text: user.username }), user.username === myName ? h("span", { class: "muted", text: " (you)" }) : null],
    h("span", { class: "row-actions" }, roleControl(user)),
    user.is_active ? badge("active", "ok") : badge("disabled", "bad"),
    formatTime(user.last_login_at),
    formatTime(user.created_at),
    h("span", { class: "row-actions" }, activationButton(user)),
  ], LABELS);
  tr.dataset.username = user.username;
  if (!user.is_active) tr.classList.add("inactive");
  return tr;
}

const form = $("#new-user");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const data = new FormData(form);
    const user = await api.post("/api/v1/users", {
      username: data.get("username"), password: data.get("password"), role: data.get("role"),
    });
    form.reset();
    notify(`Created ${user.username} (${user.role}).`, "ok");
    await load();
  }, $("#create-user"))();
});

load().catch(showError);
