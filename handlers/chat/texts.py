"""Every text a beneficiary reads in the chat (pt-BR), in one place to review and change."""

from __future__ import annotations

SHARE_CONTACT_BUTTON = "📱 Compartilhar meu contato"
MENU = ("Gerar token", "Minhas guias", "Atendente", "Ajuda")

WELCOME = (
    "Olá! Eu gero o código de segurança (token) para liberar o seu tratamento odontológico.\n"
    "Primeiro, preciso confirmar que é você: toque em “Compartilhar meu contato”."
)
SHARE_OWN_CONTACT = (
    "Por segurança, preciso do seu próprio contato. Toque no botão “Compartilhar meu contato”."
)
NOT_A_MOBILE = "Esse número não é um celular do Brasil. Fale com a operadora para atualizar."
ASK_CPF = (
    "Obrigado! Agora digite o seu CPF (só os números).\n"
    "Vou apagar a mensagem com o CPF logo depois de ler."
)
CPF_INVALID = "Esse CPF não parece válido. Confira os 11 números e envie de novo."
CPF_DELETED = "Por segurança, apaguei a mensagem com o seu CPF."
LINKED = (
    "Pronto, {nome}! Seu {canal} está vinculado. Quando o dentista pedir, toque em “Gerar token”."
)
NO_MATCH = (
    "Não consegui confirmar seus dados. Confira o CPF e use o celular cadastrado na operadora."
)
INACTIVE = (
    "Seu cadastro está inativo. Entre em contato com a operadora: 4007-2400 ou 0800 643 4300."
)
LINK_LOCKED = (
    "Por segurança, o vínculo ficou bloqueado após várias tentativas. Tente de novo após {hora}."
)

TOKEN_CARD = (
    "🔐 Seu código de segurança: {codigo}\n"
    "Vale até {hora} ({minutos} min) e só uma vez.\n"
    "{guia}"
    "Informe este código ao dentista. A operadora nunca pede o código por telefone."
)
TOKEN_GUIDE_LINE = "Guia {numero} de {data} — {dentista} (CRO {cro}){clinica}{procedimentos}\n"
TOKEN_NO_GUIDE_LINE = "Vale para a próxima guia que o dentista lançar para você.\n"
COPY_BUTTON = "Copiar código"
NOT_MINE_BUTTON = "Não reconheço esta guia"
CHOOSE_GUIDE = "Você tem {n} guias aguardando token. Para qual delas é o código?"
FRAUD_THANKS = (
    "Obrigado por avisar. Cancelamos este código e nossa equipe vai analisar.\n"
    "Um atendente vai falar com você aqui em instantes."
)
HANDOFF_BACK = "O atendimento humano terminou. Se precisar, é só escrever: eu continuo por aqui."
HANDOFF_EXPIRED = (
    "Nossa equipe não conseguiu responder agora. Eu continuo por aqui; se preferir, "
    "ligue para o SAB: 4007-2400 (capitais) ou 0800 643 4300 (demais localidades)."
)
NO_GUIDES = "Você não tem guias aguardando token no momento."
GUIDES_HEADER = "Suas guias aguardando token:"
GUIDE_ITEM = "• {numero} — {dentista}, desde {data}"
RECEIPT = "✅ Guia {numero} validada às {hora} com {dentista}. Bom atendimento!"
HUMAN = "Certo! Um atendente vai continuar esta conversa aqui em instantes."
UNLINKED = "Pronto, desvinculei este {canal}. Para usar de novo, compartilhe seu contato."
HELP = (
    "Posso ajudar com:\n"
    "• “Gerar token” — o código para o dentista validar a guia;\n"
    "• “Minhas guias” — as guias aguardando token;\n"
    "• “Atendente” — falar com a nossa equipe;\n"
    "• “Desvincular” — remover este chat do seu cadastro."
)
INACTIVE_LINKED = "Seu cadastro está inativo. Entre em contato com a operadora."
GUIDE_GONE = "Essa guia não está mais aguardando token."
ERROR = "Desculpe, algo deu errado do nosso lado. Tente de novo em instantes."
FLOOD = "Recebi muitas mensagens seguidas. Aguarde a minha resposta, por favor."
BUSY = "Ainda estou cuidando da sua mensagem anterior. Envie de novo em instantes, por favor."

# WhatsApp, where its rules differ: the number is proven by every message (or, for a user who
# hides it, by WhatsApp's own "share contact" button), messages cannot be deleted, and the code
# travels in Meta's authentication template with its own copy button.
WA_UNSUPPORTED = "Por enquanto só entendo mensagens de texto."
WA_ASK_CPF = (
    "Olá! Eu gero o código de segurança (token) para liberar o seu tratamento odontológico.\n"
    "Para confirmar que é você, digite o seu CPF (só os números)."
)
WA_CPF_NOT_DELETED = (
    "Por segurança, apague a mensagem com o seu CPF: toque e segure nela e escolha “Apagar”."
)
WA_SHARE_CONTACT = (
    "Olá! Eu gero o código de segurança (token) para liberar o seu tratamento odontológico.\n"
    "Primeiro, preciso confirmar o seu número: toque no botão abaixo para compartilhá-lo."
)
WA_SHARE_OWN_CONTACT = (
    "Por segurança, preciso do seu próprio número: toque no botão abaixo para compartilhá-lo."
)
WA_UNLINKED = "Pronto, desvinculei este WhatsApp. Para usar de novo, é só me escrever."
WA_MENU_BUTTON = "Opções"
WA_NOT_MINE_BUTTON = "Não reconheço"
