"""Reading the smoke test's events: the steps, the summary, the report section (no child process)."""

from core.env.smoke import format_event, smoke_markdown, steps_and_summary

EVENTS = [
    {"step": "allocate", "status": "ok", "device": "cpu", "message": "512 MiB"},
    {"step": "output", "status": "", "message": "a warning torch printed"},
    {"step": "matmul check", "status": "fail", "device": "cpu", "message": "differs"},
    {"summary": True, "status": "fail", "failed": ["matmul check"]},
]


def test_steps_keep_their_order_and_the_summary_comes_apart():
    steps, summary = steps_and_summary(EVENTS)
    assert [e["step"] for e in steps] == ["allocate", "output", "matmul check"]
    assert summary == EVENTS[-1]
    assert steps_and_summary(EVENTS[:2]) == (EVENTS[:2], None)  # still running: no summary yet


def test_the_report_section_lists_every_step():
    md = smoke_markdown(EVENTS)
    assert md.startswith("\n## Smoke test\n\n") and md.endswith("\n")
    assert md.splitlines()[3:] == [f"- {format_event(e)}" for e in EVENTS[:3]]
    assert "- FAIL matmul check [cpu]: differs" in md
