"""The dialogue's test cases, written once and run on every chat channel (Telegram and WhatsApp,
through their protocol peers): each is a short script of what the person does and what the bot's
answer must hold. A channel's driver turns "say", "press" and the answers into its own platform's
messages; the words differ only where the platform's rules differ, so the checks use what both
channels say alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tests.conftest import World
from tests.support import refs
from tests.support.waiting import wait_until


@dataclass(frozen=True)
class Seen:
    """A bot message as the person sees it: the text, the buttons' labels, a code it carries."""

    text: str
    buttons: tuple[str, ...] = ()
    code: str | None = None


@dataclass(frozen=True)
class Say:
    text: str  # may hold {cpf}, {other_cpf}, {guide1}, {guide2}


@dataclass(frozen=True)
class Press:
    label: str  # a button whose label holds this


@dataclass(frozen=True)
class Expect:
    contains: tuple[str, ...] = ()  # each in some answer; may hold {canal} and the above
    button: str | None = None  # some answer has a button whose label holds this
    code: bool = False  # some answer carries a code


@dataclass(frozen=True)
class Conversation:
    name: str
    steps: tuple[tuple[Say | Press, Expect], ...]
    guides: int = 1
    linked: bool = True  # linked by CPF before the steps


class ChatDriver(Protocol):
    channel_name: str  # as the bot names it: "Telegram", "WhatsApp"
    mobile: str  # the person's number, national form

    async def start_linking(self) -> None:
        """Get to where the bot asks for the CPF (the channel's own way to prove the number)."""

    async def say(self, text: str) -> None: ...

    async def press(self, label: str) -> None: ...

    def seen(self) -> list[Seen]: ...


CONVERSATIONS = (
    Conversation(
        "linking by CPF",
        linked=False,
        steps=((Say("{cpf}"), Expect(("Pronto, Beneficiária", "Seu {canal} está vinculado"))),),
    ),
    Conversation(
        "an unknown CPF",
        linked=False,
        steps=((Say("{other_cpf}"), Expect(("Não consegui confirmar seus dados",))),),
    ),
    Conversation(
        "a CPF with wrong check digits",
        linked=False,
        steps=((Say("123.456.789-00"), Expect(("Esse CPF não parece válido",))),),
    ),
    Conversation("help", steps=((Say("ajuda"), Expect(("Posso ajudar com", "Minhas guias"))),)),
    Conversation(
        "anything else gets the help", steps=((Say("bom dia"), Expect(("Posso ajudar com",))),)
    ),
    Conversation("my guides", steps=((Say("Minhas guias"), Expect(("{guide1}", "Dra. Teste"))),)),
    Conversation("no guides", guides=0, steps=((Say("minhas guias"), Expect(("não tem guias",))),)),
    Conversation("a code for the one guide", steps=((Say("Gerar token"), Expect(code=True)),)),
    Conversation(
        "a code for the guide chosen among two",
        guides=2,
        steps=(
            (Say("gerar token"), Expect(("2 guias aguardando token",), button="{guide2}")),
            (Press("{guide2}"), Expect(code=True)),
        ),
    ),
    Conversation(
        "não reconheço stops the code",
        steps=(
            (Say("Gerar token"), Expect(code=True, button="Não reconheço")),
            (Press("Não reconheço"), Expect(("Obrigado por avisar",))),
        ),
    ),
    Conversation(
        "a person asks for an attendant",
        steps=((Say("Atendente"), Expect(("Um atendente vai continuar",))),),
    ),
    Conversation(
        "a CPF typed after linking is not kept",
        steps=((Say("{cpf}"), Expect(("a mensagem com o seu CPF",))),),
    ),
    Conversation("unlinking", steps=((Say("Desvincular"), Expect(("desvinculei este",))),)),
)


@dataclass
class Script:
    values: dict[str, str] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        return text.format(**self.values)


async def run(conversation: Conversation, driver: ChatDriver, world: World) -> None:
    """Set up the person and guides, link if asked, then play each step and check its answer."""
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile=driver.mobile)
    guides = [await world.guide(ben) for _ in range(conversation.guides)]
    script = Script({"cpf": cpf, "other_cpf": refs.cpf(), "canal": driver.channel_name})
    script.values |= {f"guide{i}": g.numero for i, g in enumerate(guides, 1)}
    await driver.start_linking()
    if conversation.linked:
        await _step(driver, script, Say("{cpf}"), Expect(("Pronto,",)))
    for action, expect in conversation.steps:
        await _step(driver, script, action, expect)


async def _step(driver: ChatDriver, script: Script, action: Say | Press, expect: Expect) -> None:
    mark = len(driver.seen())
    if isinstance(action, Say):
        await driver.say(script.fill(action.text))
    else:
        await driver.press(script.fill(action.label))

    def met() -> bool:
        answers = driver.seen()[mark:]
        texts = "\n".join(a.text for a in answers)
        labels = [label for a in answers for label in a.buttons]
        return (
            all(script.fill(part) in texts for part in expect.contains)
            and (expect.button is None or any(script.fill(expect.button) in b for b in labels))
            and (not expect.code or any(a.code for a in answers))
        )

    try:
        await wait_until(met, within=5)
    except TimeoutError:
        raise AssertionError(
            f"{driver.channel_name}: after {action} expected {expect}, got {driver.seen()[mark:]}"
        ) from None
