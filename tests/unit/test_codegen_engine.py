"""The codegen engine without a cluster: the offline provider's plans, the rendered project and
its checks, safe paths, package names, hostile labels, and the quality score of a bad spec."""

from __future__ import annotations

import io
import zipfile

import msgspec
import pytest

from proto.codegen import AppSpec, EntitySpec, FieldSpec, RelationSpec, valid_package
from services.codegen.project.checks import kotlin_errors, quality_report
from services.codegen.project.package import package, render
from services.codegen.project.paths import ProjectFiles, UnsafePath, check_path
from services.codegen.providers.chat import _json_text
from services.codegen.providers.offline import plan_requirement
from services.codegen.spec import spec_from_plan

CAPS = (256 * 1024, 16 * 2**20)
EXAMPLE = "创建一个校园二手交易平台，支持商品发布、搜索、聊天和交易评价"


def test_the_documents_example_plans_an_entity_for_each_of_its_four() -> None:
    plan = plan_requirement(EXAMPLE)
    names = [entity.name for entity in plan.entities]
    assert {"Goods", "SearchRecord", "ChatMessage", "Review"} <= set(names)
    assert plan.app_name == "Marketplace"
    assert {"搜索", "聊天", "评价"} <= set(plan.features)
    assert plan == plan_requirement(EXAMPLE)  # deterministic


def test_english_requirements_and_unknown_domains() -> None:
    plan = plan_requirement("A library where users borrow books and write reviews")
    assert {"Book", "BorrowRecord", "User", "Review"} <= {e.name for e in plan.entities}
    assert plan.app_name == "Library"
    with pytest.raises(Exception, match="无法从需求中识别任何实体"):
        plan_requirement("量子纠缠模拟器")


def test_the_rendered_project_parses_and_scores_100() -> None:
    spec = spec_from_plan(plan_requirement(EXAMPLE), "com.example.marketplace", search=True)
    files = render(msgspec.json.encode(spec), *CAPS)
    total, bad = kotlin_errors(files)
    assert total > 30 and bad == []
    report = quality_report(spec, files)
    assert report.score == 100 and all(check.passed for check in report.checks)
    packaged = package(msgspec.json.encode(spec), files, "概述", "offline", "id-1", 100, True,
                       *CAPS)
    with zipfile.ZipFile(io.BytesIO(packaged.archive)) as archive:
        names = archive.namelist()
    assert all(name.startswith("Marketplace/") for name in names)
    assert "Marketplace/README.md" in names and packaged.preview and "商品" in packaged.preview


def test_hostile_labels_stay_text() -> None:
    hostile = '*/ fun evil() { Runtime.getRuntime().exec("rm -rf /") } /* "$x" \\ \n <script>'
    spec = AppSpec(app_name="Shop", package_name="com.example.shop", description=hostile,
                   entities=[EntitySpec(name="Item", label=hostile, fields=[
                       FieldSpec(name="title", label=hostile)])])
    files = render(msgspec.json.encode(spec), *CAPS)
    assert kotlin_errors(files)[1] == []
    # In Kotlin the text only ever sits inside a one-line KDoc comment.
    lines = [line.strip() for path, text in files.items() if path.endswith(".kt")
             for line in text.splitlines() if "fun evil" in line]
    assert lines and all(line.startswith("/**") and line.endswith("*/")
                         and line.count("*/") == 1 for line in lines)
    preview = package(msgspec.json.encode(spec), files, hostile, "offline", "x", None, True,
                      *CAPS).preview
    assert preview is not None and "<script>" not in preview


def test_a_bad_spec_loses_its_points() -> None:
    spec = AppSpec(app_name="Shop", package_name="com.example.shop", entities=[
        EntitySpec(name="Shop", fields=[FieldSpec(name="title"), FieldSpec(name="title")],
                   relations=[RelationSpec(name="owner", target="Owner")]),
        EntitySpec(name="Item", fields=[FieldSpec(name="object")])])
    report = quality_report(spec, render(msgspec.json.encode(spec), *CAPS))
    failed = {check.name for check in report.checks if not check.passed}
    assert {"relations_resolve", "endpoints_map", "names_legal", "kotlin_parses"} <= failed
    assert report.score < 70


@pytest.mark.parametrize("name", ["../../Evil", "Evil/../x", "/abs", "evil", "A.B", "A B", ""])
def test_entity_names_with_path_tricks_fail_the_schema(name: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": name}, EntitySpec)


@pytest.mark.parametrize("path", ["../x", "a/../b", "/etc/passwd", "a\\b", "a//b", "./a", "..",
                                  "a/b c", "a/" + "x" * 400])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePath):
        check_path(path)


def test_duplicates_and_sizes_are_refused() -> None:
    files = ProjectFiles(max_file_bytes=10, max_total_bytes=15)
    files.add("a/B.kt", "12345")
    with pytest.raises(UnsafePath, match="duplicate"):
        files.add("a/b.kt", "1")
    with pytest.raises(UnsafePath, match="cap"):
        files.add("c.kt", "x" * 11)
    with pytest.raises(UnsafePath, match="cap"):
        files.add("d.kt", "x" * 10 + "y")


@pytest.mark.parametrize(("name", "valid"), [
    ("com.example.shop", True), ("com.example.marketplace", True), ("org.a_b.c1", True),
    ("shop", False), ("Com.example", False), ("com..shop", False), ("com.example.class", False),
    ("com.example-shop", False), ("../etc", False), ("com.example.", False)])
def test_package_names(name: str, valid: bool) -> None:
    assert valid_package(name) is valid


def test_fenced_json_answers_are_unwrapped() -> None:
    assert _json_text('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert _json_text('{"a": 1}') == '{"a": 1}'
