// Portal do dentista: consulta a guia, envia o token por um canal e valida o código.
// Fala só com /portal/api (o proxy do servidor assina as chamadas; o navegador não tem segredo).
"use strict";

const FUSO = "America/Sao_Paulo";
const HORA = new Intl.DateTimeFormat("pt-BR", { timeZone: FUSO, hour: "2-digit", minute: "2-digit" });
const DATA = new Intl.DateTimeFormat("pt-BR", {
  timeZone: FUSO, day: "2-digit", month: "2-digit", year: "numeric",
});
const NUMERO_GUIA = /^[A-Za-z0-9._-]{1,30}$/;
const NOME_CANAL = { sms: "SMS", email: "e-mail", telegram: "Telegram", whatsapp: "WhatsApp" };
const CAMPO_ERRO = { celular: "sms-celular", email: "email-endereco", cpf: "email-cpf", token: "token" };
const CAMPO_ERRO_SMS = { ...CAMPO_ERRO, cpf: "sms-cpf" };

const $ = (id) => document.getElementById(id);
const estado = { guia: null, canais: null, canal: null };

const hora = (iso) => HORA.format(new Date(iso));
const dataHora = (iso) => `${DATA.format(new Date(iso))} às ${hora(iso)}`;
const rotuloStatus = (status) => status.replaceAll("_", " ");

async function api(metodo, caminho, corpo) {
  const init = { method: metodo, headers: { Accept: "application/json" } };
  if (corpo !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(corpo);
  }
  try {
    const resposta = await fetch(`/portal/api${caminho}`, init);
    return { ok: resposta.ok, dados: await resposta.json() };
  } catch {
    return { ok: false, dados: { erro: "SEM_CONEXAO", mensagem: "Sem resposta do servidor. Tente novamente." } };
  }
}

// Um botão fica desativado enquanto a chamada dele está em andamento (evita clique duplo).
async function ocupado(botao, tarefa) {
  botao.disabled = true;
  botao.setAttribute("aria-busy", "true");
  try {
    return await tarefa();
  } finally {
    botao.disabled = false;
    botao.removeAttribute("aria-busy");
  }
}

function textoErro(dados) {
  const partes = [dados.mensagem];
  if (dados.tentativas_restantes !== undefined) partes.push(`Tentativas restantes: ${dados.tentativas_restantes}.`);
  if (dados.desbloqueio_em) partes.push(`Bloqueada até ${hora(dados.desbloqueio_em)}.`);
  if (dados.tentar_apos) partes.push(`Tente novamente após ${hora(dados.tentar_apos)}.`);
  return partes.join(" ");
}

function avisar(id, texto) {
  $(id).textContent = texto;
}

function marcarCampo(dados) {
  const id = (estado.canal === "sms" ? CAMPO_ERRO_SMS : CAMPO_ERRO)[dados.campo];
  if (!id) return;
  $(id).setAttribute("aria-invalid", "true");
  $(id).focus();
}

