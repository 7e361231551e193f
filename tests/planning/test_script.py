import pytest

from desktop_agent.errors import ScriptError
from desktop_agent.planning.actions import ACTION_ADAPTER, Click, Drag, Press, Scroll, TypeText, Wait, WaitFor
from desktop_agent.planning.planner import DirectPlanner, PlanContext
from desktop_agent.planning.script import parse_script


def test_every_verb_of_the_language() -> None:
    actions = parse_script(
        'click the "Save" button; double-click Report.txt\n'
        'right-click "File"; type "Zürich — 東京 ✓" into "Name"; type "a; b"\n'
        "press ctrl+shift+s; press Enter; scroll down 5 on \"Items\"; scroll up; wait 1.5; wait for \"Done\"\n"
        'drag "Item 1" to "Trash"'
    )
    assert actions[0] == Click(target={"text": 'the "Save" button'})  # type: ignore[arg-type]
    assert isinstance(actions[1], Click) and actions[1].action == "double_click"
    assert isinstance(actions[2], Click) and actions[2].action == "right_click"
    assert isinstance(actions[3], TypeText) and actions[3].text == "Zürich — 東京 ✓"
    assert actions[3].into is not None and actions[3].into.text == '"Name"'
    assert isinstance(actions[4], TypeText) and actions[4].text == "a; b" and actions[4].into is None
    assert actions[5] == Press(keys=["ctrl", "shift", "s"])
    assert actions[6] == Press(keys=["enter"])
    assert isinstance(actions[7], Scroll) and (actions[7].direction, actions[7].amount) == ("down", 5)
    assert isinstance(actions[8], Scroll) and actions[8].on is None
    assert actions[9] == Wait(seconds=1.5)
    assert isinstance(actions[10], WaitFor)
    assert isinstance(actions[11], Drag) and actions[11].dest.text == '"Trash"'


def test_actions_round_trip_through_the_schema() -> None:
    for a in parse_script('click "Save"; type "x" into "Name"; press ctrl+s; drag a to b'):
        assert ACTION_ADAPTER.validate_python(a.model_dump()) == a


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("klick Save", "step 1: unknown step 'klick'"),
        ('click "Save"; jump', "step 2: unknown step 'jump'"),
        ("type hello", "needs quoted text"),
        ("press ctrl+banana", "unknown key 'banana'"),
        ("scroll sideways", "scroll up|down"),
        ("wait soon", "wait <seconds>"),
        ("drag Save", "drag <target> to <target>"),
        ("click", "needs a target"),
        ('type "unclosed', "unclosed quote"),
        ("  ;  ", "the task is empty"),
    ],
)
def test_bad_scripts_fail_before_anything_runs(script: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message.replace("|", r"\|")):
        DirectPlanner(script)


def test_direct_planner_walks_the_script_then_finishes() -> None:
    planner = DirectPlanner('click "A"; click "B"')
    steps = [planner.next_step(PlanContext("", i, [])) for i in range(3)]
    assert [s.action.target.text for s in steps[:2] if s and isinstance(s.action, Click)] == ['"A"', '"B"']
    assert steps[2] is None
