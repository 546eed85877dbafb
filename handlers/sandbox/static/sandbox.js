// Sandbox do chat: escolhe um beneficiário de demonstração e conversa com o bot.
// Sem framework: a conversa chega por server-sent events (/sandbox/api/eventos) e o que a
// pessoa escreve vai por POST (/sandbox/api/mensagens).
"use strict";

const $ = (id) => document.getElementById(id);
const escolha = $("beneficiario");
const conversa = $("conversa");
const atalhos = $("atalhos");
const form = $("form-mensagem");
const campo = $("mensagem");
const enviar = $("enviar");
const estado = $("estado");

let fonte = null;
let atual = null; // {carteirinha, sessao, nome}
const apagarQuandoChegar = new Set();

function novaSessao() {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sessaoDe(carteirinha) {
  const chave = "sandbox:sessao:" + carteirinha;
  let sessao = sessionStorage.getItem(chave);
  if (!sessao || !/^[0-9a-f]{8}$/.test(sessao)) {
    sessao = novaSessao();
    sessionStorage.setItem(chave, sessao);
  }
  return sessao;
}

function pronto(sim) {
  campo.disabled = !sim;
  enviar.disabled = !sim;
  for (const botao of document.querySelectorAll(".atalhos button, .conversa button")) {
    botao.disabled = !sim;
  }
}

function rolar() {
  conversa.scrollTop = conversa.scrollHeight;
}

function balao(classe, texto) {
  const item = document.createElement("li");
  item.className = "balao " + classe;
  const corpo = document.createElement("div");
  corpo.className = "texto";
  corpo.textContent = texto;
  item.append(corpo);
  conversa.append(item);
  rolar();
  return item;
}

async function mandar(conteudo) {
  if (!atual) return null;
  const resposta = await fetch("/sandbox/api/mensagens", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ beneficiario: atual.carteirinha, sessao: atual.sessao, ...conteudo }),
  });
  const dados = await resposta.json().catch(() => ({}));
  if (!resposta.ok) {
    estado.textContent = dados.mensagem || "Não foi possível enviar. Tente de novo.";
    return null;
  }
  return dados.id || null;
}

async function escrever(texto) {
  const meu = balao("eu", texto);
  const id = await mandar({ texto });
  if (id === null) return;
  meu.dataset.id = id;
  if (apagarQuandoChegar.delete(id)) meu.remove();
}

function botaoDoBot(b) {
  const botao = document.createElement("button");
  botao.type = "button";
  botao.textContent = b.rotulo;
  if (b.copiar) {
    botao.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(b.copiar);
        estado.textContent = "Código copiado.";
      } catch {
        estado.textContent = "Não foi possível copiar: selecione o código no texto.";
      }
    });
  } else {
    botao.addEventListener("click", () => mandar({ botao: b.dados }));
  }
  return botao;
}

function mostrarMenu(menu) {
  atalhos.replaceChildren();
  for (const rotulo of menu) {
    const botao = document.createElement("button");
    botao.type = "button";
    botao.textContent = rotulo;
    botao.addEventListener("click", () => escrever(rotulo));
    atalhos.append(botao);
  }
}

function mensagemDoBot(m) {
  const item = balao("bot", m.texto);
  const botoes = document.createElement("div");
  botoes.className = "botoes";
  for (const linha of m.botoes || []) {
    for (const b of linha) botoes.append(botaoDoBot(b));
  }
  if (m.contato) {
    const contato = document.createElement("button");
    contato.type = "button";
    contato.textContent = m.contato;
    contato.addEventListener("click", async () => {
      balao("eu", "📱 Contato compartilhado");
      await mandar({ contato: true });
    });
    botoes.append(contato);
  }
  if (botoes.childElementCount) item.append(botoes);
  if (m.menu && m.menu.length) mostrarMenu(m.menu);
  else if (m.tirar_menu) atalhos.replaceChildren();
  if (m.expira_em) {
    const falta = Date.parse(m.expira_em) - Date.now();
    setTimeout(() => {
      const aviso = document.createElement("div");
      aviso.className = "expirado";
      aviso.textContent = "Este código expirou. Toque em “Gerar token” para pedir outro.";
      item.replaceChildren(aviso);
    }, Math.max(falta, 0));
  }
}

function ouvir(evento) {
  const m = JSON.parse(evento.data);
  switch (m.tipo) {
    case "historico":
      balao((m.direcao === "in" ? "eu" : "bot") + " antigo", m.texto);
      break;
    case "pronto":
      pronto(true);
      estado.textContent = `Conversando como ${atual.nome}.`;
      break;
    case "mensagem":
      mensagemDoBot(m);
      break;
    case "apagada": {
      const meu = conversa.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
      if (meu) meu.remove();
      else apagarQuandoChegar.add(m.id);
      break;
    }
  }
}

function conectar() {
  if (fonte) fonte.close();
  conversa.replaceChildren();
  atalhos.replaceChildren();
  pronto(false);
  if (!atual) {
    estado.textContent = "";
    return;
  }
  estado.textContent = "Conectando…";
  const consulta = new URLSearchParams({ beneficiario: atual.carteirinha, sessao: atual.sessao });
  fonte = new EventSource("/sandbox/api/eventos?" + consulta);
  fonte.addEventListener("open", () => {
    conversa.replaceChildren(); // the history comes again with every (re)connection
  });
  fonte.addEventListener("message", ouvir);
  fonte.addEventListener("error", () => {
    pronto(false);
    estado.textContent = "Conexão perdida; tentando de novo…";
  });
}

escolha.addEventListener("change", () => {
  const opcao = escolha.selectedOptions[0];
  atual = escolha.value
    ? { carteirinha: escolha.value, sessao: sessaoDe(escolha.value), nome: opcao.dataset.nome }
    : null;
  if (atual) sessionStorage.setItem("sandbox:escolhido", atual.carteirinha);
  conectar();
});

form.addEventListener("submit", (evento) => {
  evento.preventDefault();
  const texto = campo.value.trim();
  if (!texto || campo.disabled) return;
  campo.value = "";
  escrever(texto);
  campo.focus();
});

async function carregar() {
  const resposta = await fetch("/sandbox/api/beneficiarios");
  const dados = await resposta.json();
  for (const b of dados.beneficiarios) {
    const opcao = document.createElement("option");
    opcao.value = b.carteirinha;
    opcao.dataset.nome = b.nome.split(" ")[0];
    opcao.textContent = `${b.nome} · ${b.carteirinha} · celular ${b.celular}`;
    escolha.append(opcao);
  }
  const antes = sessionStorage.getItem("sandbox:escolhido");
  if (antes && dados.beneficiarios.some((b) => b.carteirinha === antes)) {
    escolha.value = antes;
    escolha.dispatchEvent(new Event("change"));
  }
}

carregar().catch(() => {
  estado.textContent = "Não foi possível carregar os beneficiários. Recarregue a página.";
});