function limparErros() {
  avisar("envio-erro", "");
  document.querySelectorAll("#envio [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

// --- a guia -----------------------------------------------------------------------------

function mostrarGuia(guia) {
  estado.guia = guia;
  $("guia-numero").textContent = guia.numero;
  $("guia-status").textContent = rotuloStatus(guia.status);
  $("guia-status").dataset.status = guia.status;
  $("guia-carteirinha").textContent = guia.carteirinha;
  $("guia-dentista").textContent = guia.dentista.nome;
  $("guia-cro").textContent = guia.dentista.cro;
  $("guia-clinica").textContent = guia.clinica || "—";
  $("guia-criada").textContent = dataHora(guia.criada_em);
  const linhas = guia.procedimentos.map((p) => {
    const tr = document.createElement("tr");
    for (const texto of [p.codigo, p.descricao]) {
      const td = document.createElement("td");
      td.textContent = texto;
      tr.append(td);
    }
    return tr;
  });
  $("guia-procedimentos").replaceChildren(...linhas);
  const validada = guia.status === "VALIDADA";
  $("validacao").hidden = !validada;
  if (validada) {
    $("validacao-codigo").textContent = guia.codigo_validacao;
    $("validacao-hora").textContent = dataHora(guia.validada_em);
  }
  $("validar-guia").hidden = guia.status !== "AGUARDANDO_TOKEN";
  $("guia").hidden = false;
}

async function consultar(evento) {
  evento.preventDefault();
  const campo = $("numero");
  const numero = campo.value.trim();
  if (!NUMERO_GUIA.test(numero)) {
    campo.setAttribute("aria-invalid", "true");
    avisar("aviso", "Informe o número da guia: até 30 letras, números, ponto, hífen ou sublinhado.");
    campo.focus();
    return;
  }
  campo.removeAttribute("aria-invalid");
  avisar("aviso", "Consultando a guia…");
  const { ok, dados } = await ocupado(evento.submitter || campo, () => api("GET", `/guias/${numero}`));
  if (!ok) {
    $("guia").hidden = true;
    avisar("aviso", textoErro(dados));
    return;
  }
  mostrarGuia(dados);
  avisar("aviso", `Guia ${dados.numero} carregada: ${rotuloStatus(dados.status)}.`);
  $("guia-titulo").focus();
}

// --- o pop-up de envio ------------------------------------------------------------------

function abrirPainel(canal) {
  const painel = canal === "telegram" || canal === "whatsapp" ? "chat" : canal;
  document.querySelectorAll("#envio [data-painel]").forEach((secao) => {
    secao.hidden = secao.dataset.painel !== painel;
  });
  document.querySelectorAll("#envio [data-canal]").forEach((botao) => {
    botao.setAttribute("aria-pressed", String(botao.dataset.canal === canal));
  });
  estado.canal = canal;
  limparErros();
  if (painel === "chat") {
    document.querySelectorAll(".chat-nome").forEach((el) => { el.textContent = NOME_CANAL[canal]; });
  }
  if (painel === "sms") {
    const cadastrado = estado.canais && estado.canais.sms;
    $("sms-cadastro").hidden = !cadastrado;
    $("form-sms").hidden = Boolean(cadastrado);
    // Só o primeiro celular precisa do CPF (a prova de que o número é do beneficiário).
    $("sms-cpf-campo").hidden = Boolean(cadastrado);
    $("sms-cpf-ajuda").hidden = Boolean(cadastrado);
    if (cadastrado) $("sms-cadastrado").textContent = cadastrado.destino;
  }
  if (painel === "email") {
    const cadastrado = estado.canais && estado.canais.email;
    $("email-cadastrado").hidden = !cadastrado;
    $("email-cadastrado").textContent = cadastrado
      ? `E-mail cadastrado: ${cadastrado.destino}. Deixe o campo em branco para usar este endereço.` : "";
    $("email-endereco").required = !cadastrado;
  }
  const primeiro = {
    sms: $("sms-cadastro").hidden ? $("sms-ddd") : $("sms-sim"),
    email: $("email-endereco"),
    chat: $("chat-enviar"),
  }[painel];
  (primeiro || $("token")).focus();
}

async function abrirEnvio() {
  const guia = estado.guia;
  const botao = $("validar-guia");
  const { ok, dados } = await ocupado(botao, () => api("GET", `/beneficiarios/${guia.carteirinha}/canais`));
  estado.canais = ok ? dados : null;
  const canais = estado.canais || { sab: { telefones: [] } };
  // Each phone stays on one line ("0800 643 4300" joined by no-break spaces).
  $("sab-telefones").textContent = canais.sab.telefones.map((t) => t.replaceAll(" ", "\u00a0")).join(" ou ");
  document.querySelector('[data-canal="telegram"]').parentElement.hidden = !canais.telegram;
  document.querySelector('[data-canal="whatsapp"]').parentElement.hidden = !canais.whatsapp;
  $("envio-numero").textContent = guia.numero;
  $("form-token").reset();
  avisar("envio-aviso", ok ? "" : textoErro(dados));
  $("envio").showModal();
  const padrao = canais.padrao;
  abrirPainel(padrao && (padrao !== "telegram" || canais.telegram) && (padrao !== "whatsapp" || canais.whatsapp) ? padrao : "sms");
}

function mensagem(texto) {
  $("mensagem-texto").textContent = texto;
  $("mensagem").showModal();
  $("mensagem-ok").focus();
}

async function enviar(botao, pedido) {
  limparErros();
  avisar("envio-aviso", "Enviando o token…");
  const { ok, dados } = await ocupado(botao, () => api("POST", `/guias/${estado.guia.numero}/token`, pedido));
  if (!ok) {
    avisar("envio-aviso", "");
    if (dados.erro === "DADOS_NAO_CONFEREM") {
      mensagem(dados.mensagem);
      return;
    }
    avisar("envio-erro", textoErro(dados));
    marcarCampo(dados);
    return;
  }
  avisar("envio-aviso", `Token enviado por ${NOME_CANAL[dados.canal]} para ${dados.destino}. Válido até ${hora(dados.expira_em)}.`);
  $("token").focus();
}

async function validar(evento) {
  evento.preventDefault();
  limparErros();
  const campo = $("token");
  const token = campo.value.trim();
  if (!token) {
    avisar("envio-erro", "Informe o token que o beneficiário recebeu.");
    marcarCampo({ campo: "token" });
    return;
  }
  const numero = estado.guia.numero;
  const { ok, dados } = await ocupado(evento.submitter || campo, () => api("POST", `/guias/${numero}/validacao`, { token }));
  if (ok || dados.erro === "GUIA_JA_VALIDADA") {
    mostrarGuia({ ...estado.guia, status: "VALIDADA", validada_em: dados.validada_em, codigo_validacao: dados.codigo_validacao });
    $("envio").close();
    avisar("aviso", ok
      ? `Guia ${numero} VALIDADA às ${hora(dados.validada_em)}. Código de validação: ${dados.codigo_validacao}.`
      : textoErro(dados));
    $("validacao-titulo").focus();
    return;
  }
  avisar("envio-erro", textoErro(dados));
  campo.setAttribute("aria-invalid", "true");
  campo.select();
  campo.focus();
}

function ligar() {
  $("form-consulta").addEventListener("submit", consultar);
  $("validar-guia").addEventListener("click", abrirEnvio);
  document.querySelectorAll("#envio [data-canal]").forEach((botao) => {
    botao.addEventListener("click", () => abrirPainel(botao.dataset.canal));
  });
  $("sms-sim").addEventListener("click", (e) => enviar(e.currentTarget, { canal: "sms" }));
  $("sms-outro").addEventListener("click", () => {
    $("sms-cadastro").hidden = true;
    $("form-sms").hidden = false;
    $("sms-ddd").focus();
  });
  $("form-sms").addEventListener("submit", (e) => {
    e.preventDefault();
    const ddd = $("sms-ddd").value.trim();
    const numero = $("sms-celular").value.trim();
    if (!ddd || !numero) {
      limparErros();
      avisar("envio-erro", "Informe o DDD e o número do celular.");
      marcarCampo({ campo: "celular" });
      return;
    }
    const pedido = { canal: "sms", celular: `${ddd} ${numero}` };
    const cpf = $("sms-cpf").value.trim();
    if (!$("sms-cpf-campo").hidden && cpf) pedido.cpf = cpf;
    enviar(e.submitter, pedido);
  });
  $("form-email").addEventListener("submit", (e) => {
    e.preventDefault();
    const pedido = { canal: "email", cpf: $("email-cpf").value.trim() };
    const email = $("email-endereco").value.trim();
    if (email) pedido.email = email;
    enviar(e.submitter, pedido);
  });
  $("chat-enviar").addEventListener("click", (e) => enviar(e.currentTarget, { canal: estado.canal }));
  $("form-token").addEventListener("submit", validar);
  $("envio").addEventListener("close", () => {
    if (!$("validar-guia").hidden) $("validar-guia").focus();
  });
}

ligar();
