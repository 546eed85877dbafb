// The console's live parts: server-sent events from /atendimento/eventos update the list of
// conversations and the open conversation without a reload. Plain JavaScript, no build step.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";

  function text(tag, value, className) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  function hhmm(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleString("pt-BR", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  function updateList(c) {
    const table = document.getElementById("conversas");
    if (!table) return;
    const filter = table.dataset.estado;
    const key = c.canal + ":" + c.chat;
    let row = table.querySelector('tr[data-chave="' + CSS.escape(key) + '"]');
    if (filter && c.estado !== filter) {
      if (row) row.remove();
      return;
    }
    if (table.dataset.q && !row) return; // a search shows only what it found
    if (!row) {
      row = document.createElement("tr");
      row.dataset.chave = key;
      const link = document.createElement("a");
      link.href = "/atendimento/conversas/" + encodeURIComponent(c.canal) + "/" + encodeURIComponent(c.chat);
      const who = document.createElement("td");
      who.appendChild(link);
      row.append(text("td", c.canal), who, text("td", "", "ultima"), text("td", "", "quando"),
        text("td", "", "estado"), text("td", "", "fraude"));
    }
    row.querySelector("a").textContent = (c.beneficiario || "não vinculado") + (c.carteirinha ? " · " + c.carteirinha : "");
    row.querySelector(".ultima").textContent = c.ultima || "";
    row.querySelector(".quando").textContent = hhmm(c.ultima_em);
    row.querySelector(".estado").textContent = c.estado + (c.agente ? " (" + c.agente + ")" : "");
    row.querySelector(".fraude").textContent = c.fraude ? "⚠ fraude" : "";
    row.className = "estado-" + c.estado.replace(/ /g, "-");
    table.tBodies[0].prepend(row);
    const empty = document.querySelector(".vazio");
    if (empty) empty.remove();
  }

  function updateConversation(kind, data) {
    const box = document.getElementById("conversa");
    if (!box || box.dataset.chave !== data.canal + ":" + data.chat) return;
    if (kind === "mensagem") {
      const li = text("li", " " + data.texto, data.direcao);
      li.prepend(text("time", hhmm(data.em)));
      document.getElementById("mensagens").appendChild(li);
      li.scrollIntoView({ block: "end" });
    } else {
      const state = document.getElementById("estado");
      const shown = data.estado + (data.agente ? " (" + data.agente + ")" : "");
      if (state.textContent !== shown) {
        const wasAgent = state.textContent.startsWith("em atendimento");
        state.textContent = shown;
        // The buttons depend on who holds the chat: reload when that changes.
        if (wasAgent !== (data.estado === "em atendimento")) window.location.reload();
      }
    }
  }

  if (document.getElementById("conversas") || document.getElementById("conversa")) {
    const source = new EventSource("/atendimento/eventos");
    source.addEventListener("conversa", (e) => {
      const data = JSON.parse(e.data);
      updateList(data);
      updateConversation("conversa", data);
    });
    source.addEventListener("mensagem", (e) => updateConversation("mensagem", JSON.parse(e.data)));
  }

  const send = document.getElementById("enviar");
  if (send) {
    send.addEventListener("submit", async (e) => {
      e.preventDefault();
      const field = document.getElementById("mensagem");
      const body = new URLSearchParams({ mensagem: field.value, csrf: csrf });
      const answer = await fetch(send.action, {
        method: "POST", body: body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
      });
      if (answer.ok) field.value = "";
      else window.location.reload();
    });
  }
})();
