"""Taking secrets out of a task's text, and telling secret fields by their labels."""

from __future__ import annotations

from desktop_agent.secret_fields import MASK, is_masked_text, is_secret_label, redact_task


def test_script_steps_typing_into_secret_fields_are_masked() -> None:
    assert redact_task('type "hunter2" into "Password"') == f'type "{MASK}" into "Password"'
    assert redact_task('click "Password"; type "hunter3"; click "OK"') == f'click "Password"; type "{MASK}"; click "OK"'
    assert redact_task('type "abc" into "Login token"\ntype "report" into "Name"') == \
        f'type "{MASK}" into "Login token"\ntype "report" into "Name"'
    # Typing after a click elsewhere is not secret; an escaped quote stays inside the value.
    assert redact_task('click "Name"; type "plain \\"x\\""') == 'click "Name"; type "plain \\"x\\""'
    assert redact_task('type "a\\"b" into "API key"') == f'type "{MASK}" into "API key"'


def test_secrets_said_in_plain_words_are_masked() -> None:
    assert redact_task("log in with password hunter2 and PIN: 1234") == f"log in with password {MASK} and PIN: {MASK}"
    assert redact_task('use the API key "sk-123" in settings') == f'use the API key "{MASK}" in settings'
    assert redact_task("open the password dialog") == "open the password dialog"
    assert redact_task("anything", ("thing",)) == f"any{MASK}"


def test_labels_and_masks() -> None:
    for label in ("Password", "Passphrase", "PIN", "Login token", "Client secret", "API key", "Kennwort"):
        assert is_secret_label(label), label
    for label in ("Name", "Pinned tabs", "Spinner", "Tokenizer settings", "Keyboard"):
        assert not is_secret_label(label), label
    assert is_masked_text("••••••") and is_masked_text("*****") and not is_masked_text("a••")
