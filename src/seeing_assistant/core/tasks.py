"""Named task presets: what the app asks the model when the user has not typed a question of their own."""

from __future__ import annotations

from dataclasses import dataclass

from seeing_assistant.core import messages
from seeing_assistant.core.errors import BadInputError


@dataclass(frozen=True)
class Task:
    """A preset: a short name for the command line, a label for menus and the prompt sent to the model."""

    name: str
    label: str
    prompt: str


# Prompts are written for a listener who cannot see the image: plain sentences, text quoted exactly,
# no guessing, and "blank" said plainly (users of other tools were told stories about black screens).
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            name="screen",
            # Translators: a task in the task menu.
            label="Describe the screen",
            prompt=(
                "This is a screenshot of a computer screen, described for a blind user. Say which application "
                "and windows are shown and how they are laid out, what appears to have focus or be selected, "
                "and then quote every legible piece of text exactly as written, in reading order, including "
                "titles, buttons, menus and messages. Do not guess at text you cannot read."
            ),
        ),
        Task(
            name="photo",
            # Translators: a task in the task menu.
            label="Describe a photo or scene",
            prompt=(
                "Describe this image for a blind person: the main subject first, then the setting, people, "
                "objects, colours, and any text exactly as written. Be concrete and do not invent details."
            ),
        ),
        Task(
            name="text",
            # Translators: a task in the task menu.
            label="Read the text",
            prompt=(
                "Read out all the text in this image exactly as written, in reading order, line by line. "
                "Say nothing else. If there is no legible text, say that there is none."
            ),
        ),
        Task(
            name="caption",
            # Translators: a task in the task menu.
            label="One-sentence caption",
            prompt="Describe this image in one short sentence.",
        ),
        Task(
            name="question",
            # Translators: a task in the task menu; the user types their own question.
            label="Ask my own question",
            prompt="What is in this image? Answer briefly.",
        ),
    )
}

DEFAULT_TASK = "photo"
SCREEN_TASK = "screen"
TEXT_TASK = "text"  # answered by the text recogniser, without the model, when no question is typed
READ_TEXT = "read-text"  # not a preset: Read screen text, which reads the text and ignores a typed question


def task_named(name: str) -> Task:
    """Look a preset up by name, with an error that lists the valid names."""
    try:
        return TASKS[name]
    except KeyError:
        raise BadInputError(messages.UNKNOWN_TASK.format(task=name, choices=", ".join(TASKS))) from None


def prompt_and_label(task: str, typed: str) -> tuple[str, str]:
    """What to ask the model, and what to show as the user's turn: the typed question, else the preset's prompt."""
    if typed.strip():
        return prompt_for(task, typed), typed.strip()
    preset = task_named(task)
    return preset.prompt, preset.label


def prompt_for(task: str, question: str | None) -> str:
    """The text to ask: the user's own question always wins over the preset's prompt."""
    preset = task_named(task)
    if question is not None:
        stripped = question.strip()
        if not stripped:
            raise BadInputError(messages.EMPTY_QUESTION)
        return stripped
    return preset.prompt
