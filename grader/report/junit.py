"""The report as JUnit XML: one test case per check, for CI test-result viewers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.results import CheckStatus, GradeReport


def render(report: GradeReport) -> str:
    count = {status: sum(c.status is status for c in report.checks) for status in CheckStatus}
    suite = ET.Element(
        "testsuite",
        name=f"grader.{report.exercise}",
        tests=str(len(report.checks)),
        failures=str(count[CheckStatus.FAILED]),
        errors=str(count[CheckStatus.ERROR]),
        skipped=str(count[CheckStatus.SKIPPED]),
        time=f"{report.timings.get('total', 0.0):.2f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("score", report.score),
        ("max_score", report.max_score),
        ("engine", report.engine),
        ("builder", report.builder),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"grader.{report.exercise}", name=check.id, time="0"
        )
        where = f" ({check.file}:{check.line})" if check.line else ""
        body = "\n".join(
            part for part in (check.hint and f"Hint: {check.hint}", check.details) if part
        )
        if check.status is CheckStatus.FAILED:
            ET.SubElement(case, "failure", message=check.message + where).text = body
        elif check.status is CheckStatus.ERROR:
            ET.SubElement(case, "error", message=check.message).text = body
        elif check.status is CheckStatus.SKIPPED:
            ET.SubElement(case, "skipped", message=check.message)
        else:
            ET.SubElement(
                case, "system-out"
            ).text = f"{check.message} [{check.points:g}/{check.max_points:g} points]"
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
