// The console's live parts: server-sent events from /atendimento/eventos update the list of
// conversations and the open conversation without a reload. Plain JavaScript, no build step.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";
  const list = document.getElementById("conversas");
  const box = document.getElementById("conversa");
  let leaving = false; // a form is being submitted: the page is about to change anyway

  document.addEventListener("submit", function (e) {
    if (!e.defaultPrevented && e.target.id !== "enviar") leaving = true;
  });

  function text(tag, value, className) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  function when(iso) { // Brasília time, as the server renders it
    if (!iso) return "";
    return new Date(iso).toLocaleString("pt-BR", {
      timeZone: "America/Sao_Paulo", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit",
    }).replace(",", "");
  }

  function stateText(c) {
    return c.estado + (c.agente ? " (" + c.agente + ")" : "");
  }

  function live(on, message) {
    const badge = document.getElementById("ao-vivo");
    document.body.dataset.aoVivo = on ? "sim" : "nao";
    if (badge) {
      badge.textContent = message;
      badge.classList.toggle("desligado", !on);
    }
  }

  // — the list ——————————————————————————————————————————————————————————————————————————
  function updateList(c) {
    const key = c.canal + ":" + c.chat;
    let row = list.querySelector('tr[data-chave="' + CSS.escape(key) + '"]');
    if (list.dataset.estado && c.estado !== list.dataset.estado) {
      if (row) row.remove();
      return;
    }
    if (list.dataset.q && !row) return; // a search shows only what it found
    const isNew = !row;
    if (isNew) {
      row = document.createElement("tr");
      row.dataset.chave = key;
      const link = document.createElement("a");
      link.href = "/atendimento/conversas/" + encodeURIComponent(c.canal) + "/" + encodeURIComponent(c.chat);
      const who = text("td", "", "quem");
      who.appendChild(link);
      row.append(text("td", "", "canal"), who, text("td", "", "ultima"), text("td", "", "quando"),
        text("td", "", "estado"), text("td", "", "fraude"));
    }
    const moved = isNew || row.dataset.em !== (c.ultima_em || "");
    row.dataset.em = c.ultima_em || "";
    row.querySelector(".canal").textContent = c.canal_nome || c.canal;
    row.querySelector("a").textContent = (c.beneficiario || "não vinculado") + (c.carteirinha ? " · " + c.carteirinha : "");
    row.querySelector(".ultima").textContent = c.ultima || "";
    row.querySelector(".quando").textContent = c.quando || "";
    row.querySelector(".estado").textContent = stateText(c);
    row.querySelector(".fraude").textContent = c.fraude ? "⚠ fraude" : "";
    row.className = "estado-" + c.estado.replace(/ /g, "-");
    if (moved) list.tBodies[0].prepend(row); // newest message first, as the server orders it
    const empty = document.querySelector(".vazio");
    if (empty) empty.hidden = true;
  }

  // — one conversation ——————————————————————————————————————————————————————————————————
  function turnOf(c) {
    if (c.estado !== "em atendimento") return "livre";
    return c.agente === box.dataset.eu ? "minha" : "outro";
  }

  function updateConversation(c) {
    document.getElementById("estado").textContent = stateText(c);
    document.getElementById("fraude").hidden = !c.fraude;
    // Who may write changed (taken, handed back, expired): the buttons come from the server.
    if (turnOf(c) !== box.dataset.vez && !leaving) window.location.reload();
  }

  function addLine(m) {
    const lines = document.getElementById("mensagens");
    if (lines.querySelector('li[data-id="' + CSS.escape(String(m.id)) + '"]')) return;
    const li = text("li", " " + m.texto, m.direcao);
    li.dataset.id = m.id;
    li.prepend(text("time", when(m.em)));
    lines.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  // — the stream ————————————————————————————————————————————————————————————————————————
  function connect() {
    let url = "/atendimento/eventos";
    if (box) {
      url += "?conversa=" + encodeURIComponent(box.dataset.canal + ":" + box.dataset.chat) +
        "&desde=" + encodeURIComponent(box.dataset.ultimo || "0");
    }
    const source = new EventSource(url);
    let dropped = false;
    source.addEventListener("open", function () {
      if (dropped && list && !leaving) {
        window.location.reload(); // the list may have missed changes while away
        return;
      }
      live(true, "ao vivo");
    });
    source.addEventListener("error", function () {
      dropped = true;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (session over, server error): the page itself says what to do next.
        live(false, "desconectado — recarregando…");
        window.setTimeout(function () { window.location.reload(); }, 3000);
      } else {
        live(false, "reconectando…");
      }
    });
    source.addEventListener("sessao", function () {
      source.close();
      window.location.assign("/atendimento/entrar");
    });
    source.addEventListener("conversa", function (e) {
      const c = JSON.parse(e.data);
      if (list) updateList(c);
      if (box && c.canal === box.dataset.canal && c.chat === box.dataset.chat) updateConversation(c);
    });
    source.addEventListener("mensagem", function (e) {
      if (box) addLine(JSON.parse(e.data));
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  if (list || box) connect();
  const last = document.querySelector("#mensagens li:last-child");
  if (last) last.scrollIntoView({ block: "end" });

  // — Enviar without leaving the page ———————————————————————————————————————————————————
  const send = document.getElementById("enviar");
  if (send) {
    send.addEventListener("submit", async function (e) {
      e.preventDefault();
      const field = document.getElementById("mensagem");
      const problem = document.getElementById("envio-erro");
      const button = send.querySelector("button");
      button.disabled = true;
      try {
        const answer = await fetch(send.action, {
          method: "POST",
          body: new URLSearchParams({ mensagem: field.value, csrf: csrf }),
          headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
          credentials: "same-origin",
        });
        if (answer.status === 401) {
          window.location.assign("/atendimento/entrar");
          return;
        }
        const body = await answer.json().catch(function () { return {}; });
        problem.hidden = answer.ok;
        if (answer.ok) {
          field.value = "";
        } else {
          problem.textContent = body.mensagem || "Não foi possível enviar. Recarregue a página.";
        }
      } catch (err) {
        problem.hidden = false;
        problem.textContent = "Sem conexão com o servidor. Tente de novo.";
      } finally {
        button.disabled = false;
        field.focus();
      }
    });
  }
})();
