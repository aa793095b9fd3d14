from __future__ import annotations

import pytest

from seeing_assistant.core import tasks
from seeing_assistant.core.errors import BadInputError


def test_the_users_question_wins_over_the_preset() -> None:
    assert tasks.prompt_for("screen", "  What is the red button?  ") == "What is the red button?"


def test_each_preset_has_its_own_prompt() -> None:
    prompts = {tasks.prompt_for(name, None) for name in tasks.TASKS}
    assert len(prompts) == len(tasks.TASKS)
    assert {"screen", "photo", "text", "caption", "question"} <= set(tasks.TASKS)
    assert "quote every legible piece of text exactly" in tasks.prompt_for("screen", None)


def test_an_empty_question_is_refused() -> None:
    with pytest.raises(BadInputError, match=r"The question is empty"):
        tasks.prompt_for("photo", "   ")


def test_an_unknown_task_lists_the_choices() -> None:
    with pytest.raises(BadInputError, match=r"There is no task called poem: choose one of screen, photo"):
        tasks.task_named("poem")
